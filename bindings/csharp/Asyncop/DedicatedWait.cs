using System;
using System.Threading;
using System.Threading.Tasks;

namespace Asyncop
{
    /// <summary>Runs a blocking library wait (a poll or wait_for) as a Task without holding a thread-pool thread: the
    /// wait runs on a thread of its own (a background thread, not the pool's) in slices of at most <see cref="Slice"/>,
    /// and the Task ends as soon as the wait is satisfied, the deadline passes, or the CancellationToken fires (the
    /// Task is canceled at once, from the canceling thread; the waiting thread notices within one slice and ends,
    /// handing anything its last slice produced to a discard action).</summary>
    internal static class DedicatedWait
    {
        /// <summary>The longest single blocking call: how long a canceled wait's thread may outlive its Task.</summary>
        internal static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(200);
        static int started;

        /// <summary>Calls <paramref name="attempt"/> with the wait of one slice until <paramref name="done"/> accepts
        /// its result or <paramref name="wait"/> has passed (then the last result is the Task's). A result produced
        /// after the Task ended (canceled) goes to <paramref name="discard"/>.</summary>
        internal static Task<T> Run<T>(string name, Func<TimeSpan, T> attempt, Func<T, bool> done, TimeSpan wait,
            CancellationToken token, Action<T> discard)
        {
            // Continuations run on the pool, never inline on the waiting thread or on the thread that cancels.
            var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (token.IsCancellationRequested)
            {
                tcs.TrySetCanceled(token);
                return tcs.Task;
            }
            CancellationTokenRegistration registration = token.Register(() => tcs.TrySetCanceled(token));
            long deadline = DateTime.UtcNow.Ticks + wait.Ticks;
            var thread = new Thread(() =>
            {
                try
                {
                    while (!tcs.Task.IsCompleted)
                    {
                        long left = Math.Max(0, deadline - DateTime.UtcNow.Ticks);
                        var slice = TimeSpan.FromTicks(Math.Min(left, Slice.Ticks));
                        T result = attempt(slice);
                        if (done(result) || left <= Slice.Ticks)
                        {
                            if (!tcs.TrySetResult(result) && discard != null) discard(result);
                            return;
                        }
                    }
                }
                catch (Exception e) { tcs.TrySetException(e); }
                finally { registration.Dispose(); }
            }, 256 * 1024) { IsBackground = true, Name = name + "-" + Interlocked.Increment(ref started) };
            thread.Start();
            return tcs.Task;
        }

        /// <summary>A Task already ended with <paramref name="error"/>.</summary>
        internal static Task<T> Faulted<T>(Exception error)
        {
            var tcs = new TaskCompletionSource<T>();
            tcs.SetException(error);
            return tcs.Task;
        }
    }
}
