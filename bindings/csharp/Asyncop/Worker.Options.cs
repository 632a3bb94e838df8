using System;
using System.Diagnostics;
using System.Net;
using System.Threading;

namespace Asyncop
{
    // The Worker's settings: the knobs of the Python worker (threads and host id in the constructor, PollWait, RenewEvery,
    // ClaimUnhandled, Prefetch, and Open for queue options), each to be set before Start.
    public sealed partial class Worker
    {
        bool claimUnhandled;
        bool ownsQueue;

        /// <summary>Opens the queue at <paramref name="path"/> (a file path or PostgreSQL URL) with
        /// <paramref name="options"/> and makes a worker that owns it: <see cref="Stop"/> (and Dispose) closes the queue
        /// after the threads ended. The Python worker's <c>Worker(path, queue_options=...)</c>.</summary>
        /// <param name="path">The queue to open, as <see cref="AsyncOperationQueue.Open"/> takes it.</param>
        /// <param name="options">The queue's options, or null for the defaults.</param>
        /// <param name="hostId">The host id, or null for <see cref="DefaultHostId"/>.</param>
        /// <param name="threads">How many handler threads (&gt;= 1).</param>
        public static Worker Open(string path, AsyncOperationQueueOptions options = null, string hostId = null, int threads = 1)
        {
            var q = AsyncOperationQueue.Open(path, options);
            try { return new Worker(q, hostId, threads) { ownsQueue = true }; }
            catch { q.Dispose(); throw; }
        }

        /// <summary>The host id a worker gets when none is given: "hostname:pid", as the Python worker's default.</summary>
        public static string DefaultHostId
        {
            get
            {
                string host;
                try { host = Dns.GetHostName(); } catch (Exception) { host = Environment.MachineName; }
                int pid;
                using (var self = Process.GetCurrentProcess()) pid = self.Id;
                return host + ":" + pid;
            }
        }

        /// <summary>The queue this worker works on.</summary>
        public AsyncOperationQueue Queue { get { return queue; } }

        /// <summary>False (the default): the worker claims only the operation types it has handlers for, and other
        /// types stay Ready for other hosts. True: it claims every type and fails the ones without a handler at once
        /// with error code 0x80044303 (<see cref="AsyncopErrorCode.TypeNotRecognized"/>,
        /// AsyncOperationTypeIsNotRecognized), as the Python worker's <c>claim_unhandled=True</c>. Set before
        /// <see cref="Start"/>.</summary>
        public bool ClaimUnhandled
        {
            get { return claimUnhandled; }
            set
            {
                if (Volatile.Read(ref started) != 0) throw new InvalidOperationException("set ClaimUnhandled before Start");
                claimUnhandled = value;
            }
        }

        /// <summary>The default <see cref="Prefetch"/>.</summary>
        public const int DefaultPrefetch = 16;

        /// <summary>The host id recorded on claims.</summary>
        public string HostId { get; private set; }
        /// <summary>Jobs one claim takes at once (1..256, default <see cref="DefaultPrefetch"/>); set before
        /// <see cref="Start"/>. 1 claims one job at a time (still completing it with the next claim).</summary>
        public int Prefetch
        {
            get { return prefetch; }
            set
            {
                if (value < 1 || value > 256) throw new ArgumentOutOfRangeException("value", value, "Prefetch must be 1..256");
                if (Volatile.Read(ref started) != 0) throw new InvalidOperationException("set Prefetch before Start");
                prefetch = value;
            }
        }
        /// <summary>How long one poll waits for work (default 200 ms).</summary>
        public TimeSpan PollWait { get; set; }
        /// <summary>How often running leases are renewed: more than zero and less than the queue's lease
        /// (default a third of it). Set before <see cref="Start"/>.</summary>
        public TimeSpan RenewEvery
        {
            get { return renewEvery ?? TimeSpan.FromTicks(queue.LeaseDuration.Ticks / 3); }
            set
            {
                if (value <= TimeSpan.Zero || value >= queue.LeaseDuration)
                    throw new ArgumentOutOfRangeException("value", value, "RenewEvery must be more than zero and less than the lease (" + queue.LeaseDuration + ")");
                if (Volatile.Read(ref started) != 0) throw new InvalidOperationException("set RenewEvery before Start");
                renewEvery = value;
            }
        }
    }
}
