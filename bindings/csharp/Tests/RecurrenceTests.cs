using System;
using System.Linq;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>Recurring operations and the small things of issue 13 from C#: a series that runs and cycles back to
    /// Suspended/Waiting at its next occurrence; SetRecurrence and its refusals in order; SetState with an unknown
    /// status; refusal messages that name the states; queries by correlation id and name prefix.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class RecurrenceTests : QueueFixture
    {
        public RecurrenceTests(string store) : base(store) { }

        const int Updatable = 77;

        Lease ClaimOne()
        {
            var leases = Queue.Poll("host-cs");
            Assert.AreEqual(1, leases.Count);
            return leases[0];
        }

        [Test]
        public void ASeriesRunsAndCyclesBackToItsNextOccurrence()
        {
            DateTime start = Queue.Now();
            long id = Queue.Submit("series", 100, recurrence: "FREQ=MINUTELY;", recurrenceStart: start);
            var op = Queue.Retrieve(id);
            Assert.AreEqual(AsyncOperationStatus.WaitingForResources, op.StatusCode);
            Assert.AreEqual("FREQ=MINUTELY;", op.RecurrencePattern);
            Assert.IsTrue(op.RecurrenceStart.HasValue);
            using (var lease = ClaimOne())
                Assert.AreEqual(AsyncOperationStatus.Waiting, lease.Complete());
            op = Queue.Retrieve(id);
            Assert.AreEqual(AsyncOperationState.Suspended, op.StateCode);
            Assert.AreEqual(AsyncOperationStatus.Waiting, op.StatusCode);
            Assert.IsNull(op.CompletedOn);
            Assert.IsTrue(op.PostponeUntil.HasValue);
            TimeSpan fromStart = op.PostponeUntil.Value - op.RecurrenceStart.Value;
            Assert.AreEqual(0, fromStart.Ticks % TimeSpan.FromMinutes(1).Ticks, "a whole number of minutes after the start");
            Assert.Greater(op.PostponeUntil.Value, Queue.Now());
            Assert.LessOrEqual(op.PostponeUntil.Value, Queue.Now() + TimeSpan.FromMinutes(1));
            // SubmitMany takes the same fields; a one-shot operation has no pattern.
            long[] ids = Queue.SubmitMany(new[] { new AsyncOperationSpec("weekly", 100) { Recurrence = "FREQ=WEEKLY;", RecurrenceStart = Queue.Now().AddHours(1) } });
            var weekly = Queue.Retrieve(ids[0]);
            Assert.AreEqual("FREQ=WEEKLY;", weekly.RecurrencePattern);
            Assert.AreEqual(AsyncOperationStatus.Waiting, weekly.StatusCode);
            Assert.IsNull(Queue.Retrieve(Queue.Submit("one-shot", 100)).RecurrencePattern);
            // A bad pattern is refused at submit.
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Submit("bad", 100, recurrence: "FREQ=YEARLY"));
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Submit("bad", 100, recurrenceStart: Queue.Now()));
        }

        [Test]
        public void SetRecurrenceChecksInTheModelOrder()
        {
            Queue.Dispose();
            Queue = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal, RecurrenceUpdatableTypes = new[] { Updatable } });
            long series = Queue.Submit("series", Updatable, recurrence: "FREQ=DAILY;");
            using (var lease = ClaimOne()) lease.Complete();
            DateTime? pending = Queue.Retrieve(series).PostponeUntil;
            Queue.SetRecurrence(series, "FREQ=HOURLY;INTERVAL=6");
            var op = Queue.Retrieve(series);
            Assert.AreEqual("FREQ=HOURLY;INTERVAL=6", op.RecurrencePattern);
            Assert.AreEqual(pending, op.PostponeUntil, "the pending run keeps its time");

            long oneShot = Queue.Submit("one-shot", Updatable);
            long other = Queue.Submit("other", 100, recurrence: "FREQ=DAILY;", recurrenceStart: Queue.Now().AddDays(1));
            long ended = Queue.Submit("ended", Updatable, recurrence: "FREQ=DAILY;", recurrenceStart: Queue.Now().AddDays(1));
            Queue.Cancel(ended);
            var e1 = Assert.Throws<AsyncopInvalidStateChangeException>(() => Queue.SetRecurrence(oneShot, "nonsense"));
            Assert.AreEqual(AsyncopErrorCode.CannotUpdateNonrecurring, e1.Code);
            Assert.AreEqual(unchecked((int)0x80044168), (int)e1.Code);
            var e2 = Assert.Throws<AsyncopInvalidStateChangeException>(() => Queue.SetRecurrence(other, "nonsense"));
            Assert.AreEqual(AsyncopErrorCode.CannotUpdateRecurring, e2.Code);
            var e3 = Assert.Throws<AsyncopInvalidStateChangeException>(() => Queue.SetRecurrence(ended, "nonsense"));
            Assert.AreEqual(AsyncopErrorCode.InvalidStateChange, e3.Code);
            StringAssert.Contains("Completed/Canceled", e3.Message);
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.SetRecurrence(series, "FREQ=YEARLY"));
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.SetRecurrence(series, ""));
            Assert.Throws<AsyncopNotFoundException>(() => Queue.SetRecurrence(999999, "FREQ=DAILY;"));
            Assert.Throws<ArgumentNullException>(() => Queue.SetRecurrence(series, null));
        }

        [Test]
        public void SetStateRefusesAnUnknownStatus()
        {
            long id = Queue.Submit("op", 100);
            foreach (int bad in new[] { -1, 1, 99, int.MinValue })
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => Queue.SetState(id, AsyncOperationState.Ready, (AsyncOperationStatus)bad));
                Assert.Throws<ArgumentOutOfRangeException>(() => Queue.SetState(id, AsyncOperationState.Completed, (AsyncOperationStatus)bad));
            }
            Assert.AreEqual(AsyncOperationStatus.WaitingForResources, Queue.Retrieve(id).StatusCode);
            Queue.SetState(id, AsyncOperationState.Completed); // no status: the state's default meaning
            Assert.AreEqual(AsyncOperationStatus.Canceled, Queue.Retrieve(id).StatusCode);
        }

        [Test]
        public void RefusalsNameTheStates()
        {
            long id = Queue.Submit("op", 100);
            var e = Assert.Throws<AsyncopInvalidStateChangeException>(() => Queue.Pause(id));
            StringAssert.Contains("Ready/WaitingForResources cannot be paused; Postpone holds queued work", e.Message);
            var past = new DateTime(2020, 1, 2, 3, 4, 5, 6, DateTimeKind.Utc);
            var a = Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Postpone(id, past));
            StringAssert.Contains("postpone_until (2020-01-02T03:04:05.006Z) must be later than now (20", a.Message);
        }

        [Test]
        public void QueryByCorrelationIdAndNamePrefix()
        {
            long a = Queue.Submit("report-daily", 100, correlationId: "batch-7");
            long b = Queue.Submit("report-weekly", 100);
            long c = Queue.Submit("Report", 100, correlationId: "batch-7");
            long d = Queue.Submit("rep%rt", 100);
            Func<AsyncOperationQuery, long[]> ids = q => Queue.Query(q).Select(o => o.Id).ToArray();
            CollectionAssert.AreEqual(new[] { a, c }, ids(new AsyncOperationQuery { CorrelationId = "batch-7" }));
            CollectionAssert.IsEmpty(ids(new AsyncOperationQuery { CorrelationId = "batch" }));
            CollectionAssert.AreEqual(new[] { a, b }, ids(new AsyncOperationQuery { NamePrefix = "report-" }));
            CollectionAssert.AreEqual(new[] { c }, ids(new AsyncOperationQuery { NamePrefix = "Rep" }));
            CollectionAssert.AreEqual(new[] { d }, ids(new AsyncOperationQuery { NamePrefix = "rep%" }));
            CollectionAssert.AreEqual(new[] { a, b, c, d }, ids(new AsyncOperationQuery { NamePrefix = "" }));
            CollectionAssert.AreEqual(new[] { a }, ids(new AsyncOperationQuery { NamePrefix = "report", CorrelationId = "batch-7" }));
        }
    }
}
