using System;
using System.Collections.Generic;

namespace Asyncop
{
    // The host side of AsyncOperationQueue: claiming leases (Poll) and completing them in one batch
    // (CompleteMany). The queue's life cycle, submitting, reading and user actions are in AsyncOperationQueue.cs.
    public sealed partial class AsyncOperationQueue
    {
        /// <summary>Claims up to <paramref name="max"/> Ready operations for a host, waiting up to <paramref name="wait"/> for work.</summary>
        /// <param name="hostId">The host id (non-empty).</param>
        /// <param name="max">At most this many leases, 1 to <see cref="MaxPoll"/> (65536).</param>
        /// <param name="wait">How long to wait when nothing is claimable (null: do not wait).</param>
        /// <param name="types">Only these operation types (null or empty: any).</param>
        public IList<Lease> Poll(string hostId, int max = 1, TimeSpan? wait = null, int[] types = null)
        {
            byte[] h = Interop.Utf8z(hostId, "hostId");
            if (max < 1) throw new ArgumentOutOfRangeException("max", max, "max must be >= 1");
            // Before anything is allocated: max sizes two arrays.
            if (max > MaxPoll)
                throw new AsyncopInvalidArgumentException(AsyncopErrorCode.InvalidArgument,
                    "max must be 1.." + MaxPoll + " (ASYNCOP_POLL_MAX), got " + max);
            long waitMs = wait.HasValue ? Interop.DurationMs(wait.Value, "wait") : 0;
            int[] t = types == null ? null : (int[])types.Clone();
            var raw = new IntPtr[max];
            var wrappers = new LeaseHandle[max];
            for (int i = 0; i < max; i++) wrappers[i] = new LeaseHandle();
            UIntPtr count;
            int rc = NativeMethods.asyncop_queue_poll(Handle, h, t, new UIntPtr((uint)(t == null ? 0 : t.Length)), waitMs, raw, new UIntPtr((uint)max), out count);
            int n = rc == 0 ? (int)count.ToUInt64() : 0;
            for (int i = 0; i < n; i++) wrappers[i].Adopt(raw[i]);
            for (int i = n; i < max; i++) wrappers[i].SetHandleAsInvalid();
            Interop.Check(rc);
            var result = new List<Lease>(n);
            try
            {
                for (int i = 0; i < n; i++) result.Add(new Lease(this, wrappers[i]));
            }
            catch
            {
                for (int i = 0; i < n; i++) wrappers[i].Dispose();
                throw;
            }
            return result;
        }

        /// <summary>Completes several leases of this queue at once, each as <see cref="Lease.Complete()"/> would
        /// (Completed/Succeeded), in one transaction: a lease that was lost leaves the others completed.</summary>
        /// <param name="leases">Leases polled from this queue. They stay yours: dispose them as usual.</param>
        /// <returns>One entry per lease, in order: null when it completed, else its error (returned, not thrown), usually an
        /// <see cref="AsyncopLeaseLostException"/> (the lease expired, was claimed again or was already ended; a lease listed
        /// twice completes once). The first error's message carries the library's explanation. Each completed lease is marked
        /// finished (<see cref="Lease.IsFinished"/>) as <see cref="Lease.Complete()"/> does, so disposing it reports nothing more.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="leases"/> or one of its items is null.</exception>
        /// <exception cref="ArgumentException">A lease was polled from another queue.</exception>
        /// <exception cref="ObjectDisposedException">This queue, or one of the leases, is disposed.</exception>
        /// <exception cref="AsyncopBusyException">The write lock was not obtained in time; nothing was completed (retryable).</exception>
        /// <exception cref="AsyncopException">The call failed as a whole (I/O, corrupt file, internal error); nothing was completed.</exception>
        public IReadOnlyList<AsyncopException> CompleteMany(IReadOnlyList<Lease> leases)
        {
            if (leases == null) throw new ArgumentNullException("leases");
            int n = leases.Count;
            var items = new Lease[n];
            for (int i = 0; i < n; i++)
            {
                Lease lease = leases[i];
                if (lease == null) throw new ArgumentNullException("leases", "leases[" + i + "] is null");
                if (!ReferenceEquals(lease.Queue, this))
                    throw new ArgumentException("leases[" + i + "] (operation " + lease.Id + ") was polled from another queue", "leases");
                items[i] = lease;
            }
            ThrowIfDisposed();
            var errors = new AsyncopException[n];
            if (n == 0) return Array.AsReadOnly(errors);
            var handles = new LeaseHandle[n];
            var added = new bool[n];
            var raw = new IntPtr[n];
            var codes = new int[n];
            int rc;
            string message = null;
            try
            {
                for (int i = 0; i < n; i++)
                {
                    handles[i] = items[i].LiveHandle;
                    handles[i].DangerousAddRef(ref added[i]); // no release (free) while the library uses the raw value
                    raw[i] = handles[i].DangerousGetHandle();
                }
                rc = NativeMethods.asyncop_lease_complete_many(raw, new UIntPtr((uint)n), codes);
                if (rc != 0) message = Interop.LastErrorMessage(); // before any other native call
            }
            finally
            {
                for (int i = 0; i < n; i++)
                    if (added[i]) handles[i].DangerousRelease();
            }
            if (rc != 0 && string.IsNullOrEmpty(message)) message = Interop.StatusName(rc);
            // A whole-call failure (nothing was written) sets every entry to its code, which is never
            // LEASE_LOST; otherwise the entries are per lease.
            if (rc != 0 && rc != (int)AsyncopErrorCode.LeaseLost && Array.TrueForAll(codes, c => c == rc))
                throw Errors.Create(rc, message);
            string detail = message;
            for (int i = 0; i < n; i++)
            {
                int code = codes[i];
                if (code == 0)
                {
                    items[i].MarkFinished();
                    continue;
                }
                string text = string.Format("leases[{0}] (operation {1}, lock token {2}) was not completed", i, items[i].Id, items[i].LockToken);
                if (detail != null) { text += ": " + detail; detail = null; }
                else text += " (" + Interop.StatusName(code) + ")";
                errors[i] = Errors.Create(code, text) as AsyncopException ?? new AsyncopException((AsyncopErrorCode)code, text);
            }
            return Array.AsReadOnly(errors);
        }
    }
}
