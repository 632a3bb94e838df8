using System;
using System.IO;
using System.Reflection;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>The conversion rules the C# and Python wrappers share (README "Conversion rules"; the Python side is
    /// tests/test_conversions.py): durations round up to whole milliseconds and a negative one is refused before any
    /// native call; DateTimes must say their kind.</summary>
    [TestFixture]
    public class ConversionTests : QueueFixture
    {
        static readonly Type InteropType = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.Interop", true);

        static long DurationMs(TimeSpan t)
        {
            try { return (long)InteropType.GetMethod("DurationMs", BindingFlags.Static | BindingFlags.NonPublic).Invoke(null, new object[] { t, "d" }); }
            catch (TargetInvocationException e) { throw e.InnerException; }
        }

        [Test]
        public void DurationsRoundUpToWholeMilliseconds()
        {
            Assert.AreEqual(1, DurationMs(TimeSpan.FromTicks(4000)));   // 0.4 ms
            Assert.AreEqual(1, DurationMs(TimeSpan.FromTicks(10000)));  // 1.0 ms
            Assert.AreEqual(2, DurationMs(TimeSpan.FromTicks(12000)));  // 1.2 ms
            Assert.AreEqual(0, DurationMs(TimeSpan.Zero));
            Assert.AreEqual(2000, DurationMs(TimeSpan.FromSeconds(2)));
        }

        [Test]
        public void NegativeDurationsAreRefusedBeforeTheCall()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => DurationMs(TimeSpan.FromTicks(-4000)));
            Assert.Throws<ArgumentOutOfRangeException>(() => DurationMs(TimeSpan.FromSeconds(-1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.Poll("h", 1, TimeSpan.FromTicks(-4000)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.WaitFor(1, TimeSpan.FromTicks(-4000)));
            Assert.Throws<ArgumentOutOfRangeException>(() => AsyncOperationQueue.Open(Path.Combine(Dir, "n.db"),
                new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromSeconds(-1) }));
        }

        [Test]
        public void ASubMillisecondLeaseIsOneMillisecond()
        {
            using (var q = AsyncOperationQueue.Open(Path.Combine(Dir, "l.db"), new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromTicks(4000) }))
                Assert.AreEqual(TimeSpan.FromMilliseconds(1), q.LeaseDuration);
        }

        [Test]
        public void UnspecifiedDateTimesAreRefused()
        {
            long id = Queue.Submit("x", 1);
            var unspecified = new DateTime(2100, 1, 1);
            var e = Assert.Throws<ArgumentException>(() => Queue.Postpone(id, unspecified));
            StringAssert.Contains("Unspecified", e.Message);
            Assert.AreEqual("until", e.ParamName);
            Assert.Throws<ArgumentException>(() => Queue.SetPostponeUntil(id, unspecified));
            Assert.Throws<ArgumentException>(() => Queue.Submit("y", 1, null, null, unspecified));
            Assert.Throws<ArgumentException>(() => Queue.Query(new AsyncOperationQuery { CompletedBefore = unspecified }));
            Assert.AreEqual(1, Queue.Query().Count, "nothing was submitted");
            Assert.AreEqual("0/0", StateOf(Queue.Retrieve(id)));
            // Utc and Local both work.
            var utc = new DateTime(2100, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            Queue.Postpone(id, utc);
            Assert.AreEqual(utc, Queue.Retrieve(id).PostponeUntil);
            Queue.Postpone(id, utc.AddHours(1).ToLocalTime());
            Assert.AreEqual(utc.AddHours(1), Queue.Retrieve(id).PostponeUntil);
        }
    }
}
