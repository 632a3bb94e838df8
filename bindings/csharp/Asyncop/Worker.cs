using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;

namespace Asyncop
{
    /// <summary>Runs a handler per operation type on N threads, renewing leases in the background.</summary>
    /// <remarks>A Pause, Postpone or Cancel of a running operation (or the loss of its lease) cancels the job's
    /// <see cref="WorkerJob.CancellationToken"/> at once: the library learns it through the queue's change signal
    /// (about a millisecond in one process, a few across processes), not at the next renewal; each handler thread has
    /// a companion thread that waits in the library for it. A handler that returns has succeeded; one that throws <see cref="OperationCanceledException"/> after a
    /// Pause or Cancel request acknowledges it; <see cref="PermanentFailureException"/> fails the operation,
    /// <see cref="SuspendOperationException"/> suspends it, any other exception is a retryable failure. A handler's result
    /// (byte[] as is, string as UTF-8, null nothing) is stored as the operation's Output; one over
    /// <see cref="AsyncOperationQueue.OutputMaxBytes"/> is dropped (counted in <see cref="Errors"/>) and the operation completes
    /// without it. A failed attempt stores the exception's ToString() as its detail (AsyncOperationQueue.Attempts) and
    /// raises <see cref="AttemptFailed"/>.
    /// <para>One commit per job: a thread completes each success without output in the same transaction as its next claim
    /// (<see cref="AsyncOperationQueue.CompleteAndPoll"/>), and claims up to <see cref="Prefetch"/> jobs at once, so several
    /// completions and the next claim share one commit; failures, stops and successes with an output are written at once.
    /// Claimed jobs not started yet wait in one queue that every thread takes from; their leases are renewed, and one
    /// paused or canceled (or whose lease was lost) before it started is acknowledged without running. A crash between a
    /// success and the thread's next claim loses that completion: the lease expires and the job runs again
    /// (at-least-once, as always).</para></remarks>
    public sealed partial class Worker : IDisposable
    {
        readonly AsyncOperationQueue queue;
        readonly Dictionary<int, Func<WorkerJob, byte[]>> handlers = new Dictionary<int, Func<WorkerJob, byte[]>>();
        readonly List<WorkerJob> active = new List<WorkerJob>();
        readonly List<Thread> threads = new List<Thread>();
        readonly List<StopRelay> relays = new List<StopRelay>();
        readonly ManualResetEvent stopping = new ManualResetEvent(false);
        readonly int threadCount;
        // Claimed jobs not started yet (the lock for claimWaiting too), and whether a thread waits in a claim.
        readonly Queue<WorkerJob> queued = new Queue<WorkerJob>();
        bool claimWaiting;
        int prefetch = DefaultPrefetch;
        Thread renewer;
        TimeSpan? renewEvery;
        int started;
        long processed;
        long errors;

        /// <summary>Creates a worker; register handlers, then <see cref="Start"/>.</summary>
        /// <param name="queue">The queue to work on (not owned; <see cref="Open"/> makes a worker that owns its queue).</param>
        /// <param name="hostId">The host id recorded on claims (non-empty); null for <see cref="DefaultHostId"/>
        /// ("hostname:pid", as the Python worker).</param>
        /// <param name="threads">How many handler threads (&gt;= 1).</param>
        public Worker(AsyncOperationQueue queue, string hostId = null, int threads = 1)
        {
            if (queue == null) throw new ArgumentNullException("queue");
            if (hostId == null) hostId = DefaultHostId;
            Interop.Utf8z(hostId, "hostId");
            if (hostId.Length == 0) throw new ArgumentException("the host id is empty", "hostId");
            if (threads < 1) throw new ArgumentOutOfRangeException("threads", threads, "at least one thread");
            this.queue = queue;
            HostId = hostId;
            threadCount = threads;
            PollWait = TimeSpan.FromMilliseconds(200);
        }

        /// <summary>Operations this worker reported an outcome for.</summary>
        public long Processed { get { return Interlocked.Read(ref processed); } }
        /// <summary>Unexpected errors met by the worker loops (polls, outcome calls).</summary>
        public long Errors { get { return Interlocked.Read(ref errors); } }

        /// <summary>Raised on a handler thread after a handler's exception was reported as a failed attempt (retry or
        /// final failure), with the exception: log it here. An exception thrown by a subscriber is swallowed (counted in
        /// <see cref="Errors"/>).</summary>
        public event EventHandler<AttemptFailedEventArgs> AttemptFailed;

        /// <summary>Registers the handler for one operation type (before <see cref="Start"/>).</summary>
        public void Register(int operationType, Action<WorkerJob> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job => { handler(job); return (byte[])null; });
        }

        /// <summary>Registers a handler whose result is stored as the operation's Output as UTF-8 (null stores none).</summary>
        public void RegisterWithResult(int operationType, Func<WorkerJob, string> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, job => { var s = handler(job); return s == null ? null : Encoding.UTF8.GetBytes(s); });
        }

        /// <summary>Registers a handler whose result is stored as the operation's Output (null stores none).</summary>
        public void RegisterWithResult(int operationType, Func<WorkerJob, byte[]> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            Add(operationType, handler);
        }

        void Add(int operationType, Func<WorkerJob, byte[]> handler)
        {
            if (operationType <= 0) throw new ArgumentOutOfRangeException("operationType", operationType, "operation types are > 0");
            if (Volatile.Read(ref started) != 0) throw new InvalidOperationException("register handlers before Start");
            handlers[operationType] = handler;
        }

        /// <summary>Starts the handler threads and the renewal thread.</summary>
        public void Start()
        {
            if (handlers.Count == 0) throw new InvalidOperationException("no handler registered");
            if (Interlocked.Exchange(ref started, 1) != 0) throw new InvalidOperationException("already started");
            int[] types = claimUnhandled ? null : new List<int>(handlers.Keys).ToArray();
            for (int i = 0; i < threadCount; i++)
            {
                var relay = new StopRelay("asyncop-stop-" + i);
                relays.Add(relay);
                var t = new Thread(() => Loop(types, relay)) { IsBackground = true, Name = "asyncop-worker-" + i };
                threads.Add(t);
                t.Start();
            }
            renewer = new Thread(RenewLoop) { IsBackground = true, Name = "asyncop-renewer" };
            renewer.Start();
        }

        /// <summary>Stops polling, lets running handlers finish for up to <paramref name="timeout"/>, then asks them to stop.
        /// Claimed jobs that had not started are run first; past the timeout they are given back without running (a retry
        /// due at once; the attempt counts). Successes waiting for a claim are completed before the threads end.</summary>
        public void Stop(TimeSpan? timeout = null)
        {
            stopping.Set();
            lock (queued) Monitor.PulseAll(queued);
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
            foreach (var t in threads)
            {
                var left = deadline - DateTime.UtcNow;
                if (!t.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                {
                    lock (active) foreach (var j in active) j.RequestStop(StopReason.Shutdown);
                    t.Join();
                }
            }
            if (renewer != null) renewer.Join();
            foreach (var relay in relays) relay.Close();
            relays.Clear();
            if (ownsQueue) queue.Dispose();
        }

        /// <summary>Stops the worker (see <see cref="Stop"/>); the queue stays open.</summary>
        public void Dispose()
        {
            Stop();
        }

        void Loop(int[] types, StopRelay relay)
        {
            var done = new List<WorkerJob>(); // this thread's successes, completed with its next claim
            try
            {
                while (true)
                {
                    var job = NextJob(done, types);
                    if (job == null) return;
                    if (Run(job, relay)) done.Add(job);
                }
            }
            finally { Flush(done); }
        }

        // The next job: a claimed one not started yet, else the first of a new claim (which completes done; the rest of
        // the batch goes to the shared queue). A thread that just finished a job claims at once without waiting (busy
        // threads claim side by side and their commits can share a sync); when that finds nothing, one thread at a time
        // waits in the library for work and the others wait here until it hands some out.
        WorkerJob NextJob(List<WorkerJob> done, int[] types)
        {
            bool fresh = true;
            while (true)
            {
                bool waits;
                lock (queued)
                {
                    if (queued.Count > 0) return queued.Dequeue();
                    if (stopping.WaitOne(0)) return null;
                    waits = !fresh;
                    if (waits)
                    {
                        if (claimWaiting) { Monitor.Wait(queued, PollWait); continue; }
                        claimWaiting = true;
                    }
                }
                List<WorkerJob> claimed;
                try { claimed = Claim(done, types, waits ? PollWait : (TimeSpan?)null); }
                finally
                {
                    if (waits) lock (queued) { claimWaiting = false; Monitor.PulseAll(queued); }
                }
                if (claimed == null) return null;
                if (claimed.Count > 0)
                {
                    lock (queued)
                    {
                        for (int i = 1; i < claimed.Count; i++) queued.Enqueue(claimed[i]);
                        Monitor.PulseAll(queued);
                    }
                    return claimed[0];
                }
                fresh = false;
            }
        }

        // Completes done and claims the next jobs in one transaction; null when the queue is disposed. On a failure nothing
        // was written: done is kept (still renewed) for the next try.
        List<WorkerJob> Claim(List<WorkerJob> done, int[] types, TimeSpan? wait)
        {
            CompleteAndPollResult r;
            try { r = queue.CompleteAndPoll(done.ConvertAll(j => j.Lease), HostId, prefetch, wait, types); }
            catch (ObjectDisposedException) { return null; }
            catch (AsyncopBusyException) { Interlocked.Increment(ref errors); Thread.Sleep(10); return new List<WorkerJob>(); }
            catch (AsyncopException) { Interlocked.Increment(ref errors); Thread.Sleep(50); return new List<WorkerJob>(); }
            Settle(done, r.Errors);
            var jobs = new List<WorkerJob>(r.Leases.Count);
            long next = DateTime.UtcNow.Ticks + RenewEvery.Ticks;
            foreach (var lease in r.Leases)
            {
                var job = new WorkerJob(lease) { NextRenewTicks = next, Prefetched = jobs.Count > 0 };
                if (job.Prefetched)
                {
                    try { lease.StopRequested(); } // watched while it waits its turn
                    catch (AsyncopException) { }
                }
                jobs.Add(job);
            }
            lock (active) active.AddRange(jobs);
            return jobs;
        }

        // Counts and releases the deferred successes of one committed batch.
        void Settle(List<WorkerJob> done, IReadOnlyList<AsyncopException> results)
        {
            for (int i = 0; i < done.Count; i++)
            {
                if (results[i] == null) Interlocked.Increment(ref processed);
                else if (!(results[i] is AsyncopLeaseLostException)) Interlocked.Increment(ref errors);
                Forget(done[i]);
            }
            done.Clear();
        }

        // Completes the deferred successes of a thread that ends.
        void Flush(List<WorkerJob> done)
        {
            if (done.Count == 0) return;
            IReadOnlyList<AsyncopException> results;
            try { results = queue.CompleteMany(done.ConvertAll(j => j.Lease)); }
            catch (Exception e) when (e is AsyncopException || e is ObjectDisposedException)
            {
                // Not written: the leases expire and the jobs run again (at-least-once).
                Interlocked.Increment(ref errors);
                results = new AsyncopException[done.Count];
                foreach (var job in done) Forget(job);
                done.Clear();
                return;
            }
            Settle(done, results);
        }

        void Forget(WorkerJob job)
        {
            lock (active) active.Remove(job);
            try { job.Lease.Dispose(); } catch (Exception) { }
            job.DisposeToken();
        }

        // Runs one job and reports its outcome; true for a success without output, completed with the thread's next claim
        // (its lease then stays open and renewed until Settle).
        bool Run(WorkerJob job, StopRelay relay)
        {
            Lease lease = job.Lease;
            bool deferred = false;
            try
            {
                Func<WorkerJob, byte[]> handler;
                if (!handlers.TryGetValue(lease.OperationType, out handler))
                {
                    Report(() => lease.Fail((int)AsyncopErrorCode.TypeNotRecognized, "no handler for operation type " + lease.OperationType));
                    return false;
                }
                if (job.Prefetched && (job.StopReason != StopReason.None || SafeStopRequested(lease)))
                {
                    StopUnstarted(job);
                    return false;
                }
                Exception error = null;
                relay.Watch(job);
                byte[] output = null;
                try { output = handler(job); }
                catch (Exception e) { error = e; }
                relay.Unwatch();
                if (error == null && output == null) return deferred = true;
                lock (active) active.Remove(job);
                if (error == null) Report(() => CompleteWith(lease, output));
                else if (error is OperationCanceledException && job.StopReason == StopReason.Canceling) Report(() => lease.AcknowledgeCancel());
                else if (error is OperationCanceledException && job.StopReason == StopReason.Pausing) Report(() => lease.AcknowledgePause());
                else if (error is OperationCanceledException && job.StopReason == StopReason.LeaseLost) { }
                else if (error is PermanentFailureException)
                    Failed(job, error, () => lease.Fail(((PermanentFailureException)error).ErrorCode, error.Message, Detail(error)));
                else if (error is SuspendOperationException) Report(() => lease.Suspend(((SuspendOperationException)error).ErrorCode, error.Message));
                else Failed(job, error, () => lease.Retry(error.HResult, error.GetType().Name + ": " + error.Message, null, Detail(error)));
                return false;
            }
            finally
            {
                relay.Unwatch();
                if (!deferred) Forget(job);
            }
        }

        static bool SafeStopRequested(Lease lease)
        {
            try { return lease.StopRequested() != LeaseStopReason.None; }
            catch (AsyncopException) { return true; }
            catch (ObjectDisposedException) { return true; }
        }

        // A prefetched job asked to stop before it started: a pause or cancel is acknowledged (the latest request wins),
        // a shutdown gives it back due at once, a lost lease needs nothing.
        void StopUnstarted(WorkerJob job)
        {
            Lease lease = job.Lease;
            AsyncOperationStatus? s = Report(() => lease.Renew());
            if (s == null) return; // lost
            Interlocked.Decrement(ref processed); // the renewal is no outcome
            if (s == AsyncOperationStatus.Canceling) Report(() => lease.AcknowledgeCancel());
            else if (s == AsyncOperationStatus.Pausing) Report(() => lease.AcknowledgePause());
            else Report(() => lease.Retry(0, "released before it started (" + job.StopReason + ")", DateTime.UtcNow));
        }

        AsyncOperationStatus? Report(Func<AsyncOperationStatus> outcome)
        {
            try { var s = outcome(); Interlocked.Increment(ref processed); return s; }
            catch (AsyncopLeaseLostException) { }
            catch (ObjectDisposedException) { }
            catch (AsyncopException) { Interlocked.Increment(ref errors); }
            return null;
        }

        AsyncOperationStatus CompleteWith(Lease lease, byte[] output)
        {
            if (output == null) return lease.Complete();
            try { return lease.Complete(output); }
            catch (AsyncopInvalidArgumentException) { Interlocked.Increment(ref errors); return lease.Complete(); }
        }

        // Reports a failed attempt, then tells the AttemptFailed subscribers.
        void Failed(WorkerJob job, Exception error, Func<AsyncOperationStatus> outcome)
        {
            var status = Report(outcome);
            var subscribers = AttemptFailed;
            if (status == null || subscribers == null) return;
            try { subscribers(this, new AttemptFailedEventArgs(job, error, status.Value)); }
            catch (Exception) { Interlocked.Increment(ref errors); }
        }

        // The exception as a storable detail (NULs escaped: the ABI takes NUL-terminated text).
        static string Detail(Exception error)
        {
            string text;
            try { text = error.ToString(); } catch (Exception) { text = error.GetType().FullName; }
            return text.Replace("\0", "\\0");
        }
    }
}
