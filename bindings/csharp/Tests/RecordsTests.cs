using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>Progress, output and the attempt history (issue 13, items 4 and 5): lease calls, snapshot properties,
    /// Attempts, and the Worker's handler results and AttemptFailed event.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class RecordsTests : QueueFixture
    {
        public RecordsTests(string store) : base(store) { }

        AsyncOperationQueue OpenFast(int maxAttempts = 4)
        {
            return AsyncOperationQueue.Open(NewTarget("fast.db"), new AsyncOperationQueueOptions
            {
                Durability = Durability.Normal,
                MaxAttempts = maxAttempts,
                BackoffBase = TimeSpan.FromMilliseconds(1),
                BackoffCap = TimeSpan.FromMilliseconds(1),
                LeaseDuration = TimeSpan.FromMilliseconds(300),
            });
        }

        [Test]
        public void ProgressIsStoredFencedAndResetByAClaim()
        {
            using (var q = OpenFast())
            {
                long id = q.Submit("p", 7);
                var first = Claim(q);
                Assert.AreEqual(AsyncOperationStatus.InProgress, first.Progress(40, "copying"));
                var op = q.Retrieve(id);
                Assert.AreEqual(40, op.Progress);
                Assert.AreEqual("copying", op.ProgressText);
                Assert.AreEqual(AsyncOperationStatus.InProgress, first.Progress(60, null, true));
                Assert.IsNull(q.Retrieve(id).ProgressText);
                Assert.Throws<AsyncopInvalidArgumentException>(() => first.Progress(101));
                Assert.Throws<AsyncopInvalidArgumentException>(() => first.Progress(-1));
                Assert.Throws<AsyncopInvalidArgumentException>(() => first.Progress(1, new string('x', AsyncOperationQueue.ProgressTextMaxChars + 1)));
                first.Retry(1, "again");
                Thread.Sleep(10);
                var second = Claim(q);
                Assert.IsNull(q.Retrieve(id).Progress);
                Assert.Throws<AsyncopLeaseLostException>(() => first.Progress(99));
                q.Pause(id);
                Assert.AreEqual(AsyncOperationStatus.Pausing, second.Progress(70));
                first.Dispose();
                second.AcknowledgePause();
                second.Dispose();
            }
        }

        [Test]
        public void OutputIsStoredAndLimited()
        {
            long id = Queue.Submit("o", 7);
            using (var lease = Claim(Queue))
            {
                Assert.Throws<AsyncopInvalidArgumentException>(() => lease.Complete(new byte[AsyncOperationQueue.OutputMaxBytes + 1]));
                Assert.IsFalse(lease.IsFinished);
                Assert.AreEqual(AsyncOperationStatus.Succeeded, lease.Complete(new byte[] { 0, 1, 2 }));
            }
            CollectionAssert.AreEqual(new byte[] { 0, 1, 2 }, Queue.Retrieve(id).Output);
            long other = Queue.Submit("none", 7);
            using (var lease = Claim(Queue)) lease.Complete();
            Assert.IsNull(Queue.Retrieve(other).Output);
        }

        [Test]
        public void AttemptsKeepRetryExpiryAndFailure()
        {
            using (var q = OpenFast())
            {
                long id = q.Submit("a", 7);
                Assert.AreEqual(0, q.Attempts(id).Count);
                using (var l = Claim(q, 0, "h1")) l.Retry(-5, "first", null, "detail 1");
                Thread.Sleep(10);
                var abandoned = Claim(q, 0, "h2");
                Thread.Sleep(400);
                q.RunMaintenance();
                using (var l = Claim(q, 0, "h3")) l.Fail(-7, "fatal", "detail 3");
                var kept = q.Attempts(id);
                CollectionAssert.AreEqual(new[] { AttemptEnding.Retry, AttemptEnding.Expired, AttemptEnding.Failed }, kept.Select(a => a.Ending).ToArray());
                CollectionAssert.AreEqual(new[] { "h1", "h2", "h3" }, kept.Select(a => a.HostId).ToArray());
                CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, kept.Select(a => a.LockToken).ToArray());
                Assert.AreEqual(-5, kept[0].ErrorCode);
                Assert.AreEqual("detail 1", kept[0].Detail);
                Assert.AreEqual((int)AsyncopErrorCode.LeaseLost, kept[1].ErrorCode);
                Assert.IsNull(kept[1].Detail);
                Assert.AreEqual("detail 3", kept[2].Detail);
                Assert.IsTrue(kept.All(a => a.OperationId == id && a.StartedOn.HasValue && a.EndedOn >= a.StartedOn.Value));
                abandoned.Dispose();
                q.Delete(id);
                Assert.Throws<AsyncopNotFoundException>(() => q.Attempts(id));
            }
        }

        [Test]
        public void WorkerStoresResultsAndRaisesAttemptFailedWithTheException()
        {
            using (var q = OpenFast(2))
            {
                long text = q.Submit("text", 7);
                long bytes = q.Submit("bytes", 8);
                long boom = q.Submit("boom", 9);
                var failed = new List<AttemptFailedEventArgs>();
                // Prefetch 1: with a 300 ms lease, a prefetched lease waiting behind "text" can expire on a loaded
                // PostgreSQL (its renewal was seen to queue ~300 ms behind the renewal of the running job).
                var worker = new Worker(q, "cs-host", 1) { PollWait = TimeSpan.FromMilliseconds(20), Prefetch = 1 };
                worker.RegisterWithResult(7, job => { job.Progress(50, "half"); return "héllo"; });
                worker.RegisterWithResult(8, job => new byte[] { 9, 8 });
                worker.Register(9, job => { throw new InvalidOperationException("kaput"); });
                worker.AttemptFailed += (sender, e) => { lock (failed) failed.Add(e); };
                worker.Start();
                try
                {
                    WaitUntil(() => new[] { text, bytes, boom }.All(i => q.Retrieve(i).StateCode == AsyncOperationState.Completed));
                }
                finally { worker.Stop(); }
                CollectionAssert.AreEqual(Encoding.UTF8.GetBytes("héllo"), q.Retrieve(text).Output);
                Assert.AreEqual(50, q.Retrieve(text).Progress);
                CollectionAssert.AreEqual(new byte[] { 9, 8 }, q.Retrieve(bytes).Output);
                Assert.AreEqual(AsyncOperationStatus.Failed, q.Retrieve(boom).StatusCode);
                lock (failed)
                {
                    Assert.AreEqual(2, failed.Count);
                    Assert.IsFalse(failed[0].IsFinal);
                    Assert.AreEqual(AsyncOperationStatus.Waiting, failed[0].Status);
                    Assert.IsTrue(failed[1].IsFinal);
                    Assert.IsInstanceOf<InvalidOperationException>(failed[1].Exception);
                    Assert.AreEqual(boom, failed[1].Job.Id);
                }
                var kept = q.Attempts(boom);
                Assert.AreEqual(2, kept.Count);
                foreach (var a in kept)
                {
                    Assert.AreEqual(AttemptEnding.Retry, a.Ending);
                    StringAssert.StartsWith("System.InvalidOperationException: kaput", a.Detail);
                    StringAssert.Contains(" at ", a.Detail);
                }
            }
        }
    }
}
