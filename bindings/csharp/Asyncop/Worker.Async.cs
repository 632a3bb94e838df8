using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Asyncop
{
    // Async handlers: a Func<WorkerJob, CancellationToken, Task> per operation type. The handler thread that claimed the
    // job awaits its Task (blocks on it, as it would run a synchronous handler), so outcomes, renewals and the stop relay
    // are exactly those of a synchronous handler; the handler's continuations run on the thread pool (a worker thread has
    // no SynchronizationContext), so awaiting cannot deadlock. N handler threads run up to N async jobs at once.
    public sealed partial class Worker
    {
        /// <summary>Registers an async handler for one operation type (before <see cref="Start"/>).</summary>
        /// <remarks>The token it receives is the job's <see cref="WorkerJob.CancellationToken"/>: it fires on a Pause,
        /// Postpone or Cancel of the operation, the loss of its lease, or a shutdown past the <see cref="Stop"/> timeout.
        /// Outcomes are those of <see cref="Register"/>: a Task that completes is a success; one that ends with
        /// <see cref="OperationCanceledException"/> (e.g. <see cref="TaskCanceledException"/> from
        /// <c>Task.Delay(t, token)</c>) after a Pause or Cancel acknowledges it; <see cref="PermanentFailureException"/>
        /// fails the operation, <see cref="SuspendOperationException"/> suspends it, any other exception is a retryable
        /// failure that raises <see cref="AttemptFailed"/>. A null Task is a retryable failure
        /// (InvalidOperationException). The handler thread that claimed the job waits for its Task: use
        /// <c>threads</c> to run several async jobs at once.</remarks>
        public void RegisterAsync(int operationType, Func<WorkerJob, CancellationToken, Task> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job => { Await(handler(job, job.CancellationToken)); return (byte[])null; });
        }

        /// <summary>Registers an async handler whose result is stored as the operation's Output as UTF-8 (null stores
        /// none); otherwise as <see cref="RegisterAsync"/>.</summary>
        public void RegisterAsyncWithResult(int operationType, Func<WorkerJob, CancellationToken, Task<string>> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job =>
            {
                string s = Await(handler(job, job.CancellationToken));
                return s == null ? null : Encoding.UTF8.GetBytes(s);
            });
        }

        /// <summary>Registers an async handler whose result is stored as the operation's Output (null stores none);
        /// otherwise as <see cref="RegisterAsync"/>.</summary>
        public void RegisterAsyncWithResult(int operationType, Func<WorkerJob, CancellationToken, Task<byte[]>> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job => Await(handler(job, job.CancellationToken)));
        }

        // Waits for the handler's Task and rethrows its own exception (not an AggregateException).
        static void Await(Task task)
        {
            if (task == null) throw new InvalidOperationException("the async handler returned a null Task");
            task.GetAwaiter().GetResult();
        }

        static T Await<T>(Task<T> task)
        {
            if (task == null) throw new InvalidOperationException("the async handler returned a null Task");
            return task.GetAwaiter().GetResult();
        }
    }
}
