using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class LifecycleTests : QueueFixture
    {
        public LifecycleTests(string store) : base(store) { }

        [Test]
        public void SubmitRetrieveAllAttributes()
        {
            var before = DateTime.UtcNow.AddSeconds(-5);
            long id = Queue.Submit("héllo ✓", 7, new byte[] { 0, 1, 2, 255 }, "tok", null, "corr-1");
            Assert.Greater(id, 0);
            var op = Queue.Retrieve(id);
            Assert.AreEqual(id, op.Id);
            Assert.AreEqual("héllo ✓", op.Name);
            Assert.AreEqual(7, op.OperationType);
            Assert.AreEqual(AsyncOperationState.Ready, op.StateCode);
            Assert.AreEqual(AsyncOperationStatus.WaitingForResources, op.StatusCode);
            CollectionAssert.AreEqual(new byte[] { 0, 1, 2, 255 }, op.Data);
            Assert.AreEqual("tok", op.DependencyToken);
            Assert.AreEqual("corr-1", op.CorrelationId);
            Assert.IsNull(op.PostponeUntil);
            Assert.IsNull(op.HostId);
            Assert.IsNull(op.LeaseExpiresAt);
            Assert.AreEqual(0, op.LockToken);
            Assert.AreEqual(0, op.RetryCount);
            Assert.IsNull(op.ErrorCode);
            Assert.IsNull(op.Message);
            Assert.IsNull(op.FriendlyMessage);
            Assert.AreEqual(DateTimeKind.Utc, op.CreatedOn.Kind);
            Assert.AreEqual(DateTimeKind.Utc, op.ModifiedOn.Kind);
            Assert.That(op.CreatedOn > before && op.CreatedOn < DateTime.UtcNow.AddSeconds(5));
            Assert.IsNull(op.StartedOn);
            Assert.IsNull(op.CompletedOn);
            Assert.IsNull(op.ExecutionTimeSpan);
            var empty = Queue.Retrieve(Queue.Submit("", 1));
            Assert.AreEqual("", empty.Name);
            Assert.AreEqual(0, empty.Data.Length);
            Assert.IsNull(empty.DependencyToken);
        }

        [Test]
        public void FullLifeCycleSucceeded()
        {
            long id = Queue.Submit("job", 5, Encoding.UTF8.GetBytes("payload"), null, null, "c");
            using (var lease = Claim(Queue))
            {
                Assert.AreEqual(id, lease.Id);
                Assert.AreEqual("job", lease.Name);
                Assert.AreEqual(5, lease.OperationType);
                Assert.AreEqual(1, lease.Attempt);
                Assert.AreEqual(1, lease.LockToken);
                Assert.AreEqual("host-1", lease.HostId);
                Assert.AreEqual("payload", Encoding.UTF8.GetString(lease.Data));
                Assert.AreEqual("c", lease.CorrelationId);
                Assert.IsNull(lease.DependencyToken);
                Assert.AreEqual(DateTimeKind.Utc, lease.ExpiresAt.Kind);
                var locked = Queue.Retrieve(id);
                Assert.AreEqual(AsyncOperationState.Locked, locked.StateCode);
                Assert.AreEqual(AsyncOperationStatus.InProgress, locked.StatusCode);
                Assert.AreEqual("host-1", locked.HostId);
                Assert.IsNotNull(locked.LeaseExpiresAt);
                Assert.IsNotNull(locked.StartedOn);
                Assert.AreEqual(AsyncOperationStatus.InProgress, lease.Renew());
                Assert.AreEqual(AsyncOperationStatus.Succeeded, lease.Complete());
                Assert.IsTrue(lease.IsFinished);
                Assert.Throws<AsyncopLeaseLostException>(() => lease.Complete());
            }
            var done = Queue.WaitFor(id, TimeSpan.FromSeconds(1));
            Assert.AreEqual(AsyncOperationState.Completed, done.StateCode);
            Assert.AreEqual(AsyncOperationStatus.Succeeded, done.StatusCode);
            Assert.IsNotNull(done.CompletedOn);
            Assert.IsNotNull(done.ExecutionTimeSpan);
            Assert.IsNull(done.HostId);
            Assert.AreEqual(0, Queue.Poll("host-1").Count);
        }

        [Test]
        public void FailRetrySuspendOutcomes()
        {
            long a = Queue.Submit("a", 1), b = Queue.Submit("b", 1), c = Queue.Submit("c", 1);
            using (var l = Claim(Queue)) Assert.AreEqual(AsyncOperationStatus.Failed, l.Fail(42, "broken"));
            var fa = Queue.Retrieve(a);
            Assert.AreEqual(AsyncOperationStatus.Failed, fa.StatusCode);
            Assert.AreEqual(42, fa.ErrorCode);
            Assert.AreEqual("broken", fa.Message);
            using (var l = Claim(Queue)) Assert.AreEqual(AsyncOperationStatus.Waiting, l.Retry(7, "later", DateTime.UtcNow.AddHours(1)));
            var rb = Queue.Retrieve(b);
            Assert.AreEqual(AsyncOperationState.Suspended, rb.StateCode);
            Assert.AreEqual(1, rb.RetryCount);
            Assert.IsNotNull(rb.PostponeUntil);
            using (var l = Claim(Queue)) Assert.AreEqual(AsyncOperationStatus.Waiting, l.Suspend(0, "needs a human"));
            var sc = Queue.Retrieve(c);
            Assert.AreEqual(AsyncOperationState.Suspended, sc.StateCode);
            Assert.IsNull(sc.PostponeUntil);
            Queue.Resume(c);
            using (var l = Claim(Queue)) { Assert.AreEqual(c, l.Id); Assert.AreEqual(2, l.LockToken); l.Complete(); }
        }

        [Test]
        public void DisposingALeaseWithoutOutcomeIsARetryableFailure()
        {
            long id = Queue.Submit("x", 1);
            var lease = Claim(Queue);
            lease.Dispose();
            lease.Dispose();
            var op = Queue.Retrieve(id);
            Assert.AreEqual(AsyncOperationState.Suspended, op.StateCode);
            Assert.AreEqual(1, op.RetryCount);
            Assert.Throws<ObjectDisposedException>(() => lease.Renew());
        }

        [Test]
        public void PauseAndCancelAreSeenByRenewAndAcknowledged()
        {
            long p = Queue.Submit("p", 1);
            using (var l = Claim(Queue))
            {
                Queue.Pause(p);
                Assert.AreEqual(AsyncOperationStatus.Pausing, l.Renew());
                Assert.AreEqual(AsyncOperationStatus.Waiting, l.AcknowledgePause());
            }
            Assert.AreEqual("1/10", StateOf(Queue.Retrieve(p)));
            Queue.Resume(p);
            using (var l = Claim(Queue))
            {
                Queue.Cancel(p);
                Assert.AreEqual(AsyncOperationStatus.Canceling, l.Renew());
                Assert.AreEqual(AsyncOperationStatus.Canceled, l.AcknowledgeCancel());
            }
            Assert.AreEqual("3/32", StateOf(Queue.Retrieve(p)));
        }

        [Test]
        public void SubmitManyQueryCountsMaintenance()
        {
            var ids = Queue.SubmitMany(Enumerable.Range(0, 10).Select(i => new AsyncOperationSpec("op" + i, 1 + i % 2)
            {
                Data = new byte[] { (byte)i }, DependencyToken = i == 0 ? "t" : null, CorrelationId = "c" + i,
                PostponeUntil = i == 9 ? (DateTime?)DateTime.UtcNow.AddHours(1) : null,
            }));
            Assert.AreEqual(10, ids.Length);
            CollectionAssert.AreEqual(ids.OrderBy(x => x).ToArray(), ids);
            Assert.AreEqual(0, Queue.SubmitMany(new AsyncOperationSpec[0]).Length);
            var all = Queue.Query();
            Assert.AreEqual(10, all.Count);
            Assert.AreEqual("t", all[0].DependencyToken);
            Assert.AreEqual(5, Queue.Query(new AsyncOperationQuery { OperationType = 2 }).Count);
            Assert.AreEqual(1, Queue.Query(new AsyncOperationQuery { State = AsyncOperationState.Suspended }).Count);
            Assert.AreEqual(1, Queue.Query(new AsyncOperationQuery { Name = "op3" }).Count);
            Assert.AreEqual(3, Queue.Query(new AsyncOperationQuery { AfterId = ids[2], Limit = 3 }).Count);
            var counts = Queue.Counts();
            Assert.AreEqual(10, counts.Sum(c => c.Count));
            Assert.IsTrue(counts.Any(c => c.StateCode == AsyncOperationState.Suspended && c.StatusCode == AsyncOperationStatus.Waiting && c.Count == 1));
            var m = Queue.RunMaintenance();
            Assert.AreEqual(0, m.Recovered);
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Query(new AsyncOperationQuery { State = AsyncOperationState.Ready, Status = AsyncOperationStatus.Failed }));
            Assert.That((DateTime.UtcNow - Queue.Now()).Duration() < TimeSpan.FromMinutes(1));
            Assert.IsNotEmpty(AsyncOperationQueue.LibraryVersion);
        }

        [Test]
        public void ExpiredLeaseIsRecoveredAndOldLeaseIsFenced()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromMilliseconds(100) }))
            {
                long id = q.Submit("x", 1);
                var old = Claim(q);
                System.Threading.Thread.Sleep(300);
                q.RunMaintenance();
                var fresh = Claim(q);
                Assert.AreEqual(id, fresh.Id);
                Assert.AreEqual(2, fresh.Attempt);
                Assert.Throws<AsyncopLeaseLostException>(() => old.Complete());
                fresh.Complete();
                old.Dispose();
                fresh.Dispose();
                Assert.AreEqual(AsyncOperationStatus.Succeeded, q.Retrieve(id).StatusCode);
            }
        }

        [Test]
        public void WaitForTimesOutWithLatestSnapshot()
        {
            long id = Queue.Submit("x", 1);
            var op = Queue.WaitFor(id, TimeSpan.FromMilliseconds(50));
            Assert.AreEqual(AsyncOperationState.Ready, op.StateCode);
        }

        [Test]
        public void OptionsAreApplied()
        {
            string db2 = NewTarget("opts.db");
            using (var q = AsyncOperationQueue.Open(db2, new AsyncOperationQueueOptions
            {
                Durability = Durability.Full, BusyTimeout = TimeSpan.FromSeconds(1), LeaseDuration = TimeSpan.FromSeconds(10),
                RestrictedTypes = new[] { 77 }, MaxAttempts = 1, BackoffBase = TimeSpan.FromSeconds(1), BackoffCap = TimeSpan.FromSeconds(2), AllowDeleteAny = true,
            }))
            {
                long a = q.Submit("a", 77);
                var ex = Assert.Throws<AsyncopInvalidStateChangeException>(() => q.Cancel(a));
                Assert.AreEqual(AsyncopErrorCode.CannotCancel, ex.Code);
                Assert.AreEqual(unchecked((int)0x80044F00), ex.HResult);
                long b = q.Submit("b", 1);
                using (var l = Claim(q, 1)) Assert.AreEqual(AsyncOperationStatus.Failed, l.Retry(0, "no budget"));
                q.Delete(a);
                Assert.Throws<AsyncopNotFoundException>(() => q.Retrieve(a));
                Assert.AreEqual(AsyncOperationStatus.Failed, q.Retrieve(b).StatusCode);
            }
        }
    }
}
