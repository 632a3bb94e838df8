using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>Async handlers (Worker.RegisterAsync, RegisterAsyncWithResult): the outcomes of the sync handlers,
    /// with the job's stop token passed to the handler.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class AsyncHandlerTests : QueueFixture
    {
        public AsyncHandlerTests(string store) : base(store) { }

        AsyncOperationQueue OpenFast(int maxAttempts)
        {
            return AsyncOperationQueue.Open(NewTarget("fast.db"), new AsyncOperationQueueOptions
            {
                Durability = Durability.Normal,
                MaxAttempts = maxAttempts,
                BackoffBase = TimeSpan.FromMilliseconds(1),
                BackoffCap = TimeSpan.FromMilliseconds(1),
            });
        }

        [Test]
        public void AsyncHandlersCompleteAndStoreTheirResults()
        {
            long plain = Queue.Submit("plain", 1), text = Queue.Submit("text", 2), bytes = Queue.Submit("bytes", 3);
            var tokens = new List<CancellationToken>();
            using (var worker = new Worker(Queue, "async-host", 2) { PollWait = TimeSpan.FromMilliseconds(20) })
            {
                worker.RegisterAsync(1, async (job, ct) =>
                {
                    lock (tokens) tokens.Add(ct);
                    Assert.AreEqual(job.CancellationToken, ct, "the token is the job's stop token");
                    await Task.Delay(20, ct);
                });
                worker.RegisterAsyncWithResult(2, async (job, ct) => { await Task.Yield(); return "héllo " + job.Id; });
                worker.RegisterAsyncWithResult(3, async (job, ct) => { await Task.Delay(5, ct); return new byte[] { 7, 0, 7 }; });
                worker.Start();
                WaitUntil(() => new[] { plain, text, bytes }.All(i => Queue.Retrieve(i).StateCode == AsyncOperationState.Completed));
                worker.Stop();
                Assert.AreEqual(3, worker.Processed);
            }
            foreach (var id in new[] { plain, text, bytes }) Assert.AreEqual("3/30", StateOf(Queue.Retrieve(id)));
            Assert.IsNull(Queue.Retrieve(plain).Output);
            CollectionAssert.AreEqual(Encoding.UTF8.GetBytes("héllo " + text), Queue.Retrieve(text).Output);
            CollectionAssert.AreEqual(new byte[] { 7, 0, 7 }, Queue.Retrieve(bytes).Output);
            Assert.AreEqual(1, tokens.Count);
            Assert.IsTrue(tokens[0].CanBeCanceled);
        }

        [Test]
        public void FourThreadsOfAsyncHandlersCompleteEveryOperationExactlyOnce()
        {
            int n = OnPostgres ? 100 : 300;
            var ids = Queue.SubmitMany(Enumerable.Range(0, n).Select(i => new AsyncOperationSpec("op" + i, 13)));
            var runs = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
            int running = 0, mostAtOnce = 0;
            using (var worker = new Worker(Queue, "async-pool", 4) { PollWait = TimeSpan.FromMilliseconds(20) })
            {
                worker.RegisterAsync(13, async (job, ct) =>
                {
                    int now = Interlocked.Increment(ref running);
                    int seen;
                    while ((seen = Volatile.Read(ref mostAtOnce)) < now && Interlocked.CompareExchange(ref mostAtOnce, now, seen) != seen) { }
                    await Task.Delay(2, ct);
                    runs.AddOrUpdate(job.Id, 1, (k, v) => v + 1);
                    Interlocked.Decrement(ref running);
                });
                worker.Start();
                WaitUntil(() => Queue.Counts().Where(c => c.StateCode == AsyncOperationState.Completed).Sum(c => c.Count) == n, 120);
                worker.Stop();
                Assert.AreEqual(n, worker.Processed);
            }
            CollectionAssert.AreEquivalent(ids, runs.Keys);
            Assert.IsTrue(runs.Values.All(v => v == 1), "an operation ran twice");
            Assert.IsTrue(Queue.Counts().All(c => c.StatusCode == AsyncOperationStatus.Succeeded));
            Assert.LessOrEqual(mostAtOnce, 4, "one job per handler thread");
            Assert.Greater(mostAtOnce, 1, "the threads ran jobs side by side");
        }

        [Test]
        public void AsyncFailuresRetryFailAndRaiseAttemptFailedWithTheHandlersException()
        {
            using (var q = OpenFast(2))
            {
                long boom = q.Submit("boom", 9), permanent = q.Submit("permanent", 10), nothing = q.Submit("null task", 11);
                var failed = new List<AttemptFailedEventArgs>();
                var worker = new Worker(q, "async-host", 1) { PollWait = TimeSpan.FromMilliseconds(20), Prefetch = 1 };
                worker.RegisterAsync(9, async (job, ct) => { await Task.Delay(5, ct); throw new InvalidOperationException("async kaput"); });
                worker.RegisterAsync(10, async (job, ct) => { await Task.Yield(); throw new PermanentFailureException("no way", 4242); });
                worker.RegisterAsync(11, (job, ct) => null);
                worker.AttemptFailed += (sender, e) => { lock (failed) failed.Add(e); };
                worker.Start();
                try
                {
                    WaitUntil(() => new[] { boom, permanent, nothing }.All(i => q.Retrieve(i).StateCode == AsyncOperationState.Completed));
                }
                finally { worker.Stop(); }
                foreach (var id in new[] { boom, permanent, nothing }) Assert.AreEqual("3/31", StateOf(q.Retrieve(id)));
                Assert.AreEqual(4242, q.Retrieve(permanent).ErrorCode);
                lock (failed)
                {
                    var ofBoom = failed.Where(e => e.Job.Id == boom).ToList();
                    Assert.AreEqual(2, ofBoom.Count, "two attempts of boom");
                    Assert.IsFalse(ofBoom[0].IsFinal);
                    Assert.IsTrue(ofBoom[1].IsFinal);
                    // The handler's own exception, not the Task's AggregateException.
                    Assert.IsInstanceOf<InvalidOperationException>(ofBoom[1].Exception);
                    Assert.AreEqual("async kaput", ofBoom[1].Exception.Message);
                    var ofPermanent = failed.Single(e => e.Job.Id == permanent);
                    Assert.IsInstanceOf<PermanentFailureException>(ofPermanent.Exception);
                    Assert.IsTrue(ofPermanent.IsFinal);
                    Assert.IsInstanceOf<InvalidOperationException>(failed.First(e => e.Job.Id == nothing).Exception);
                }
                var kept = q.Attempts(boom);
                Assert.AreEqual(2, kept.Count);
                StringAssert.StartsWith("System.InvalidOperationException: async kaput", kept[0].Detail);
            }
        }

        [Test]
        public void AsyncRetryableFailureThenSuccessOnTheNextAttempt()
        {
            using (var q = OpenFast(3))
            {
                long id = q.Submit("flaky", 12);
                using (var worker = new Worker(q, "async-host", 1) { PollWait = TimeSpan.FromMilliseconds(20) })
                {
                    worker.RegisterAsyncWithResult(12, async (job, ct) =>
                    {
                        await Task.Delay(1, ct);
                        if (job.Attempt == 1) throw new TimeoutException("first attempt");
                        return "attempt " + job.Attempt;
                    });
                    worker.Start();
                    WaitUntil(() => q.Retrieve(id).StateCode == AsyncOperationState.Completed);
                }
                var op = q.Retrieve(id);
                Assert.AreEqual("3/30", StateOf(op));
                Assert.AreEqual(1, op.RetryCount);
                Assert.AreEqual("attempt 2", Encoding.UTF8.GetString(op.Output));
            }
        }

        void AwaitingHandlerStops(Action<AsyncOperationQueue, long> action, string want, StopReason reason)
        {
            using (var worker = new Worker(Queue, "async-sleeper", 1))
            using (var other = AsyncOperationQueue.Open(Db))
            {
                var started = new ManualResetEventSlim();
                StopReason seen = StopReason.None;
                worker.RegisterAsync(5, async (job, ct) =>
                {
                    started.Set();
                    try { await Task.Delay(TimeSpan.FromSeconds(30), ct); }
                    finally { seen = job.StopReason; }
                });
                worker.Start();
                long id = Queue.Submit("sleeper", 5);
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)), "started");
                var sw = Stopwatch.StartNew();
                action(other, id);
                WaitUntil(() => StateOf(Queue.Retrieve(id)) == want, 10);
                Console.WriteLine("{0}: async handler's {1} written after {2:F1} ms", Store, want, sw.Elapsed.TotalMilliseconds);
                Assert.Less(sw.Elapsed.TotalMilliseconds, 2000.0, "the awaiting handler stopped at once, not after 30 s");
                worker.Stop(TimeSpan.FromSeconds(5));
                Assert.AreEqual(reason, seen);
                Assert.AreEqual(0, worker.Errors);
            }
        }

        [Test]
        public void ACancelEndsAnAwaitingHandlerAndIsAcknowledged()
        {
            AwaitingHandlerStops((q, id) => q.Cancel(id), "3/32", StopReason.Canceling);
        }

        [Test]
        public void APauseEndsAnAwaitingHandlerAndIsAcknowledged()
        {
            AwaitingHandlerStops((q, id) => q.Pause(id), "1/10", StopReason.Pausing);
        }
    }
}
