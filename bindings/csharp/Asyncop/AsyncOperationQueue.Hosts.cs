using System;
using System.Collections.Generic;

namespace Asyncop
{
    // The host side of AsyncOperationQueue: claiming leases (Poll), completing them in one batch
    // (CompleteMany), and both in one transaction (CompleteAndPoll). The queue's life cycle, submitting, reading and user actions are in AsyncOperationQueue.cs.
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
            CheckPollMax(max);
            long waitMs = wait.HasValue ? Interop.DurationMs(wait.Value, "wait") : 0;
            int[] t = types == null ? null : (int[])types.Clone();
            return ClaimInto(max, (IntPtr[] raw, out UIntPtr count) => NativeMethods.asyncop_queue_poll(Handle, h, t, new UIntPtr((uint)(t == null ? 0 : t.Length)), waitMs, raw, new UIntPtr((uint)max), out count));
        }

        // A claim's max, checked before anything is allocated (max sizes two arrays).
        static void CheckPollMax(int max)
        {
            if (max < 1) throw new ArgumentOutOfRangeException("max", max, "max must be >= 1");
            if (max > MaxPoll)
                throw new AsyncopInvalidArgumentException(AsyncopErrorCode.InvalidArgument,
                    "max must be 1.." + MaxPoll + " (ASYNCOP_POLL_MAX), got " + max);
        }

        delegate int ClaimCall(IntPtr[] raw, out UIntPtr count);

        // Runs a call that writes up to max new lease handles, and wraps them (freed again if wrapping fails).
        List<Lease> ClaimInto(int max, ClaimCall call)
        {
            var raw = new IntPtr[max];
            var wrappers = new LeaseHandle[max];
            for (int i = 0; i < max; i++) wrappers[i] = new LeaseHandle();
            UIntPtr count;
            int rc = call(raw, out count);
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
            Lease[] items = BatchOf(leases);
            ThrowIfDisposed();
            int n = items.Length;
            if (n == 0) return Array.AsReadOnly(new AsyncopException[0]);
            var codes = new int[n];
            string message = null;
            int rc = WithRawLeases(items, raw =>
            {
                int r = NativeMethods.asyncop_lease_complete_many(raw, new UIntPtr((uint)n), codes);
                if (r != 0) message = Interop.LastErrorMessage(); // before any other native call
                return r;
            });
            if (rc != 0 && string.IsNullOrEmpty(message)) message = Interop.StatusName(rc);
            // A whole-call failure (nothing was written) sets every entry to its code, which is never
            // LEASE_LOST; otherwise the entries are per lease.
            if (rc != 0 && rc != (int)AsyncopErrorCode.LeaseLost && Array.TrueForAll(codes, c => c == rc))
                throw Errors.Create(rc, message);
            return BatchErrors(items, codes, message);
        }

        /// <summary>Completes <paramref name="leases"/> as <see cref="CompleteMany"/> does and claims up to
        /// <paramref name="max"/> operations as <see cref="Poll"/> does, in ONE transaction (one commit): what a worker does
        /// between two jobs. The claim runs after the completions and sees them (a completion that unblocks the next
        /// operation of its dependency token lets this call claim it). With <paramref name="wait"/> and nothing to claim,
        /// the completions are committed first and the call then waits like <see cref="Poll"/>.</summary>
        /// <param name="leases">Leases polled from this queue (may be empty: then a plain poll). They stay yours.</param>
        /// <param name="hostId">The host id (non-empty).</param>
        /// <param name="max">At most this many new leases, 1 to <see cref="MaxPoll"/>.</param>
        /// <param name="wait">How long to wait when nothing is claimable (null: do not wait).</param>
        /// <param name="types">Only these operation types (null or empty: any).</param>
        /// <returns><see cref="CompleteAndPollResult.Errors"/>: one entry per lease as <see cref="CompleteMany"/> returns them
        /// (null, or the lease's error, usually an <see cref="AsyncopLeaseLostException"/>: the others still completed);
        /// <see cref="CompleteAndPollResult.Leases"/>: the new leases, as <see cref="Poll"/> returns them.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="leases"/> or one of its items is null.</exception>
        /// <exception cref="ArgumentException">A lease was polled from another queue.</exception>
        /// <exception cref="ObjectDisposedException">This queue, or one of the leases, is disposed.</exception>
        /// <exception cref="AsyncopInvalidArgumentException">A bad max, host id or wait; nothing was written.</exception>
        /// <exception cref="AsyncopBusyException">The write lock was not obtained in time; nothing was written (retryable).</exception>
        /// <exception cref="AsyncopException">The call failed as a whole; nothing was written.</exception>
        public CompleteAndPollResult CompleteAndPoll(IReadOnlyList<Lease> leases, string hostId, int max = 1, TimeSpan? wait = null, int[] types = null)
        {
            Lease[] items = BatchOf(leases);
            byte[] h = Interop.Utf8z(hostId, "hostId");
            CheckPollMax(max);
            long waitMs = wait.HasValue ? Interop.DurationMs(wait.Value, "wait") : 0;
            int[] t = types == null ? null : (int[])types.Clone();
            ThrowIfDisposed();
            int n = items.Length;
            var codes = new int[n];
            List<Lease> claimed = null;
            WithRawLeases(items, raw =>
            {
                claimed = ClaimInto(max, (IntPtr[] into, out UIntPtr count) => NativeMethods.asyncop_queue_complete_and_poll(Handle, raw, new UIntPtr((uint)n), codes, h, t, new UIntPtr((uint)(t == null ? 0 : t.Length)), waitMs, into, new UIntPtr((uint)max), out count));
                return 0;
            });
            return new CompleteAndPollResult(BatchErrors(items, codes, null), claimed);
        }

        // The leases of a batch call, checked: none null, all of this queue.
        Lease[] BatchOf(IReadOnlyList<Lease> leases)
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
            return items;
        }

        // Runs a native call on the leases' raw handles, each kept from being freed meanwhile.
        static int WithRawLeases(Lease[] items, Func<IntPtr[], int> call)
        {
            int n = items.Length;
            var handles = new LeaseHandle[n];
            var added = new bool[n];
            var raw = new IntPtr[n];
            try
            {
                for (int i = 0; i < n; i++)
                {
                    handles[i] = items[i].LiveHandle;
                    handles[i].DangerousAddRef(ref added[i]); // no release (free) while the library uses the raw value
                    raw[i] = handles[i].DangerousGetHandle();
                }
                return call(raw);
            }
            finally
            {
                for (int i = 0; i < n; i++)
                    if (added[i]) handles[i].DangerousRelease();
            }
        }

        // One entry per lease of a batch completion: null (completed; the lease is marked finished) or its error.
        static IReadOnlyList<AsyncopException> BatchErrors(Lease[] items, int[] codes, string detail)
        {
            var errors = new AsyncopException[items.Length];
            for (int i = 0; i < items.Length; i++)
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

    /// <summary>What <see cref="AsyncOperationQueue.CompleteAndPoll"/> returns.</summary>
    public sealed class CompleteAndPollResult
    {
        internal CompleteAndPollResult(IReadOnlyList<AsyncopException> errors, IList<Lease> leases)
        {
            Errors = errors;
            Leases = leases;
        }

        /// <summary>One entry per completed lease, in order: null when it completed, else its error (not thrown).</summary>
        public IReadOnlyList<AsyncopException> Errors { get; private set; }
        /// <summary>The leases claimed, as <see cref="AsyncOperationQueue.Poll"/> returns them.</summary>
        public IList<Lease> Leases { get; private set; }
    }
}
