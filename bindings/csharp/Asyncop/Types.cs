using System;
using System.Collections.Generic;

namespace Asyncop
{
    // AsyncOperationState, AsyncOperationStatus and Durability are generated into Codes.g.cs
    // by scripts/gen-bindings from include/asyncop.h.

    /// <summary>Options for <see cref="AsyncOperationQueue.Open(string, AsyncOperationQueueOptions)"/>; unset values keep the defaults (queue-wide ones: what the file has).</summary>
    public sealed class AsyncOperationQueueOptions
    {
        /// <summary>Durability of writes (default Full).</summary>
        public Durability? Durability { get; set; }
        /// <summary>Lease length of claims (default 30 s); renew every third of it.</summary>
        public TimeSpan? LeaseDuration { get; set; }
        /// <summary>How long a write waits for the write lock (default 5 s).</summary>
        public TimeSpan? BusyTimeout { get; set; }
        /// <summary>Queue-wide restricted operation types (Cancel/Pause/Resume refused); empty for none.</summary>
        public int[] RestrictedTypes { get; set; }
        /// <summary>Queue-wide retry budget in attempts, at least 1.</summary>
        public int? MaxAttempts { get; set; }
        /// <summary>Queue-wide first retry back-off (doubles each retry); set together with <see cref="BackoffCap"/>.</summary>
        public TimeSpan? BackoffBase { get; set; }
        /// <summary>Queue-wide maximum retry back-off.</summary>
        public TimeSpan? BackoffCap { get; set; }
        /// <summary>Queue-wide: let Delete remove operations in any state.</summary>
        public bool? AllowDeleteAny { get; set; }
        /// <summary>Queue-wide payload limit in bytes, 1 up to <see cref="AsyncOperationQueue.MaxPayloadBytesCeiling"/>
        /// (512 MiB); null keeps what the file has (<see cref="AsyncOperationQueue.DefaultMaxPayloadBytes"/>, 16 MiB, on a new
        /// file). A submit with longer data throws <see cref="AsyncopInvalidArgumentException"/> and writes nothing. Written
        /// into the file for every process; out of range, <see cref="AsyncOperationQueue.Open"/> throws
        /// <see cref="AsyncopInvalidArgumentException"/>.</summary>
        public long? MaxPayloadBytes { get; set; }
        /// <summary>Permission bits of a queue file this open creates (and of its -wal and -shm): null or 0600 (owner only,
        /// the default) up to 0660 (shared with the file's group). It must include 0600 and have no bits outside 0660, else
        /// <see cref="AsyncOperationQueue.Open"/> throws <see cref="AsyncopInvalidArgumentException"/>. An existing file
        /// keeps its mode. C# has no octal literals: write <c>Convert.ToInt32("640", 8)</c> or 416.</summary>
        public int? FileMode { get; set; }
        /// <summary>Queue-wide: whether polls purge expired Completed operations at most hourly (default true).</summary>
        public bool? CleanupEnabled { get; set; }
        /// <summary>Queue-wide: how long Succeeded operations are kept (default 30 days);
        /// <see cref="AsyncOperationQueue.RetentionNone"/> keeps them forever.</summary>
        public TimeSpan? RetentionSucceeded { get; set; }
        /// <summary>Queue-wide: how long Failed operations are kept (default 60 days);
        /// <see cref="AsyncOperationQueue.RetentionNone"/> keeps them forever.</summary>
        public TimeSpan? RetentionFailed { get; set; }
        /// <summary>Queue-wide: how long Canceled operations are kept (default 60 days);
        /// <see cref="AsyncOperationQueue.RetentionNone"/> keeps them forever.</summary>
        public TimeSpan? RetentionCanceled { get; set; }
        /// <summary>Queue-wide: operation types whose one-shot successes are deleted at once instead of kept
        /// (empty for none).</summary>
        public int[] AutoDeleteTypes { get; set; }
        /// <summary>Queue-wide operation types whose series may get a new pattern with
        /// <see cref="AsyncOperationQueue.SetRecurrence"/>; null keeps what the queue has (none on a new queue), empty for none.</summary>
        public int[] RecurrenceUpdatableTypes { get; set; }
    }

    /// <summary>A description of one operation for <see cref="AsyncOperationQueue.SubmitMany"/>.</summary>
    public sealed class AsyncOperationSpec
    {
        /// <summary>Creates a spec with a name and an operation type.</summary>
        public AsyncOperationSpec(string name, int operationType)
        {
            Name = name;
            OperationType = operationType;
        }
        /// <summary>The name (at most 256 characters).</summary>
        public string Name { get; set; }
        /// <summary>The operation type (&gt; 0).</summary>
        public int OperationType { get; set; }
        /// <summary>The payload, or null for none.</summary>
        public byte[] Data { get; set; }
        /// <summary>Operations with the same token run one at a time, in creation order.</summary>
        public string DependencyToken { get; set; }
        /// <summary>A future time creates the operation Suspended until then.</summary>
        public DateTime? PostponeUntil { get; set; }
        /// <summary>A correlation id, or null.</summary>
        public string CorrelationId { get; set; }
        /// <summary>A recurrence pattern ("FREQ=MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY;INTERVAL=n", e.g. "FREQ=DAILY;")
        /// makes it a recurring series: one row that runs at each occurrence; null for one-shot.</summary>
        public string Recurrence { get; set; }
        /// <summary>The first occurrence of a series (null: the time of the submit). Only with <see cref="Recurrence"/>.</summary>
        public DateTime? RecurrenceStart { get; set; }
    }

    /// <summary>Filters for <see cref="AsyncOperationQueue.Query"/>; null fields match everything.</summary>
    public sealed class AsyncOperationQuery
    {
        /// <summary>Only this state.</summary>
        public AsyncOperationState? State { get; set; }
        /// <summary>Only this status.</summary>
        public AsyncOperationStatus? Status { get; set; }
        /// <summary>Only this operation type.</summary>
        public int? OperationType { get; set; }
        /// <summary>Only this exact name.</summary>
        public string Name { get; set; }
        /// <summary>Only this exact dependency token.</summary>
        public string DependencyToken { get; set; }
        /// <summary>Only this exact correlation id.</summary>
        public string CorrelationId { get; set; }
        /// <summary>Only names that start with this text (case-sensitive, no wildcards; "" for all).</summary>
        public string NamePrefix { get; set; }
        /// <summary>Only operations completed before this time.</summary>
        public DateTime? CompletedBefore { get; set; }
        /// <summary>Only ids greater than this (0 for all).</summary>
        public long AfterId { get; set; }
        /// <summary>At most this many (null for no limit).</summary>
        public long? Limit { get; set; }
        /// <summary>Skip this many.</summary>
        public long Offset { get; set; }
    }

    /// <summary>One row of <see cref="AsyncOperationQueue.Counts"/>.</summary>
    public sealed class AsyncOperationCount
    {
        internal AsyncOperationCount(AsyncOperationState state, AsyncOperationStatus status, int operationType, long count, bool held)
        {
            StateCode = state; StatusCode = status; OperationType = operationType; Count = count; Held = held;
        }
        /// <summary>The state.</summary>
        public AsyncOperationState StateCode { get; private set; }
        /// <summary>The status.</summary>
        public AsyncOperationStatus StatusCode { get; private set; }
        /// <summary>The operation type.</summary>
        public int OperationType { get; private set; }
        /// <summary>How many operations are in this group.</summary>
        public long Count { get; private set; }
        /// <summary>Whether the type is held (<see cref="AsyncOperationQueue.HoldType"/>): claims skip it.</summary>
        public bool Held { get; private set; }
        /// <summary>A readable form.</summary>
        public override string ToString() { return string.Format("{0}/{1} type {2}: {3}", StateCode, StatusCode, OperationType, Count); }
    }

    /// <summary>What one maintenance pass did.</summary>
    public sealed class MaintenanceResult
    {
        internal MaintenanceResult(long recovered, long poisoned, long promoted) { Recovered = recovered; Poisoned = poisoned; Promoted = promoted; }
        /// <summary>Expired leases returned to Ready or Suspended.</summary>
        public long Recovered { get; private set; }
        /// <summary>Expired leases ended as Failed or Canceled.</summary>
        public long Poisoned { get; private set; }
        /// <summary>Suspended operations whose postpone time was due, made Ready.</summary>
        public long Promoted { get; private set; }
    }

    /// <summary>An immutable snapshot of one asynchronous operation (the SDK's AsyncOperation entity).</summary>
    public sealed class AsyncOperation
    {
        /// <summary>The id (asyncoperationid; &gt; 0, never reused).</summary>
        public long Id { get; private set; }
        /// <summary>The name.</summary>
        public string Name { get; private set; }
        /// <summary>The operation type.</summary>
        public int OperationType { get; private set; }
        /// <summary>The state code.</summary>
        public AsyncOperationState StateCode { get; private set; }
        /// <summary>The status code.</summary>
        public AsyncOperationStatus StatusCode { get; private set; }
        /// <summary>The payload (a copy each time it is read).</summary>
        public byte[] Data { get { return (byte[])data.Clone(); } }
        /// <summary>The dependency token, or null.</summary>
        public string DependencyToken { get; private set; }
        /// <summary>Earliest time it may become Ready (UTC), or null.</summary>
        public DateTime? PostponeUntil { get; private set; }
        /// <summary>The host holding it (while Locked), or null.</summary>
        public string HostId { get; private set; }
        /// <summary>When the current lease ends (UTC; while Locked), or null.</summary>
        public DateTime? LeaseExpiresAt { get; private set; }
        /// <summary>The fencing token: 0 before the first claim, + 1 on every claim.</summary>
        public long LockToken { get; private set; }
        /// <summary>Attempts that ended in Retry or a lease expiry.</summary>
        public int RetryCount { get; private set; }
        /// <summary>Code of the last failure (an HRESULT or an asyncop code), or null.</summary>
        public int? ErrorCode { get; private set; }
        /// <summary>Technical detail of the last outcome, or null.</summary>
        public string Message { get; private set; }
        /// <summary>Text for end users from the last outcome, or null.</summary>
        public string FriendlyMessage { get; private set; }
        /// <summary>Submission time (UTC).</summary>
        public DateTime CreatedOn { get; private set; }
        /// <summary>Time of the last change (UTC).</summary>
        public DateTime ModifiedOn { get; private set; }
        /// <summary>Start of the latest attempt (UTC), or null.</summary>
        public DateTime? StartedOn { get; private set; }
        /// <summary>When it entered Completed (UTC), or null.</summary>
        public DateTime? CompletedOn { get; private set; }
        /// <summary>Length of the latest attempt, or null.</summary>
        public TimeSpan? ExecutionTimeSpan { get; private set; }
        /// <summary>The correlation id, or null.</summary>
        public string CorrelationId { get; private set; }
        /// <summary>The running (or last) attempt's progress, 0..100, as its host last reported it, or null; a claim resets it.</summary>
        public int? Progress { get; private set; }
        /// <summary>The running (or last) attempt's short progress text, or null; a claim resets it.</summary>
        public string ProgressText { get; private set; }
        /// <summary>What the last completed run stored (a handler's result), or null (a copy each time it is read).</summary>
        public byte[] Output { get { return output == null ? null : (byte[])output.Clone(); } }
        /// <summary>The recurrence pattern of a series, or null for one-shot.</summary>
        public string RecurrencePattern { get; private set; }
        /// <summary>The first occurrence of a series, from which its occurrences are counted; null for one-shot.</summary>
        public DateTime? RecurrenceStart { get; private set; }

        byte[] data;
        byte[] output;

        AsyncOperation() { }

        internal static AsyncOperation FromHandle(OperationHandle h)
        {
            var o = new AsyncOperation();
            long l; int i, p;
            Interop.Check(NativeMethods.asyncop_operation_id(h, out l)); o.Id = l;
            Interop.Check(NativeMethods.asyncop_operation_operation_type(h, out i)); o.OperationType = i;
            Interop.Check(NativeMethods.asyncop_operation_state(h, out i)); o.StateCode = (AsyncOperationState)i;
            Interop.Check(NativeMethods.asyncop_operation_status(h, out i)); o.StatusCode = (AsyncOperationStatus)i;
            Interop.Check(NativeMethods.asyncop_operation_lock_token(h, out l)); o.LockToken = l;
            Interop.Check(NativeMethods.asyncop_operation_retry_count(h, out i)); o.RetryCount = i;
            Interop.Check(NativeMethods.asyncop_operation_created_on(h, out l)); o.CreatedOn = Interop.FromMs(l);
            Interop.Check(NativeMethods.asyncop_operation_modified_on(h, out l)); o.ModifiedOn = Interop.FromMs(l);
            Interop.Check(NativeMethods.asyncop_operation_postpone_until(h, out l, out p)); o.PostponeUntil = Interop.FromMs(l, p);
            Interop.Check(NativeMethods.asyncop_operation_lease_expires_at(h, out l, out p)); o.LeaseExpiresAt = Interop.FromMs(l, p);
            Interop.Check(NativeMethods.asyncop_operation_error_code(h, out i, out p)); o.ErrorCode = p != 0 ? (int?)i : null;
            Interop.Check(NativeMethods.asyncop_operation_started_on(h, out l, out p)); o.StartedOn = Interop.FromMs(l, p);
            Interop.Check(NativeMethods.asyncop_operation_completed_on(h, out l, out p)); o.CompletedOn = Interop.FromMs(l, p);
            Interop.Check(NativeMethods.asyncop_operation_execution_time_span(h, out l, out p)); o.ExecutionTimeSpan = p != 0 ? (TimeSpan?)TimeSpan.FromMilliseconds(l) : null;
            o.Name = Interop.ReadText((byte[] b, UIntPtr c, out UIntPtr n) => NativeMethods.asyncop_operation_name(h, b, c, out n));
            o.data = Interop.ReadBytes((byte[] b, UIntPtr c, out UIntPtr n) => NativeMethods.asyncop_operation_data(h, b, c, out n));
            o.DependencyToken = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_dependency_token(h, b, c, out n, out pr));
            o.HostId = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_host_id(h, b, c, out n, out pr));
            o.Message = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_message(h, b, c, out n, out pr));
            o.FriendlyMessage = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_friendly_message(h, b, c, out n, out pr));
            o.CorrelationId = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_correlation_id(h, b, c, out n, out pr));
            Interop.Check(NativeMethods.asyncop_operation_progress(h, out i, out p)); o.Progress = p != 0 ? (int?)i : null;
            o.ProgressText = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_progress_text(h, b, c, out n, out pr));
            int present;
            int rc = NativeMethods.asyncop_operation_output(h, null, UIntPtr.Zero, out _, out present);
            if (rc != (int)AsyncopErrorCode.BufferTooSmall) Interop.Check(rc);
            if (present != 0)
                o.output = Interop.ReadBytes((byte[] b, UIntPtr c, out UIntPtr n) => NativeMethods.asyncop_operation_output(h, b, c, out n, out present));
            o.RecurrencePattern = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int pr) => NativeMethods.asyncop_operation_recurrence_pattern(h, b, c, out n, out pr));
            Interop.Check(NativeMethods.asyncop_operation_recurrence_start(h, out l, out p)); o.RecurrenceStart = Interop.FromMs(l, p);
            return o;
        }

        /// <summary>A readable form.</summary>
        public override string ToString()
        {
            return string.Format("AsyncOperation {0} '{1}' type {2} {3}/{4}", Id, Name, OperationType, StateCode, StatusCode);
        }
    }
}
