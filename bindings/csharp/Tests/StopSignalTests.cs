using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>A Pause or Cancel reaches a running handler at once through the queue's change signal
    /// (Lease.StopRequested / WaitStop, WorkerJob.CancellationToken), not at the next renewal.</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class StopSignalTests : QueueFixture
    {
        public StopSignalTests(string store) : base(store) { }

        [Test]
        public void LeaseStopSignalSeesCancelAndPauseFromAnotherHandle()
        {
            long c = Queue.Submit("cancel", 5), p = Queue.Submit("pause", 5);
            var lc = Queue.Poll("h")[0];
            var lp = Queue.Poll("h")[0];
            Assert.AreEqual(c, lc.Id);
            Assert.AreEqual(LeaseStopReason.None, lc.StopRequested());
            Assert.AreEqual(LeaseStopReason.None, lc.WaitStop(TimeSpan.FromMilliseconds(20)));
            using (var other = AsyncOperationQueue.Open(Db))
            {
                other.Cancel(c);
                Assert.AreEqual(LeaseStopReason.Cancel, lc.WaitStop(TimeSpan.FromSeconds(5)));
                other.Pause(p);
                Assert.AreEqual(LeaseStopReason.Pause, lp.WaitStop(TimeSpan.FromSeconds(5)));
            }
            Assert.AreEqual(AsyncOperationStatus.Canceled, lc.AcknowledgeCancel());
            Assert.AreEqual(AsyncOperationStatus.Waiting, lp.AcknowledgePause());
            Assert.Throws<ArgumentOutOfRangeException>(() => lc.WaitStop(TimeSpan.FromMilliseconds(-1)));
            lc.Dispose();
            lp.Dispose();
            Assert.Throws<ObjectDisposedException>(() => lc.StopRequested());
        }

        void SleepingHandlerStops(Action<AsyncOperationQueue, long> action, string want, StopReason reason)
        {
            // The default lease (30 s): a renewal every 10 s could not stop it in time.
            using (var worker = new Worker(Queue, "sleeper", 1))
            using (var other = AsyncOperationQueue.Open(Db))
            {
                var started = new ManualResetEventSlim();
                var seen = new ConcurrentDictionary<string, long>();
                var sw = new Stopwatch();
                worker.Register(5, job =>
                {
                    started.Set();
                    job.CancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
                    seen["stopped"] = sw.ElapsedTicks;
                    seen["reason"] = (long)job.StopReason;
                    job.CancellationToken.ThrowIfCancellationRequested();
                });
                worker.Start();
                long id = Queue.Submit("sleeper", 5);
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)), "started");
                sw.Start();
                action(other, id);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (StateOf(Queue.Retrieve(id)) != want && DateTime.UtcNow < deadline) Thread.Sleep(5);
                double ms = sw.Elapsed.TotalMilliseconds;
                worker.Stop(TimeSpan.FromSeconds(5));
                Assert.AreEqual(want, StateOf(Queue.Retrieve(id)));
                Assert.AreEqual((long)reason, seen["reason"]);
                double stoppedMs = TimeSpan.FromTicks(seen["stopped"] * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalMilliseconds;
                Console.WriteLine("{0}: handler stopped {1:F2} ms after the {2}; outcome written after {3:F1} ms", Store, stoppedMs, want, ms);
                // The requirement is 50 ms in one process; the bound is generous for CI.
                Assert.Less(stoppedMs, 1000.0);
                Assert.Less(ms, 2000.0);
            }
        }

        [Test]
        public void ACancelFromAnotherHandleEndsAThirtySecondWaitAtOnce()
        {
            SleepingHandlerStops((q, id) => q.Cancel(id), "3/32", StopReason.Canceling);
        }

        [Test]
        public void APauseFromAnotherHandleEndsAThirtySecondWaitAtOnce()
        {
            SleepingHandlerStops((q, id) => q.Pause(id), "1/10", StopReason.Pausing);
        }

        [Test]
        public void RenewEveryIsASettingCheckedAgainstTheLease()
        {
            using (var worker = new Worker(Queue, "renewer", 1))
            {
                Assert.AreEqual(TimeSpan.FromTicks(Queue.LeaseDuration.Ticks / 3), worker.RenewEvery);
                worker.RenewEvery = TimeSpan.FromSeconds(2);
                Assert.AreEqual(TimeSpan.FromSeconds(2), worker.RenewEvery);
                Assert.Throws<ArgumentOutOfRangeException>(() => worker.RenewEvery = TimeSpan.Zero);
                Assert.Throws<ArgumentOutOfRangeException>(() => worker.RenewEvery = Queue.LeaseDuration);
            }
        }

        [Test]
        public void AShortRenewalPeriodKeepsAShortLeaseAlive()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromMilliseconds(600) }))
            using (var worker = new Worker(q, "renewer", 1))
            {
                worker.RenewEvery = TimeSpan.FromMilliseconds(100);
                worker.Register(6, job => Thread.Sleep(1500));
                worker.Start();
                long id = q.Submit("long", 6);
                var op = q.WaitFor(id, TimeSpan.FromSeconds(20));
                worker.Stop(TimeSpan.FromSeconds(5));
                Assert.AreEqual("3/30", StateOf(op));
                Assert.AreEqual(0, op.RetryCount, "the lease never expired");
            }
        }
    }
}
