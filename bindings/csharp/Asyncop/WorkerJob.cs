using System;
using System.Threading;

namespace Asyncop
{
    // What a Worker's handler sees: the job, why it should stop, and the exceptions it throws to end it.
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
        // Claimed with others in one batch and not first: it waited its turn, so its stop is checked before it starts.
        internal bool Prefetched;

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

}
