using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>PollAsync and WaitForAsync: they wait without holding thread-pool threads, return work that arrives while
    /// they wait, and end at once when their token is canceled.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class AsyncWaitTests : QueueFixture
    {
        public AsyncWaitTests(string store) : base(store) { }

        // What "at once" means here: the Task is canceled from the canceling thread (measured: well under 10 ms); the
        // bound leaves room for a loaded CI machine.
        const double CancelBoundMs = 250;

        [Test]
        public void PollAsyncReturnsAJobSubmittedWhileItWaits()
        {
            var sw = Stopwatch.StartNew();
            var poll = Queue.PollAsync("async-host", 1, TimeSpan.FromSeconds(20), new[] { 21 });
            Thread.Sleep(300);
            Assert.IsFalse(poll.IsCompleted, "nothing to claim yet: it waits");
            long id;
            using (var other = AsyncOperationQueue.Open(Db)) id = other.Submit("late", 21);
            Assert.IsTrue(poll.Wait(TimeSpan.FromSeconds(10)), "the poll returned");
            Assert.Less(sw.Elapsed.TotalSeconds, 10.0, "it returned with the job, not at its 20 s deadline");
            var leases = poll.Result;
            Assert.AreEqual(1, leases.Count);
            Assert.AreEqual(id, leases[0].Id);
            Assert.AreEqual("async-host", leases[0].HostId);
            leases[0].Complete();
            leases[0].Dispose();
        }

        [Test]
        public void PollAsyncWithWorkOrWithoutAWaitIsCompleteAtOnce()
        {
            var empty = Queue.PollAsync("h", 5);
            Assert.IsTrue(empty.IsCompleted);
            Assert.AreEqual(0, empty.Result.Count);
            long a = Queue.Submit("a", 22), b = Queue.Submit("b", 22);
            var ready = Queue.PollAsync("h", 5, TimeSpan.FromSeconds(10));
            Assert.IsTrue(ready.IsCompleted, "work was there: no wait");
            CollectionAssert.AreEquivalent(new[] { a, b }, ready.Result.Select(l => l.Id).ToArray());
            foreach (var l in ready.Result) l.Dispose();
            var sw = Stopwatch.StartNew();
            var timedOut = Queue.PollAsync("h", 1, TimeSpan.FromMilliseconds(500), new[] { 23 });
            Assert.AreEqual(0, timedOut.Result.Count);
            Assert.GreaterOrEqual(sw.Elapsed.TotalMilliseconds, 450.0, "it waited its time");
            Assert.Throws<ArgumentNullException>(() => Queue.PollAsync(null));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.PollAsync("h", 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.WaitForAsync(0, TimeSpan.Zero));
        }

        [Test]
        public void WaitForAsyncReturnsWhenAnotherHostCompletes()
        {
            long id = Queue.Submit("job", 24);
            var wait = Queue.WaitForAsync(id, TimeSpan.FromSeconds(20));
            Thread.Sleep(300);
            Assert.IsFalse(wait.IsCompleted);
            using (var other = AsyncOperationQueue.Open(Db))
            using (var lease = Claim(other, 24)) lease.Complete(new byte[] { 1 });
            Assert.IsTrue(wait.Wait(TimeSpan.FromSeconds(10)));
            Assert.AreEqual("3/30", StateOf(wait.Result));
            var again = Queue.WaitForAsync(id, TimeSpan.FromSeconds(10));
            Assert.IsTrue(again.IsCompleted, "already Completed: no wait");
            var sw = Stopwatch.StartNew();
            long open = Queue.Submit("never done", 25);
            var timedOut = Queue.WaitForAsync(open, TimeSpan.FromMilliseconds(400));
            Assert.AreEqual(AsyncOperationState.Ready, timedOut.Result.StateCode, "the latest snapshot at the timeout");
            Assert.GreaterOrEqual(sw.Elapsed.TotalMilliseconds, 350.0);
            var unknown = Queue.WaitForAsync(999999, TimeSpan.FromSeconds(1));
            var e = Assert.Throws<AggregateException>(() => unknown.Wait());
            Assert.IsInstanceOf<AsyncopNotFoundException>(e.InnerException);
        }

        static void AssertCanceledAtOnce(Task task, CancellationTokenSource cts, string what)
        {
            Thread.Sleep(300); // in its dedicated wait
            Assert.IsFalse(task.IsCompleted, what + " waits");
            var sw = Stopwatch.StartNew();
            cts.Cancel();
            try { task.Wait(TimeSpan.FromSeconds(5)); }
            catch (AggregateException e) { Assert.IsInstanceOf<OperationCanceledException>(e.InnerException, what); }
            double ms = sw.Elapsed.TotalMilliseconds;
            Console.WriteLine("{0}: canceled {1} ended after {2:F2} ms", what, task.Status, ms);
            Assert.IsTrue(task.IsCanceled, what + " is canceled");
            Assert.Less(ms, CancelBoundMs, what + " ended at once");
        }

        [Test]
        public void CancelingAWaitingPollAsyncOrWaitForAsyncEndsItAtOnce()
        {
            using (var cts = new CancellationTokenSource())
                AssertCanceledAtOnce(Queue.PollAsync("h", 1, TimeSpan.FromSeconds(30), new[] { 26 }, cts.Token), cts, "PollAsync");
            long id = Queue.Submit("pending", 27);
            using (var cts = new CancellationTokenSource())
                AssertCanceledAtOnce(Queue.WaitForAsync(id, TimeSpan.FromSeconds(30), cts.Token), cts, "WaitForAsync");
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Assert.IsTrue(Queue.PollAsync("h", 1, TimeSpan.FromSeconds(1), null, cts.Token).IsCanceled, "canceled before the call");
                Assert.IsTrue(Queue.WaitForAsync(id, TimeSpan.FromSeconds(1), cts.Token).IsCanceled);
            }
        }

        [Test]
        public void AJobClaimedByACanceledPollIsGivenBack()
        {
            // Submitted right after the cancel: the canceled poll's thread is still in its last slice and usually claims
            // the job after its caller left. It must give it back at once (a retry due now: the attempt counts), so a
            // live poll gets it.
            var cts = new CancellationTokenSource();
            var canceled = Queue.PollAsync("gone", 1, TimeSpan.FromSeconds(30), new[] { 28 }, cts.Token);
            Thread.Sleep(100);
            cts.Cancel();
            long id = Queue.Submit("orphan?", 28);
            IList<Lease> got = new List<Lease>();
            var sw = Stopwatch.StartNew();
            while (got.Count == 0 && sw.Elapsed < TimeSpan.FromSeconds(10)) got = Queue.Poll("live", 1, TimeSpan.FromMilliseconds(200), new[] { 28 });
            var op = Queue.Retrieve(id);
            Assert.AreEqual(1, got.Count, "the job reached a live poll; it is " + StateOf(op) + ", retries " + op.RetryCount);
            Assert.AreEqual(id, got[0].Id);
            Console.WriteLine("{0}: the job reached the live poll after {1:F0} ms, {2}", Store, sw.Elapsed.TotalMilliseconds,
                op.RetryCount == 0 ? "never claimed by the canceled poll" : "given back by the canceled poll");
            Assert.LessOrEqual(op.RetryCount, 1);
            if (op.RetryCount == 1) Assert.AreEqual("poll canceled before its leases were used", Queue.Attempts(id)[0].Message);
            got[0].Complete();
            got[0].Dispose();
            Assert.IsTrue(canceled.IsCanceled);
            cts.Dispose();
        }

        [Test]
        public void ClosingTheQueueFaultsAWaitingPollAsync()
        {
            var q = AsyncOperationQueue.Open(Db);
            var poll = q.PollAsync("h", 1, TimeSpan.FromSeconds(30), new[] { 31 });
            Thread.Sleep(300);
            var sw = Stopwatch.StartNew();
            q.Dispose();
            var e = Assert.Throws<AggregateException>(() => poll.Wait(TimeSpan.FromSeconds(5)));
            Console.WriteLine("{0}: closing the queue ended the poll after {1:F1} ms with {2}", Store, sw.Elapsed.TotalMilliseconds, e.InnerException.GetType().Name);
            Assert.IsTrue(e.InnerException is ObjectDisposedException || e.InnerException is AsyncopException, e.InnerException.ToString());
            Assert.Less(sw.Elapsed.TotalMilliseconds, 1000.0);
        }

        [Test]
        public void TwentyWaitsLeaveTheLimitedThreadPoolFree()
        {
            int minWorkers, minIo, maxWorkers, maxIo;
            ThreadPool.GetMinThreads(out minWorkers, out minIo);
            ThreadPool.GetMaxThreads(out maxWorkers, out maxIo);
            int limit = Environment.ProcessorCount; // the least SetMaxThreads accepts
            var cts = new CancellationTokenSource();
            var waits = new List<Task>();
            try
            {
                Assert.IsTrue(ThreadPool.SetMinThreads(1, 1), "SetMinThreads");
                Assert.IsTrue(ThreadPool.SetMaxThreads(limit, limit), "SetMaxThreads");
                long id = Queue.Submit("pending", 29);
                for (int i = 0; i < 10; i++)
                {
                    waits.Add(Queue.PollAsync("h" + i, 1, TimeSpan.FromSeconds(30), new[] { 30 }, cts.Token));
                    waits.Add(Queue.WaitForAsync(id, TimeSpan.FromSeconds(30), cts.Token));
                }
                Thread.Sleep(500); // every wait in its slices
                Assert.IsFalse(waits.Any(w => w.IsCompleted), "all 20 wait");
                // Several pool work items in a row, each must run promptly although 20 waits are pending.
                for (int round = 0; round < 5; round++)
                {
                    var ran = new ManualResetEventSlim();
                    var sw = Stopwatch.StartNew();
                    ThreadPool.QueueUserWorkItem(_ => ran.Set());
                    Assert.IsTrue(ran.Wait(TimeSpan.FromSeconds(2)), "a pool work item ran while 20 waits are pending");
                    Assert.Less(sw.Elapsed.TotalMilliseconds, 500.0, "promptly");
                    var viaTask = Task.Run(() => 42);
                    Assert.IsTrue(viaTask.Wait(TimeSpan.FromSeconds(2)), "Task.Run ran");
                }
                var swCancel = Stopwatch.StartNew();
                cts.Cancel();
                Assert.IsTrue(Task.WhenAll(waits).ContinueWith(t => { }).Wait(TimeSpan.FromSeconds(5)), "all ended");
                Console.WriteLine("{0}: 20 waits canceled in {1:F1} ms", Store, swCancel.Elapsed.TotalMilliseconds);
                Assert.IsTrue(waits.All(w => w.IsCanceled), "all 20 canceled");
                Assert.Less(swCancel.Elapsed.TotalMilliseconds, 1000.0);
            }
            finally
            {
                cts.Cancel();
                ThreadPool.SetMaxThreads(maxWorkers, maxIo);
                ThreadPool.SetMinThreads(minWorkers, minIo);
                cts.Dispose();
            }
        }
    }
}
