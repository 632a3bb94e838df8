using System;
using System.Threading;

namespace Asyncop
{
    /// <summary>One per handler thread of a <see cref="Worker"/>: a thread that blocks in
    /// <see cref="Lease.WaitStop"/> for the job its handler thread runs and cancels the job's
    /// <see cref="WorkerJob.CancellationToken"/> the moment the library's stop signal fires (a user paused or canceled
    /// the operation, or its lease was lost), instead of at the next renewal.</summary>
    internal sealed class StopRelay
    {
        /// <summary>How long one blocking wait lasts; it also returns at once when the job's outcome is reported.</summary>
        static readonly TimeSpan Slice = TimeSpan.FromSeconds(1);
        readonly object gate = new object();
        readonly Thread thread;
        WorkerJob job;
        bool closed;

        internal StopRelay(string name)
        {
            thread = new Thread(Loop) { IsBackground = true, Name = name };
            thread.Start();
        }

        /// <summary>Relays the stop of <paramref name="next"/> until <see cref="Unwatch"/>.</summary>
        internal void Watch(WorkerJob next)
        {
            lock (gate) { job = next; Monitor.PulseAll(gate); }
        }

        /// <summary>Stops relaying (call before reporting the job's outcome).</summary>
        internal void Unwatch()
        {
            lock (gate) job = null;
        }

        /// <summary>Ends the thread (after its handler thread ended).</summary>
        internal void Close()
        {
            lock (gate) { closed = true; job = null; Monitor.PulseAll(gate); }
            thread.Join();
        }

        void Loop()
        {
            while (true)
            {
                WorkerJob current;
                lock (gate)
                {
                    while (job == null && !closed) Monitor.Wait(gate);
                    if (closed) return;
                    current = job;
                }
                LeaseStopReason reason;
                try { reason = current.Lease.WaitStop(Slice); }
                catch (ObjectDisposedException) { reason = LeaseStopReason.None; Forget(current); }
                catch (AsyncopException) { reason = LeaseStopReason.None; Forget(current); }
                if (reason == LeaseStopReason.None) continue;
                if (reason == LeaseStopReason.Pause) current.RequestStop(StopReason.Pausing);
                else if (reason == LeaseStopReason.Cancel) current.RequestStop(StopReason.Canceling);
                else current.RequestStop(StopReason.LeaseLost);
                Forget(current);
            }
        }

        void Forget(WorkerJob done)
        {
            lock (gate) if (job == done) job = null;
        }
    }
}
