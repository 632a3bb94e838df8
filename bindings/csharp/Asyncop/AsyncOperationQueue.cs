using System;
using System.Collections.Generic;

namespace Asyncop
{
    /// <summary>A durable queue of asynchronous operations in one SQLite file, shared by threads and processes.</summary>
    /// <remarks>Thread-safe: one instance may be used by any number of threads, and disposed from any thread.</remarks>
    public sealed partial class AsyncOperationQueue : IDisposable
    {
        readonly QueueHandle handle;
        readonly TimeSpan leaseDuration;
        // SafeHandle.Dispose only marks the handle disposed: new calls could still AddRef it while
        // others are in flight, so a busy queue would never close. This flag stops new calls.
        volatile bool disposed;

        AsyncOperationQueue(QueueHandle handle, string path, TimeSpan leaseDuration)
        {
            this.handle = handle;
            Path = path;
            this.leaseDuration = leaseDuration;
        }

        /// <summary>The largest <c>max</c> of <see cref="Poll"/> (the header's ASYNCOP_POLL_MAX), the same in every language.</summary>
        public const int MaxPoll = NativeMethods.PollMax;
        /// <summary>The payload limit of a queue unless <see cref="AsyncOperationQueueOptions.MaxPayloadBytes"/> sets another
        /// (16 MiB; ASYNCOP_PAYLOAD_DEFAULT_MAX).</summary>
        public const long DefaultMaxPayloadBytes = NativeMethods.PayloadDefaultMax;
        /// <summary>The largest payload limit a queue may have (512 MiB; ASYNCOP_PAYLOAD_CEILING).</summary>
        public const long MaxPayloadBytesCeiling = NativeMethods.PayloadCeiling;
        /// <summary>The permission bits of a new queue file unless <see cref="AsyncOperationQueueOptions.FileMode"/> says
        /// otherwise: 0600 (ASYNCOP_FILE_MODE_DEFAULT).</summary>
        public const int DefaultFileMode = NativeMethods.FileModeDefault;

        /// <summary>The target the queue was opened with, as given: a file path, or a PostgreSQL URL or conninfo
        /// string, which may hold a password (do not log it).</summary>
        public string Path { get; private set; }

        /// <summary>The lease length of claims made through this queue.</summary>
        public TimeSpan LeaseDuration { get { return leaseDuration; } }

        internal QueueHandle Handle
        {
            get
            {
                ThrowIfDisposed();
                return handle;
            }
        }

        void ThrowIfDisposed()
        {
            if (disposed || handle.IsClosed) throw new ObjectDisposedException(typeof(AsyncOperationQueue).Name);
        }

        /// <summary>Opens or creates the queue file at <paramref name="path"/>.</summary>
        /// <param name="path">A file path (not "" nor ":memory:").</param>
        /// <param name="options">Options, or null for the defaults.</param>
        /// <exception cref="AsyncopInvalidArgumentException">An option is out of range (e.g. MaxPayloadBytes, FileMode).</exception>
        /// <exception cref="AsyncopCorruptException">The file is not an asyncop database (it is left untouched).</exception>
        public static AsyncOperationQueue Open(string path, AsyncOperationQueueOptions options = null)
        {
            byte[] p = Interop.Utf8z(path, "path");
            Interop.EnsureLoaded();
            TimeSpan lease = TimeSpan.FromMilliseconds(30000);
            OptionsHandle opts = null;
            try
            {
                if (options != null)
                {
                    if (options.Durability.HasValue && !Enum.IsDefined(typeof(Durability), options.Durability.Value))
                        throw new ArgumentOutOfRangeException("options", options.Durability.Value, "unknown durability");
                    if ((options.BackoffBase.HasValue) != (options.BackoffCap.HasValue))
                        throw new ArgumentException("set BackoffBase and BackoffCap together", "options");
                    Interop.Check(NativeMethods.asyncop_options_new(out opts));
                    if (options.Durability.HasValue) Interop.Check(NativeMethods.asyncop_options_set_durability(opts, (int)options.Durability.Value));
                    if (options.BusyTimeout.HasValue) Interop.Check(NativeMethods.asyncop_options_set_busy_timeout_ms(opts, Interop.DurationMs(options.BusyTimeout.Value, "BusyTimeout")));
                    if (options.LeaseDuration.HasValue)
                    {
                        long leaseMs = Interop.DurationMs(options.LeaseDuration.Value, "LeaseDuration");
                        Interop.Check(NativeMethods.asyncop_options_set_lease_ms(opts, leaseMs));
                        lease = TimeSpan.FromMilliseconds(leaseMs); // what the library uses, as Python's Queue.lease
                    }
                    if (options.RestrictedTypes != null)
                    {
                        int[] t = (int[])options.RestrictedTypes.Clone();
                        Interop.Check(NativeMethods.asyncop_options_set_restricted_types(opts, t, new UIntPtr((uint)t.Length)));
                    }
                    if (options.RecurrenceUpdatableTypes != null)
                    {
                        int[] t = (int[])options.RecurrenceUpdatableTypes.Clone();
                        Interop.Check(NativeMethods.asyncop_options_set_recurrence_updatable_types(opts, t, new UIntPtr((uint)t.Length)));
                    }
                    if (options.MaxAttempts.HasValue) Interop.Check(NativeMethods.asyncop_options_set_max_attempts(opts, options.MaxAttempts.Value));
                    if (options.BackoffBase.HasValue)
                        Interop.Check(NativeMethods.asyncop_options_set_backoff_ms(opts, Interop.DurationMs(options.BackoffBase.Value, "BackoffBase"), Interop.DurationMs(options.BackoffCap.Value, "BackoffCap")));
                    if (options.AllowDeleteAny.HasValue) Interop.Check(NativeMethods.asyncop_options_set_allow_delete_any(opts, options.AllowDeleteAny.Value ? 1 : 0));
                    // The ranges are the library's: its setters refuse with INVALID_ARG. A negative value is out of range too.
                    if (options.MaxPayloadBytes.HasValue)
                        Interop.Check(NativeMethods.asyncop_options_set_max_payload_bytes(opts, options.MaxPayloadBytes.Value < 0 ? 0UL : (ulong)options.MaxPayloadBytes.Value));
                    if (options.FileMode.HasValue)
                        Interop.Check(NativeMethods.asyncop_options_set_file_mode(opts, options.FileMode.Value < 0 ? uint.MaxValue : (uint)options.FileMode.Value));
                    SetCleanupOptions(opts, options);
                }
                QueueHandle q;
                int rc = NativeMethods.asyncop_queue_open(p, opts ?? new OptionsHandle(), out q);
                Interop.Check(rc);
                return new AsyncOperationQueue(q, path, lease);
            }
            finally
            {
                if (opts != null) opts.Dispose();
            }
        }

        /// <summary>Closes the queue. Later calls throw <see cref="ObjectDisposedException"/>; calls in flight finish first. Calling it twice is harmless.</summary>
        public void Dispose()
        {
            disposed = true;
            handle.Dispose();
        }

        /// <summary>The library version, e.g. "0.1.0".</summary>
        public static string LibraryVersion
        {
            get { Interop.EnsureLoaded(); return Interop.PtrToUtf8(NativeMethods.asyncop_version()); }
        }

        /// <summary>The queue clock's current time (UTC).</summary>
        public DateTime Now()
        {
            long now;
            Interop.Check(NativeMethods.asyncop_queue_now(Handle, out now));
            return Interop.FromMs(now);
        }

        /// <summary>Submits one operation and returns its id once committed.</summary>
        /// <param name="name">The name (required, at most 256 characters).</param>
        /// <param name="operationType">The operation type (&gt; 0).</param>
        /// <param name="data">The payload, or null; at most the queue's payload limit (16 MiB unless
        /// <see cref="AsyncOperationQueueOptions.MaxPayloadBytes"/> set another).</param>
        /// <param name="dependencyToken">A dependency token, or null.</param>
        /// <param name="postponeUntil">A future time creates the operation Suspended until then.</param>
        /// <param name="correlationId">A correlation id, or null.</param>
        /// <param name="recurrence">A recurrence pattern ("FREQ=MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY;INTERVAL=n", e.g.
        /// "FREQ=DAILY;") makes it a recurring series: one row that runs at each occurrence and goes back to
        /// Suspended/Waiting with PostponeUntil at the next one after each successful run (missed ones are skipped);
        /// Cancel ends it, a failure ends it as Failed. Null for one-shot.</param>
        /// <param name="recurrenceStart">The first occurrence (null: now). Only with a pattern.</param>
        /// <exception cref="AsyncopInvalidArgumentException">Longer data than the queue's payload limit (the message names both
        /// sizes), or text too long; a malformed pattern, a start without a pattern, or a postpone time with one;
        /// nothing was written.</exception>
        public long Submit(string name, int operationType, byte[] data = null, string dependencyToken = null, DateTime? postponeUntil = null, string correlationId = null, string recurrence = null, DateTime? recurrenceStart = null)
        {
            if (recurrence != null || recurrenceStart.HasValue)
            {
                var spec = new AsyncOperationSpec(name, operationType)
                {
                    Data = data,
                    DependencyToken = dependencyToken,
                    PostponeUntil = postponeUntil,
                    CorrelationId = correlationId,
                    Recurrence = recurrence,
                    RecurrenceStart = recurrenceStart,
                };
                return SubmitMany(new[] { spec })[0];
            }
            byte[] n = Interop.Utf8z(name, "name");
            byte[] d = Interop.Utf8zOptional(dependencyToken, "dependencyToken");
            byte[] c = Interop.Utf8zOptional(correlationId, "correlationId");
            if (operationType <= 0) throw new ArgumentOutOfRangeException("operationType", operationType, "operation types are > 0");
            long id;
            Interop.Check(NativeMethods.asyncop_queue_submit(Handle, n, operationType, data, new UIntPtr((uint)(data == null ? 0 : data.Length)), d, Interop.ToMs(postponeUntil, "postponeUntil"), c, out id));
            return id;
        }

        /// <summary>Submits several operations in one transaction (all or none) and returns their ids in order. One spec
        /// with data over the queue's payload limit throws <see cref="AsyncopInvalidArgumentException"/> naming its index,
        /// and none is written.</summary>
        public long[] SubmitMany(IEnumerable<AsyncOperationSpec> specs)
        {
            if (specs == null) throw new ArgumentNullException("specs");
            var list = new List<AsyncOperationSpec>(specs);
            foreach (var s in list)
            {
                if (s == null) throw new ArgumentException("a spec is null", "specs");
                Interop.Utf8z(s.Name, "specs");
                Interop.Utf8zOptional(s.DependencyToken, "specs");
                Interop.Utf8zOptional(s.CorrelationId, "specs");
                Interop.Utf8zOptional(s.Recurrence, "specs");
                if (s.OperationType <= 0) throw new ArgumentOutOfRangeException("specs", s.OperationType, "operation types are > 0");
            }
            var ids = new long[list.Count];
            if (list.Count == 0) return ids;
            QueueHandle q = Handle;
            var handles = new SpecHandle[list.Count];
            var raw = new IntPtr[list.Count];
            var added = new bool[list.Count];
            try
            {
                for (int i = 0; i < list.Count; i++)
                {
                    var s = list[i];
                    Interop.Check(NativeMethods.asyncop_spec_new(Interop.Utf8z(s.Name, "specs"), s.OperationType, out handles[i]));
                    if (s.Data != null) Interop.Check(NativeMethods.asyncop_spec_set_data(handles[i], s.Data, new UIntPtr((uint)s.Data.Length)));
                    if (s.DependencyToken != null) Interop.Check(NativeMethods.asyncop_spec_set_dependency_token(handles[i], Interop.Utf8zOptional(s.DependencyToken, "specs")));
                    if (s.PostponeUntil.HasValue) Interop.Check(NativeMethods.asyncop_spec_set_postpone_until(handles[i], Interop.ToMs(s.PostponeUntil, "PostponeUntil")));
                    if (s.CorrelationId != null) Interop.Check(NativeMethods.asyncop_spec_set_correlation_id(handles[i], Interop.Utf8zOptional(s.CorrelationId, "specs")));
                    if (s.Recurrence != null || s.RecurrenceStart.HasValue)
                        Interop.Check(NativeMethods.asyncop_spec_set_recurrence(handles[i], Interop.Utf8zOptional(s.Recurrence, "specs"), Interop.ToMs(s.RecurrenceStart, "RecurrenceStart")));
                    handles[i].DangerousAddRef(ref added[i]);
                    raw[i] = handles[i].DangerousGetHandle();
                }
                Interop.Check(NativeMethods.asyncop_queue_submit_many(q, raw, new UIntPtr((uint)raw.Length), ids));
                return ids;
            }
            finally
            {
                for (int i = 0; i < handles.Length; i++)
                {
                    if (handles[i] == null) continue;
                    if (added[i]) handles[i].DangerousRelease();
                    handles[i].Dispose();
                }
            }
        }

        /// <summary>Reads one operation (the SDK's Retrieve).</summary>
        public AsyncOperation Retrieve(long id)
        {
            Interop.CheckId(id, "id");
            OperationHandle op;
            Interop.Check(NativeMethods.asyncop_queue_retrieve(Handle, id, out op));
            using (op) return AsyncOperation.FromHandle(op);
        }

        /// <summary>Lists operations matching every filter, in ascending id.</summary>
        public IList<AsyncOperation> Query(AsyncOperationQuery query = null)
        {
            var f = query ?? new AsyncOperationQuery();
            if (f.State.HasValue && !Enum.IsDefined(typeof(AsyncOperationState), f.State.Value))
                throw new ArgumentOutOfRangeException("query", f.State.Value, "unknown state");
            if (f.Status.HasValue && !Enum.IsDefined(typeof(AsyncOperationStatus), f.Status.Value))
                throw new ArgumentOutOfRangeException("query", f.Status.Value, "unknown status");
            byte[] name = Interop.Utf8zOptional(f.Name, "query");
            byte[] token = Interop.Utf8zOptional(f.DependencyToken, "query");
            byte[] correlation = Interop.Utf8zOptional(f.CorrelationId, "query");
            byte[] prefix = Interop.Utf8zOptional(f.NamePrefix, "query");
            OperationListHandle list;
            Interop.Check(NativeMethods.asyncop_queue_query(Handle,
                f.State.HasValue ? (int)f.State.Value : NativeMethods.Any,
                f.Status.HasValue ? (int)f.Status.Value : NativeMethods.Any,
                f.OperationType.HasValue ? f.OperationType.Value : NativeMethods.Any,
                name, token, correlation, prefix, Interop.ToMs(f.CompletedBefore, "CompletedBefore"), f.AfterId, f.Limit.HasValue ? f.Limit.Value : -1, f.Offset, out list));
            using (list)
            {
                UIntPtr count;
                Interop.Check(NativeMethods.asyncop_operation_list_count(list, out count));
                var result = new List<AsyncOperation>((int)count.ToUInt64());
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    OperationHandle op;
                    Interop.Check(NativeMethods.asyncop_operation_list_get(list, new UIntPtr(i), out op));
                    using (op) result.Add(AsyncOperation.FromHandle(op));
                }
                return result;
            }
        }

        /// <summary>Counts operations per (state, status, operation type), non-empty groups only.</summary>
        public IList<AsyncOperationCount> Counts()
        {
            CountsHandle counts;
            Interop.Check(NativeMethods.asyncop_queue_counts(Handle, out counts));
            using (counts)
            {
                UIntPtr n;
                Interop.Check(NativeMethods.asyncop_counts_count(counts, out n));
                var result = new List<AsyncOperationCount>();
                for (ulong i = 0; i < n.ToUInt64(); i++)
                {
                    int state, status, type, held; long c;
                    Interop.Check(NativeMethods.asyncop_counts_get(counts, new UIntPtr(i), out state, out status, out type, out c));
                    Interop.Check(NativeMethods.asyncop_counts_held(counts, new UIntPtr(i), out held));
                    result.Add(new AsyncOperationCount((AsyncOperationState)state, (AsyncOperationStatus)status, type, c, held != 0));
                }
                return result;
            }
        }

        /// <summary>Cancel: Ready or Suspended become Completed/Canceled; Locked becomes Canceling until its host stops.</summary>
        public void Cancel(long id) { Interop.CheckId(id, "id"); Interop.Check(NativeMethods.asyncop_queue_cancel(Handle, id)); }

        /// <summary>Pause: a running operation becomes Pausing until its host stops it into Suspended.</summary>
        public void Pause(long id) { Interop.CheckId(id, "id"); Interop.Check(NativeMethods.asyncop_queue_pause(Handle, id)); }

        /// <summary>Resume: Suspended becomes Ready at once.</summary>
        public void Resume(long id) { Interop.CheckId(id, "id"); Interop.Check(NativeMethods.asyncop_queue_resume(Handle, id)); }

        /// <summary>Postpone until a later time: Ready or Suspended become Suspended until then; running becomes Pausing first.</summary>
        public void Postpone(long id, DateTime until) { Interop.CheckId(id, "id"); Interop.Check(NativeMethods.asyncop_queue_postpone(Handle, id, Interop.ToMs(until, "until"))); }

        /// <summary>The design card's set_postpone_until: exactly <see cref="Postpone"/>.</summary>
        public void SetPostponeUntil(long id, DateTime until) { Interop.CheckId(id, "id"); Interop.Check(NativeMethods.asyncop_queue_set_postpone_until(Handle, id, Interop.ToMs(until, "until"))); }

        /// <summary>Delete: removes a Completed operation (any state with AllowDeleteAny).</summary>
        public void Delete(long id) { Interop.CheckId(id, "id"); Interop.Check(NativeMethods.asyncop_queue_delete(Handle, id)); }

        /// <summary>The generic state change (SetStateRequest): Ready = Resume, Suspended = Pause, Completed(/Canceled) = Cancel; others are refused.</summary>
        public void SetState(long id, AsyncOperationState state, AsyncOperationStatus? status = null)
        {
            Interop.CheckId(id, "id");
            if (!Enum.IsDefined(typeof(AsyncOperationState), state)) throw new ArgumentOutOfRangeException("state", state, "unknown state");
            if (status.HasValue && !Enum.IsDefined(typeof(AsyncOperationStatus), status.Value)) throw new ArgumentOutOfRangeException("status", status.Value, "unknown status");
            Interop.Check(NativeMethods.asyncop_queue_set_state(Handle, id, (int)state, status.HasValue ? (int)status.Value : NativeMethods.StatusNone));
        }

        /// <summary>Gives a recurring series a new pattern (the syntax of <see cref="AsyncOperationSpec.Recurrence"/>). It
        /// takes effect at the next scheduling, counted from the series' RecurrenceStart; a pending PostponeUntil stays.</summary>
        /// <exception cref="AsyncopInvalidStateChangeException">Checked in this order, its Code says which:
        /// CannotUpdateNonrecurring (0x80044168) for a one-shot operation; CannotUpdateRecurring (0x80044169) when its type
        /// is not in the queue's RecurrenceUpdatableTypes (none by default); InvalidStateChange (0x80044162) when the
        /// series is Completed.</exception>
        /// <exception cref="AsyncopInvalidArgumentException">A malformed or empty pattern (checked last).</exception>
        public void SetRecurrence(long id, string pattern)
        {
            Interop.CheckId(id, "id");
            byte[] p = Interop.Utf8z(pattern, "pattern");
            Interop.Check(NativeMethods.asyncop_queue_set_recurrence(Handle, id, p));
        }

        /// <summary>Waits until the operation is Completed or the timeout passes, and returns its latest snapshot either way.</summary>
        public AsyncOperation WaitFor(long id, TimeSpan timeout)
        {
            Interop.CheckId(id, "id");
            long ms = Interop.DurationMs(timeout, "timeout");
            OperationHandle op;
            Interop.Check(NativeMethods.asyncop_queue_wait_for(Handle, id, ms, out op));
            using (op) return AsyncOperation.FromHandle(op);
        }

        /// <summary>Checks the file's structure with SQLite's <c>PRAGMA quick_check</c> (every page and record, NOT NULL
        /// and CHECK constraints; not index contents). Returns when the file is sound. It reads the whole file, so its cost
        /// grows with the file; writers are not blocked, and nothing is repaired.</summary>
        /// <exception cref="AsyncopCorruptException">The file is damaged; the message holds the first lines of SQLite's report.</exception>
        public void CheckIntegrity()
        {
            Interop.Check(NativeMethods.asyncop_queue_check_integrity(Handle));
        }

        /// <summary>One maintenance pass: recovers expired leases and promotes due postponed operations (every poll runs it too).</summary>
        public MaintenanceResult RunMaintenance()
        {
            long a, b, c;
            Interop.Check(NativeMethods.asyncop_queue_run_maintenance(Handle, out a, out b, out c));
            return new MaintenanceResult(a, b, c);
        }
    }
}
