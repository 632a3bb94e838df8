using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>AsyncOperationQueue.CompleteAndPoll (asyncop_queue_complete_and_poll) and the Worker's Prefetch: one commit
    /// per job.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class CompleteAndPollTests : QueueFixture
    {
        public CompleteAndPollTests(string store) : base(store) { }

        [Test]
        public void CompletesAndClaimsTheNextInOneCall()
        {
            var ids = Enumerable.Range(0, 5).Select(i => Queue.Submit("op " + i, 1)).ToList();
            var first = Queue.Poll("h", 2).ToList();
            var r = Queue.CompleteAndPoll(first, "h", 2);
            Assert.IsTrue(r.Errors.All(e => e == null));
            CollectionAssert.AreEqual(ids.Skip(2).Take(2).ToList(), r.Leases.Select(l => l.Id).ToList());
            Assert.AreEqual("3/30", StateOf(Queue.Retrieve(ids[0])));
            Assert.IsTrue(first.All(l => l.IsFinished));

            // A lease completed before gets its error; the other completes and the claim goes on.
            var next = r.Leases.ToList();
            next[0].Complete();
            var r2 = Queue.CompleteAndPoll(next, "h", 5);
            Assert.IsInstanceOf<AsyncopLeaseLostException>(r2.Errors[0]);
            Assert.IsNull(r2.Errors[1]);
            CollectionAssert.AreEqual(new[] { ids[4] }, r2.Leases.Select(l => l.Id).ToList());

            // Empty leases: a plain poll. A refused claim writes nothing.
            long late = Queue.Submit("late", 1);
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.CompleteAndPoll(r2.Leases.ToList(), "", 1));
            Assert.AreEqual("2/20", StateOf(Queue.Retrieve(ids[4])));
            var r3 = Queue.CompleteAndPoll(new List<Lease>(), "h", 1);
            Assert.AreEqual(0, r3.Errors.Count);
            CollectionAssert.AreEqual(new[] { late }, r3.Leases.Select(l => l.Id).ToList());
            foreach (var l in first.Concat(next).Concat(r2.Leases).Concat(r3.Leases)) l.Dispose();
        }

        [Test]
        public void WorkerDrainsExactlyOnceWithPrefetchOneAndTheDefault([Values(1, Worker.DefaultPrefetch)] int prefetch)
        {
            int n = OnPostgres ? 100 : 400;
            var ids = Queue.SubmitMany(Enumerable.Range(0, n).Select(i => new AsyncOperationSpec("op" + i, 1)));
            var runs = new ConcurrentDictionary<long, int>();
            using (var worker = new Worker(Queue, "cs-prefetch", 4) { Prefetch = prefetch, PollWait = TimeSpan.FromMilliseconds(50) })
            {
                worker.Register(1, job => { runs.AddOrUpdate(job.Id, 1, (k, v) => v + 1); });
                worker.Start();
                WaitUntil(() => worker.Processed == n, TimeSpan.FromSeconds(120), "all completed");
                worker.Stop();
                Assert.AreEqual(n, worker.Processed);
                Assert.AreEqual(0, worker.Errors);
            }
            CollectionAssert.AreEquivalent(ids, runs.Keys);
            Assert.IsTrue(runs.Values.All(v => v == 1), "an operation ran twice");
            Assert.IsTrue(Queue.Counts().All(c => c.StatusCode == AsyncOperationStatus.Succeeded));
        }

        [Test]
        public void APrefetchedJobPausedOrCanceledBeforeItStartsNeverRuns()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromMilliseconds(300) }))
            using (var release = new ManualResetEventSlim(false))
            using (var started = new ManualResetEventSlim(false))
            {
                long a = q.Submit("a", 1), b = q.Submit("b", 1), c = q.Submit("c", 1), d = q.Submit("d", 1);
                var ran = new ConcurrentQueue<string>();
                var worker = new Worker(q, "cs-prefetch", 1) { Prefetch = 4, PollWait = TimeSpan.FromMilliseconds(50) };
                worker.Register(1, job =>
                {
                    ran.Enqueue(job.Name);
                    if (job.Name == "a") { started.Set(); release.Wait(TimeSpan.FromSeconds(10)); }
                });
                worker.Start();
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)));
                Assert.AreEqual("2/20", StateOf(q.Retrieve(b)), "b was prefetched");
                q.Pause(b);
                q.Cancel(c);
                Thread.Sleep(500); // past the lease: the prefetched leases are renewed meanwhile
                release.Set();
                WaitUntil(() => q.Retrieve(d).StateCode == AsyncOperationState.Completed, TimeSpan.FromSeconds(10), "d done");
                worker.Stop();
                CollectionAssert.AreEqual(new[] { "a", "d" }, ran.ToArray());
                Assert.AreEqual(AsyncOperationState.Suspended, q.Retrieve(b).StateCode);
                Assert.AreEqual("3/32", StateOf(q.Retrieve(c)));
                Assert.AreEqual(0, q.Retrieve(a).RetryCount);
                Assert.AreEqual(0, q.Retrieve(d).RetryCount);
            }
        }

        [Test]
        public void StopRunsThePrefetchedJobsAndClaimsNoMore()
        {
            using (var release = new ManualResetEventSlim(false))
            using (var started = new ManualResetEventSlim(false))
            {
                var ids = new[] { "a", "b", "c" }.Select(name => Queue.Submit(name, 1)).ToList();
                var ran = new ConcurrentQueue<string>();
                var worker = new Worker(Queue, "cs-prefetch", 1) { Prefetch = 4, PollWait = TimeSpan.FromMilliseconds(50) };
                worker.Register(1, job =>
                {
                    ran.Enqueue(job.Name);
                    if (job.Name == "a") { started.Set(); release.Wait(TimeSpan.FromSeconds(10)); }
                });
                worker.Start();
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)));
                var stopper = new Thread(() => worker.Stop());
                stopper.Start();
                Thread.Sleep(100);
                long late = Queue.Submit("late", 1);
                release.Set();
                Assert.IsTrue(stopper.Join(TimeSpan.FromSeconds(30)));
                CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ran.ToArray());
                Assert.AreEqual(3, worker.Processed);
                Assert.IsTrue(ids.All(id => StateOf(Queue.Retrieve(id)) == "3/30"));
                Assert.AreEqual(AsyncOperationState.Ready, Queue.Retrieve(late).StateCode);
            }
        }
    }
}
