using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Asyncop
{
    // The awaitable waits: PollAsync and WaitForAsync. Neither blocks a thread-pool thread while it waits (DedicatedWait).
    public sealed partial class AsyncOperationQueue
    {
        /// <summary>The longest single blocking call of a waiting <see cref="PollAsync"/> or <see cref="WaitForAsync"/>
        /// (200 ms): how long the thread of a canceled wait may outlive its Task.</summary>
        public static TimeSpan AsyncWaitSlice { get { return DedicatedWait.Slice; } }

        /// <summary>Claims up to <paramref name="max"/> operations as <see cref="Poll"/> does, waiting up to
        /// <paramref name="wait"/> for work without blocking a thread-pool thread; an empty list when nothing came.</summary>
        /// <remarks>It first claims without waiting on the calling thread (a Task already complete when there was work
        /// or no wait); otherwise the wait runs on a thread of its own, not the pool's, in slices of at most
        /// <see cref="AsyncWaitSlice"/>. Canceling <paramref name="cancellationToken"/> ends the Task at once with a
        /// <see cref="TaskCanceledException"/>; its thread ends within one slice, and leases that slice claimed after the
        /// cancel are given back (a retry due at once; the attempt counts, as for any released lease). Argument errors
        /// throw at once; library errors fault the Task (ObjectDisposedException when the queue is closed meanwhile).</remarks>
        /// <param name="hostId">The host id recorded on the claims (non-empty).</param>
        /// <param name="max">At most this many leases, 1 to <see cref="MaxPoll"/>.</param>
        /// <param name="wait">How long to wait for work when none is claimable (null or zero: not at all).</param>
        /// <param name="types">Only these operation types, or null for any.</param>
        /// <param name="cancellationToken">Ends the wait.</param>
        public Task<IList<Lease>> PollAsync(string hostId, int max = 1, TimeSpan? wait = null, int[] types = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            Interop.Utf8z(hostId, "hostId");
            CheckPollMax(max);
            TimeSpan total = wait ?? TimeSpan.Zero;
            Interop.DurationMs(total, "wait");
            int[] only = types == null ? null : (int[])types.Clone();
            if (cancellationToken.IsCancellationRequested) return Canceled<IList<Lease>>(cancellationToken);
            IList<Lease> first;
            try { first = Poll(hostId, max, null, only); }
            catch (ArgumentException) { throw; }
            catch (Exception e) { return DedicatedWait.Faulted<IList<Lease>>(e); }
            if (first.Count > 0 || total <= TimeSpan.Zero) return Task.FromResult(first);
            return DedicatedWait.Run<IList<Lease>>("asyncop-poll",
                slice => Poll(hostId, max, slice > TimeSpan.Zero ? slice : (TimeSpan?)null, only),
                leases => leases.Count > 0, total, cancellationToken, GiveBack);
        }

        /// <summary>Waits until the operation is Completed or <paramref name="timeout"/> passes and returns its latest
        /// snapshot either way (check <see cref="AsyncOperation.StateCode"/>), as <see cref="WaitFor"/> does, without
        /// blocking a thread-pool thread.</summary>
        /// <remarks>It first reads the operation on the calling thread (a Task already complete when it is Completed or
        /// the timeout is zero); otherwise the wait runs on a thread of its own in slices of at most
        /// <see cref="AsyncWaitSlice"/>. Canceling <paramref name="cancellationToken"/> ends the Task at once with a
        /// <see cref="TaskCanceledException"/>. Argument errors throw at once; library errors (AsyncopNotFoundException for
        /// an unknown id) fault the Task.</remarks>
        public Task<AsyncOperation> WaitForAsync(long id, TimeSpan timeout,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            Interop.CheckId(id, "id");
            Interop.DurationMs(timeout, "timeout");
            if (cancellationToken.IsCancellationRequested) return Canceled<AsyncOperation>(cancellationToken);
            AsyncOperation first;
            try { first = WaitFor(id, TimeSpan.Zero); }
            catch (Exception e) { return DedicatedWait.Faulted<AsyncOperation>(e); }
            if (first.StateCode == AsyncOperationState.Completed || timeout <= TimeSpan.Zero) return Task.FromResult(first);
            return DedicatedWait.Run("asyncop-wait-for", slice => WaitFor(id, slice),
                op => op.StateCode == AsyncOperationState.Completed, timeout, cancellationToken, null);
        }

        static Task<T> Canceled<T>(CancellationToken token)
        {
            var tcs = new TaskCompletionSource<T>();
            tcs.SetCanceled();
            return tcs.Task;
        }

        // The leases a canceled PollAsync claimed after its caller left: back to Ready at once.
        static void GiveBack(IList<Lease> leases)
        {
            foreach (var lease in leases)
            {
                try { lease.Retry(0, "poll canceled before its leases were used", DateTime.UtcNow); }
                catch (AsyncopException) { } // lost or closed already: its expiry retries it
                catch (ObjectDisposedException) { }
                finally { lease.Dispose(); }
            }
        }
    }
}
