using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;

namespace Asyncop
{
    /// <summary>Why a running handler was asked to stop.</summary>
    public enum StopReason
    {
        /// <summary>Not asked to stop.</summary>
        None = 0,
        /// <summary>A user paused (or postponed) the operation.</summary>
        Pausing = 1,
        /// <summary>A user canceled the operation.</summary>
        Canceling = 2,
        /// <summary>The lease was lost (expired or claimed again).</summary>
        LeaseLost = 3,
        /// <summary>The worker is shutting down after its stop timeout.</summary>
        Shutdown = 4,
    }

    /// <summary>Throw from a handler when retrying cannot help: the operation ends Completed/Failed.</summary>
    public class PermanentFailureException : Exception
    {
        /// <summary>Creates the exception with a message and an error code (0 for none).</summary>
        public PermanentFailureException(string message, int errorCode = 0) : base(message) { ErrorCode = errorCode; }
        /// <summary>The error code stored with the operation.</summary>
        public int ErrorCode { get; private set; }
    }

    /// <summary>Throw from a handler for a suspend-class failure: the operation waits Suspended until a user resumes it.</summary>
    public class SuspendOperationException : Exception
    {
        /// <summary>Creates the exception with a message and an error code (0 for none).</summary>
        public SuspendOperationException(string message, int errorCode = 0) : base(message) { ErrorCode = errorCode; }
        /// <summary>The error code stored with the operation.</summary>
        public int ErrorCode { get; private set; }
    }

    /// <summary>What a handler receives: the claimed operation and a token that fires when it should stop.</summary>
    public sealed class WorkerJob
    {
        readonly CancellationTokenSource cts = new CancellationTokenSource();
        int reason;
        internal long NextRenewTicks;

        internal WorkerJob(Lease lease) { Lease = lease; }

        /// <summary>The lease; the worker reports the outcome, the handler should not.</summary>
        public Lease Lease { get; private set; }
        /// <summary>The operation id.</summary>
        public long Id { get { return Lease.Id; } }
        /// <summary>The operation's name.</summary>
        public string Name { get { return Lease.Name; } }
        /// <summary>The operation type.</summary>
        public int OperationType { get { return Lease.OperationType; } }
        /// <summary>The payload.</summary>
        public byte[] Data { get { return Lease.Data; } }
        /// <summary>1 for the first run, more after retries.</summary>
        public int Attempt { get { return Lease.Attempt; } }
        /// <summary>Fires when a user pauses or cancels the operation, the lease is lost, or the worker shuts down.</summary>
        public CancellationToken CancellationToken { get { return cts.Token; } }
        /// <summary>Why the token fired, or None.</summary>
        public StopReason StopReason { get { return (StopReason)Volatile.Read(ref reason); } }

        /// <summary>Reports progress (0..100, an optional short text) for Retrieve to show; see <see cref="Asyncop.Lease.Progress"/>.
        /// A pause or cancel request it learns of fires <see cref="CancellationToken"/>, as a renewal would; a lost lease fires
        /// it too and returns null instead of throwing.</summary>
        public AsyncOperationStatus? Progress(int percent, string text = null, bool durable = false)
        {
            AsyncOperationStatus s;
            try { s = Lease.Progress(percent, text, durable); }
            catch (AsyncopLeaseLostException) { RequestStop(StopReason.LeaseLost); return null; }
            if (s == AsyncOperationStatus.Pausing) RequestStop(StopReason.Pausing);
            else if (s == AsyncOperationStatus.Canceling) RequestStop(StopReason.Canceling);
            return s;
        }

        internal void RequestStop(StopReason why)
        {
            if (why == StopReason.Canceling) Volatile.Write(ref reason, (int)why);
            else Interlocked.CompareExchange(ref reason, (int)why, 0);
            try { cts.Cancel(); } catch (AggregateException) { }
        }

        internal void DisposeToken() { cts.Dispose(); }
    }

    /// <summary>A handler's failed attempt, after the worker reported it (<see cref="Worker.AttemptFailed"/>).</summary>
    public sealed class AttemptFailedEventArgs : EventArgs
    {
        internal AttemptFailedEventArgs(WorkerJob job, Exception exception, AsyncOperationStatus status)
        {
            Job = job; Exception = exception; Status = status;
        }
        /// <summary>The job whose handler threw.</summary>
        public WorkerJob Job { get; private set; }
        /// <summary>What the handler threw; its ToString() is stored as the attempt's detail.</summary>
        public Exception Exception { get; private set; }
        /// <summary>The operation's status after the report: Waiting for a retry, Failed for a final failure.</summary>
        public AsyncOperationStatus Status { get; private set; }
        /// <summary>True when the operation failed for good (a permanent failure, or a retry with the budget spent).</summary>
        public bool IsFinal { get { return Status == AsyncOperationStatus.Failed; } }
    }

    /// <summary>Runs a handler per operation type on N threads, renewing leases in the background.</summary>
    /// <remarks>A Pause, Postpone or Cancel of a running operation (or the loss of its lease) cancels the job's
    /// <see cref="WorkerJob.CancellationToken"/> at once: the library learns it through the queue's change signal
    /// (about a millisecond in one process, a few across processes), not at the next renewal; each handler thread has
    /// a companion thread that waits in the library for it. A handler that returns has succeeded; one that throws <see cref="OperationCanceledException"/> after a
    /// Pause or Cancel request acknowledges it; <see cref="PermanentFailureException"/> fails the operation,
    /// <see cref="SuspendOperationException"/> suspends it, any other exception is a retryable failure. A handler's result
    /// (byte[] as is, string as UTF-8, null nothing) is stored as the operation's Output; one over
    /// <see cref="AsyncOperationQueue.OutputMaxBytes"/> is dropped (counted in <see cref="Errors"/>) and the operation completes
    /// without it. A failed attempt stores the exception's ToString() as its detail (AsyncOperationQueue.Attempts) and
    /// raises <see cref="AttemptFailed"/>.</remarks>
    public sealed class Worker : IDisposable
    {
        readonly AsyncOperationQueue queue;
        readonly Dictionary<int, Func<WorkerJob, byte[]>> handlers = new Dictionary<int, Func<WorkerJob, byte[]>>();
        readonly List<WorkerJob> active = new List<WorkerJob>();
        readonly List<Thread> threads = new List<Thread>();
        readonly List<StopRelay> relays = new List<StopRelay>();
        readonly ManualResetEvent stopping = new ManualResetEvent(false);
        readonly int threadCount;
        Thread renewer;
        TimeSpan? renewEvery;
        int started;
        long processed;
        long errors;

        /// <summary>Creates a worker; register handlers, then <see cref="Start"/>.</summary>
        /// <param name="queue">The queue to work on (not owned).</param>
        /// <param name="hostId">The host id recorded on claims (non-empty).</param>
        /// <param name="threads">How many handler threads (&gt;= 1).</param>
        public Worker(AsyncOperationQueue queue, string hostId, int threads = 1)
        {
            if (queue == null) throw new ArgumentNullException("queue");
            Interop.Utf8z(hostId, "hostId");
            if (hostId.Length == 0) throw new ArgumentException("the host id is empty", "hostId");
            if (threads < 1) throw new ArgumentOutOfRangeException("threads", threads, "at least one thread");
            this.queue = queue;
            HostId = hostId;
            threadCount = threads;
            PollWait = TimeSpan.FromMilliseconds(200);
        }

        /// <summary>The host id recorded on claims.</summary>
        public string HostId { get; private set; }
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
        /// <summary>Operations this worker reported an outcome for.</summary>
        public long Processed { get { return Interlocked.Read(ref processed); } }
        /// <summary>Unexpected errors met by the worker loops (polls, outcome calls).</summary>
        public long Errors { get { return Interlocked.Read(ref errors); } }

        /// <summary>Raised on a handler thread after a handler's exception was reported as a failed attempt (retry or
        /// final failure), with the exception: log it here. An exception thrown by a subscriber is swallowed (counted in
        /// <see cref="Errors"/>).</summary>
        public event EventHandler<AttemptFailedEventArgs> AttemptFailed;

        /// <summary>Registers the handler for one operation type (before <see cref="Start"/>).</summary>
        public void Register(int operationType, Action<WorkerJob> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job => { handler(job); return (byte[])null; });
        }

        /// <summary>Registers a handler whose result is stored as the operation's Output as UTF-8 (null stores none).</summary>
        public void RegisterWithResult(int operationType, Func<WorkerJob, string> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job => { var s = handler(job); return s == null ? null : Encoding.UTF8.GetBytes(s); });
        }

        /// <summary>Registers a handler whose result is stored as the operation's Output (null stores none).</summary>
        public void RegisterWithResult(int operationType, Func<WorkerJob, byte[]> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, handler);
        }

        void Add(int operationType, Func<WorkerJob, byte[]> handler)
        {
            if (operationType <= 0) throw new ArgumentOutOfRangeException("operationType", operationType, "operation types are > 0");
            if (Volatile.Read(ref started) != 0) throw new InvalidOperationException("register handlers before Start");
            handlers[operationType] = handler;
        }

        /// <summary>Starts the handler threads and the renewal thread.</summary>
        public void Start()
        {
            if (handlers.Count == 0) throw new InvalidOperationException("no handler registered");
            if (Interlocked.Exchange(ref started, 1) != 0) throw new InvalidOperationException("already started");
            var types = new List<int>(handlers.Keys).ToArray();
            for (int i = 0; i < threadCount; i++)
            {
                var relay = new StopRelay("asyncop-stop-" + i);
                relays.Add(relay);
                var t = new Thread(() => Loop(types, relay)) { IsBackground = true, Name = "asyncop-worker-" + i };
                threads.Add(t);
                t.Start();
            }
            renewer = new Thread(RenewLoop) { IsBackground = true, Name = "asyncop-renewer" };
            renewer.Start();
        }

        /// <summary>Stops polling, lets running handlers finish for up to <paramref name="timeout"/>, then asks them to stop.</summary>
        public void Stop(TimeSpan? timeout = null)
        {
            stopping.Set();
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
            foreach (var t in threads)
            {
                var left = deadline - DateTime.UtcNow;
                if (!t.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                {
                    lock (active) foreach (var j in active) j.RequestStop(StopReason.Shutdown);
                    t.Join();
                }
            }
            if (renewer != null) renewer.Join();
            foreach (var relay in relays) relay.Close();
            relays.Clear();
        }

        /// <summary>Stops the worker (see <see cref="Stop"/>); the queue stays open.</summary>
        public void Dispose()
        {
            Stop();
        }

        void Loop(int[] types, StopRelay relay)
        {
            while (!stopping.WaitOne(0))
            {
                IList<Lease> leases;
                try { leases = queue.Poll(HostId, 1, PollWait, types); }
                catch (ObjectDisposedException) { return; }
                catch (AsyncopBusyException) { Interlocked.Increment(ref errors); Thread.Sleep(10); continue; }
                catch (AsyncopException) { Interlocked.Increment(ref errors); Thread.Sleep(50); continue; }
                foreach (var lease in leases) Run(lease, relay);
            }
        }

        void Run(Lease lease, StopRelay relay)
        {
            var job = new WorkerJob(lease);
            job.NextRenewTicks = DateTime.UtcNow.Ticks + RenewEvery.Ticks;
            lock (active) active.Add(job);
            try
            {
                Func<WorkerJob, byte[]> handler;
                if (!handlers.TryGetValue(lease.OperationType, out handler))
                {
                    Report(() => lease.Fail((int)AsyncopErrorCode.TypeNotRecognized, "no handler for operation type " + lease.OperationType));
                    return;
                }
                Exception error = null;
                relay.Watch(job);
                byte[] output = null;
                try { output = handler(job); }
                catch (Exception e) { error = e; }
                relay.Unwatch();
                lock (active) active.Remove(job);
                if (error == null) Report(() => CompleteWith(lease, output));
                else if (error is OperationCanceledException && job.StopReason == StopReason.Canceling) Report(() => lease.AcknowledgeCancel());
                else if (error is OperationCanceledException && job.StopReason == StopReason.Pausing) Report(() => lease.AcknowledgePause());
                else if (error is OperationCanceledException && job.StopReason == StopReason.LeaseLost) { }
                else if (error is PermanentFailureException)
                    Failed(job, error, () => lease.Fail(((PermanentFailureException)error).ErrorCode, error.Message, Detail(error)));
                else if (error is SuspendOperationException) Report(() => lease.Suspend(((SuspendOperationException)error).ErrorCode, error.Message));
                else Failed(job, error, () => lease.Retry(error.HResult, error.GetType().Name + ": " + error.Message, null, Detail(error)));
            }
            finally
            {
                relay.Unwatch();
                lock (active) active.Remove(job);
                try { lease.Dispose(); } catch (Exception) { }
                job.DisposeToken();
            }
        }

        AsyncOperationStatus? Report(Func<AsyncOperationStatus> outcome)
        {
            try { var s = outcome(); Interlocked.Increment(ref processed); return s; }
            catch (AsyncopLeaseLostException) { }
            catch (ObjectDisposedException) { }
            catch (AsyncopException) { Interlocked.Increment(ref errors); }
            return null;
        }

        AsyncOperationStatus CompleteWith(Lease lease, byte[] output)
        {
            if (output == null) return lease.Complete();
            try { return lease.Complete(output); }
            catch (AsyncopInvalidArgumentException) { Interlocked.Increment(ref errors); return lease.Complete(); }
        }

        // Reports a failed attempt, then tells the AttemptFailed subscribers.
        void Failed(WorkerJob job, Exception error, Func<AsyncOperationStatus> outcome)
        {
            var status = Report(outcome);
            var subscribers = AttemptFailed;
            if (status == null || subscribers == null) return;
            try { subscribers(this, new AttemptFailedEventArgs(job, error, status.Value)); }
            catch (Exception) { Interlocked.Increment(ref errors); }
        }

        // The exception as a storable detail (NULs escaped: the ABI takes NUL-terminated text).
        static string Detail(Exception error)
        {
            string text;
            try { text = error.ToString(); } catch (Exception) { text = error.GetType().FullName; }
            return text.Replace("\0", "\\0");
        }

        void RenewLoop()
        {
            long renewEvery = RenewEvery.Ticks;
            int sleepMs = (int)Math.Max(10, Math.Min(1000, TimeSpan.FromTicks(renewEvery).TotalMilliseconds / 4));
            while (true)
            {
                bool stop = stopping.WaitOne(sleepMs);
                WorkerJob[] jobs;
                lock (active) jobs = active.ToArray();
                if (stop && jobs.Length == 0)
                {
                    bool alive = false;
                    foreach (var t in threads) alive |= t.IsAlive;
                    if (!alive) return;
                }
                long now = DateTime.UtcNow.Ticks;
                foreach (var job in jobs)
                {
                    if (now < job.NextRenewTicks) continue;
                    job.NextRenewTicks = now + renewEvery;
                    try
                    {
                        var s = job.Lease.Renew();
                        if (s == AsyncOperationStatus.Pausing) job.RequestStop(StopReason.Pausing);
                        else if (s == AsyncOperationStatus.Canceling) job.RequestStop(StopReason.Canceling);
                    }
                    catch (AsyncopLeaseLostException) { job.RequestStop(StopReason.LeaseLost); }
                    catch (ObjectDisposedException) { }
                    catch (AsyncopException) { Interlocked.Increment(ref errors); }
                }
            }
        }
    }
}
