using System;
using System.Linq;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>Clean-up (operation-model.md §10) and held types (§6.7) through the wrapper, on both stores.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class CleanupTests : QueueFixture
    {
        public CleanupTests(string store) : base(store) { }

        const int Held = 500;

        long Done(AsyncOperationQueue q, string how, int type = 100)
        {
            long id = q.Submit(how, type);
            if (how == "canceled") { q.Cancel(id); return id; }
            var lease = Claim(q, type);
            Assert.AreEqual(id, lease.Id);
            if (how == "succeeded") lease.Complete(); else lease.Fail(0, "failed");
            return id;
        }

        static bool Exists(AsyncOperationQueue q, long id)
        {
            try { q.Retrieve(id); return true; }
            catch (AsyncopNotFoundException) { return false; }
        }

        [Test]
        public void PurgeKeepsEachStatusForItsRetention()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions
            {
                Durability = Durability.Normal,
                RetentionSucceeded = AsyncOperationQueue.RetentionNone,
                RetentionCanceled = TimeSpan.FromHours(1),
            }))
            {
                long s = Done(q, "succeeded"), f = Done(q, "failed"), c = Done(q, "canceled");
                Assert.AreEqual(0, q.Purge());
                Assert.AreEqual(1, q.Purge(DateTime.UtcNow.AddHours(2)));
                Assert.IsFalse(Exists(q, c));
                Assert.AreEqual(1, q.Purge(DateTime.UtcNow.AddDays(61)));
                Assert.IsFalse(Exists(q, f));
                Assert.AreEqual(0, q.Purge(DateTime.UtcNow.AddDays(100000)));
                Assert.IsTrue(Exists(q, s));
            }
        }

        [Test]
        public void AutoDeleteOnSuccess()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal, AutoDeleteTypes = new[] { 77 } }))
            {
                long gone = Done(q, "succeeded", 77), kept = Done(q, "failed", 77), other = Done(q, "succeeded", 100);
                Assert.IsFalse(Exists(q, gone));
                Assert.IsTrue(Exists(q, kept));
                Assert.IsTrue(Exists(q, other));
            }
        }

        [Test]
        public void HeldTypeIsSkippedByAnotherHandleUntilReleased()
        {
            using (var other = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
            {
                long a = Queue.Submit("a", Held), b = Queue.Submit("b", 100), c = Queue.Submit("c", Held);
                Queue.HoldType(Held);
                Queue.HoldType(Held);
                CollectionAssert.AreEqual(new[] { Held }, other.HeldTypes());
                Assert.AreEqual(b, Claim(other).Id);
                Assert.AreEqual(0, other.Poll("host-2").Count);
                Assert.IsTrue(other.Counts().Single(r => r.OperationType == Held).Held);
                Assert.IsFalse(other.Counts().Single(r => r.OperationType == 100).Held);
                Assert.AreEqual("0/0", StateOf(Queue.Retrieve(a)));
                other.ReleaseType(Held);
                Assert.AreEqual(0, Queue.HeldTypes().Length);
                Assert.AreEqual(a, Claim(other).Id);
                Assert.AreEqual(c, Claim(other).Id);
            }
        }

        [Test]
        public void BadInputIsRefusedCleanly()
        {
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.HoldType(0));
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.ReleaseType(-3));
            Assert.Throws<ArgumentOutOfRangeException>(() => AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { RetentionFailed = TimeSpan.FromDays(-1) }));
            Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { AutoDeleteTypes = new[] { 0 } }));
        }
    }
}
