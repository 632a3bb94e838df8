using System;

namespace Asyncop
{
    /// <summary>What an <see cref="AsyncOperationEvent"/> reports (the header's ASYNCOP_EVENT_* codes).</summary>
    public enum AsyncOperationEventKind
    {
        /// <summary>An operation was submitted.</summary>
        Submitted = 0,
        /// <summary>A host claimed an operation.</summary>
        Claimed = 1,
        /// <summary>A host reported an outcome.</summary>
        Outcome = 2,
        /// <summary>A user action changed (or deleted) an operation.</summary>
        UserAction = 3,
        /// <summary>Maintenance recovered <see cref="AsyncOperationEvent.Count"/> expired leases (Id 0).</summary>
        Recovered = 4,
        /// <summary>A purge deleted <see cref="AsyncOperationEvent.Count"/> Completed operations (Id 0).</summary>
        Purged = 5,
    }

    /// <summary>One change made through a queue, as handed to <see cref="AsyncOperationQueue.OnEvent"/>.</summary>
    public sealed class AsyncOperationEvent
    {
        /// <summary>What happened.</summary>
        public AsyncOperationEventKind Kind { get; internal set; }
        /// <summary>The operation; 0 for a batch event (Recovered, Purged).</summary>
        public long Id { get; internal set; }
        /// <summary>The operation's type; 0 for a batch event.</summary>
        public int OperationType { get; internal set; }
        /// <summary>The status before (its state is status / 10); null for a submit or a batch.</summary>
        public AsyncOperationStatus? FromStatus { get; internal set; }
        /// <summary>The status after; null for a delete, a recovery or a purge.</summary>
        public AsyncOperationStatus? ToStatus { get; internal set; }
        /// <summary>The host of a claim or an outcome, else null.</summary>
        public string Host { get; internal set; }
        /// <summary>When the change was written (UTC).</summary>
        public DateTime At { get; internal set; }
        /// <summary>1, or how many operations a batch event stands for.</summary>
        public long Count { get; internal set; }
    }
}
