using System;
using System.Collections.Generic;
using System.Linq;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>Issue 14 §3 through the wrapper: the event callback and the metrics text, on both stores.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class EventTests : QueueFixture
    {
        public EventTests(string store) : base(store) { }

        [Test]
        public void EventsArriveWithTheirFields()
        {
            var seen = new List<AsyncOperationEvent>();
            Queue.OnEvent(e => { lock (seen) seen.Add(e); });
            long a = Queue.Submit("a", 100);
            var lease = Claim(Queue, 100, "host-7");
            lease.Complete();
            long b = Queue.Submit("b", 101);
            Queue.Cancel(b);
            var kinds = seen.Select(e => e.Kind + ":" + e.Id).ToArray();
            CollectionAssert.AreEqual(new[] { "Submitted:" + a, "Claimed:" + a, "Outcome:" + a, "Submitted:" + b, "UserAction:" + b }, kinds);
            Assert.IsNull(seen[0].FromStatus);
            Assert.AreEqual(AsyncOperationStatus.WaitingForResources, seen[0].ToStatus);
            Assert.AreEqual(100, seen[0].OperationType);
            Assert.AreEqual(1, seen[0].Count);
            Assert.AreEqual("host-7", seen[1].Host);
            Assert.AreEqual(AsyncOperationStatus.InProgress, seen[1].ToStatus);
            Assert.AreEqual(AsyncOperationStatus.InProgress, seen[2].FromStatus);
            Assert.AreEqual(AsyncOperationStatus.Succeeded, seen[2].ToStatus);
            Assert.AreEqual("host-7", seen[2].Host);
            Assert.AreEqual(AsyncOperationStatus.Canceled, seen[4].ToStatus);
            Assert.IsNull(seen[4].Host);
            Assert.AreEqual(DateTimeKind.Utc, seen[4].At.Kind);
        }

        [Test]
        public void AThrowingCallbackDoesNotBreakTheQueue()
        {
            int calls = 0;
            Queue.OnEvent(e => { calls++; throw new InvalidOperationException("broken hook"); });
            long id = Queue.Submit("a", 100);
            Claim(Queue, 100).Complete();
            Assert.AreEqual(AsyncOperationStatus.Succeeded, Queue.Retrieve(id).StatusCode);
            Assert.AreEqual(3, calls);
            Queue.OnEvent(null);
            Queue.Submit("b", 100);
            Assert.AreEqual(3, calls);
        }

        [Test]
        public void MetricsTextParsesBack()
        {
            for (int i = 0; i < 3; i++) Queue.Submit("j" + i, 100);
            Claim(Queue, 100).Complete();
            var samples = new Dictionary<string, double>();
            foreach (var line in Queue.MetricsText("queue=\"jobs\"").Split('\n'))
            {
                if (line.Length == 0 || line.StartsWith("#")) continue;
                int sp = line.LastIndexOf(' ');
                samples[line.Substring(0, sp)] = double.Parse(line.Substring(sp + 1), System.Globalization.CultureInfo.InvariantCulture);
            }
            Assert.AreEqual(3, samples["asyncop_submitted_total{queue=\"jobs\"}"]);
            Assert.AreEqual(1, samples["asyncop_claims_total{queue=\"jobs\"}"]);
            Assert.AreEqual(1, samples["asyncop_completions_total{queue=\"jobs\",outcome=\"succeeded\"}"]);
            Assert.AreEqual(1, samples["asyncop_claim_seconds_bucket{queue=\"jobs\",le=\"+Inf\"}"]);
        }
    }
}
