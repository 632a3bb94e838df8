using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class ThreadTests : QueueFixture
    {
        public ThreadTests(string store) : base(store) { }

        [Test]
        public void WorkerWithEightThreadsCompletesTwoThousandOperationsExactlyOnce()
        {
            // A server round trip per commit: a few hundred prove the same on PostgreSQL.
            int n = OnPostgres ? 400 : 2000;
            var ids = Queue.SubmitMany(Enumerable.Range(0, n).Select(i => new AsyncOperationSpec("op" + i, 1 + i % 2)));
            var runs = new ConcurrentDictionary<long, int>();
            var threadsSeen = new ConcurrentDictionary<int, bool>();
            using (var worker = new Worker(Queue, "cs-worker", 8))
            {
                Action<WorkerJob> handler = job =>
                {
                    runs.AddOrUpdate(job.Id, 1, (k, v) => v + 1);
                    threadsSeen[Thread.CurrentThread.ManagedThreadId] = true;
                };
                worker.Register(1, handler);
                worker.Register(2, handler);
                worker.Start();
                WaitUntil(() => Queue.Counts().Where(c => c.StateCode == AsyncOperationState.Completed).Sum(c => c.Count) == n, TimeSpan.FromSeconds(120), "all completed");
                worker.Stop();
                Assert.AreEqual(n, worker.Processed);
            }
            CollectionAssert.AreEquivalent(ids, runs.Keys);
            Assert.IsTrue(runs.Values.All(v => v == 1), "an operation ran twice");
            var counts = Queue.Counts();
            Assert.IsTrue(counts.All(c => c.StatusCode == AsyncOperationStatus.Succeeded));
            Assert.Greater(threadsSeen.Count, 1, "the work was spread over threads");
        }

        [Test]
        public void WorkerTokenFiresOnPauseAndCancel()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromMilliseconds(300) }))
            using (var worker = new Worker(q, "stopper", 2))
            {
                var started = new ConcurrentDictionary<long, bool>();
                var reasons = new ConcurrentDictionary<long, StopReason>();
                worker.Register(3, job =>
                {
                    started[job.Id] = true;
                    job.CancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(20));
                    reasons[job.Id] = job.StopReason;
                    job.CancellationToken.ThrowIfCancellationRequested();
                });
                worker.Start();
                long a = q.Submit("to cancel", 3), b = q.Submit("to pause", 3);
                WaitUntil(() => started.ContainsKey(a) && started.ContainsKey(b), TimeSpan.FromSeconds(10), "both started");
                q.Cancel(a);
                q.Pause(b);
                var ca = q.WaitFor(a, TimeSpan.FromSeconds(10));
                Assert.AreEqual("3/32", StateOf(ca));
                WaitUntil(() => q.Retrieve(b).StateCode == AsyncOperationState.Suspended, TimeSpan.FromSeconds(10), "paused");
                Assert.AreEqual(StopReason.Canceling, reasons[a]);
                Assert.AreEqual(StopReason.Pausing, reasons[b]);
                worker.Stop(TimeSpan.FromSeconds(5));
            }
        }

        [Test]
        public void WorkerMapsHandlerExceptionsToOutcomes()
        {
            using (var worker = new Worker(Queue, "mapper", 2))
            {
                worker.Register(4, job => { throw new PermanentFailureException("bad input", 77); });
                worker.Register(5, job => { throw new InvalidOperationException("flaky"); });
                worker.Register(6, job => { throw new SuspendOperationException("needs a human"); });
                long f = Queue.Submit("f", 4), r = Queue.Submit("r", 5), s = Queue.Submit("s", 6);
                worker.Start();
                var fo = Queue.WaitFor(f, TimeSpan.FromSeconds(10));
                Assert.AreEqual(AsyncOperationStatus.Failed, fo.StatusCode);
                Assert.AreEqual(77, fo.ErrorCode);
                Assert.AreEqual("bad input", fo.Message);
                WaitUntil(() => Queue.Retrieve(r).RetryCount == 1 && Queue.Retrieve(s).StateCode == AsyncOperationState.Suspended, TimeSpan.FromSeconds(10), "retry and suspend");
                StringAssert.Contains("flaky", Queue.Retrieve(r).Message);
                Assert.IsNull(Queue.Retrieve(s).PostponeUntil);
            }
        }

        [Test]
        public void ConcurrentDisposeWhileCallsAreInFlight()
        {
            for (int round = 0; round < 5; round++)
            {
                var q = AsyncOperationQueue.Open(NewTarget("race" + round + ".db"), new AsyncOperationQueueOptions { Durability = Durability.Normal });
                for (int i = 0; i < 50; i++) q.Submit("seed", 1);
                var unexpected = new ConcurrentQueue<Exception>();
                var go = new ManualResetEventSlim(false);
                var last = new int[8];
                var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
                {
                    go.Wait();
                    var rnd = new Random(t);
                    try
                    {
                        while (true)
                        {
                            int k = rnd.Next(6);
                            last[t] = k;
                            switch (k)
                            {
                                case 0: q.Submit("x", 1, new byte[100]); break;
                                case 1: q.Query(new AsyncOperationQuery { Limit = 20 }); break;
                                case 2: q.Counts(); break;
                                case 3: foreach (var l in q.Poll("h" + t, 2, TimeSpan.FromMilliseconds(20))) using (l) { l.Renew(); l.Complete(); } break;
                                case 4: q.WaitFor(1, TimeSpan.FromMilliseconds(5)); break;
                                default: q.RunMaintenance(); break;
                            }
                        }
                    }
                    catch (ObjectDisposedException) { }
                    catch (Exception e) { unexpected.Enqueue(e); }
                })).ToList();
                threads.ForEach(th => th.Start());
                go.Set();
                Thread.Sleep(50 + round * 20);
                var disposers = Enumerable.Range(0, 2).Select(i => new Thread(() => q.Dispose())).ToList();
                disposers.ForEach(d => d.Start());
                disposers.ForEach(d => d.Join());
                foreach (var th in threads) Assert.IsTrue(th.Join(TimeSpan.FromSeconds(30)), "a thread hung after Dispose; last calls: " + string.Join(",", last.Select(x => x.ToString()).ToArray()));
                Assert.IsEmpty(unexpected, string.Join("\n", unexpected.Select(e => e.ToString()).ToArray()));
                Assert.Throws<ObjectDisposedException>(() => q.Counts());
            }
        }
    }
}
