using System;
using System.Diagnostics;
using System.Net;
using System.Threading;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>The Worker's knobs that match the Python worker's: ClaimUnhandled, the default host id, and Open
    /// (a worker that opens, with options, and owns its queue).</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class WorkerSettingsTests : QueueFixture
    {
        public WorkerSettingsTests(string store) : base(store) { }

        const int TypeNotRecognized = unchecked((int)0x80044303);

        [Test]
        public void WithoutClaimUnhandledOtherTypesStayReady()
        {
            long handled = Queue.Submit("handled", 40), other = Queue.Submit("other", 41);
            using (var worker = new Worker(Queue, "picky") { PollWait = TimeSpan.FromMilliseconds(20) })
            {
                Assert.IsFalse(worker.ClaimUnhandled);
                worker.Register(40, job => { });
                worker.Start();
                WaitUntil(() => Queue.Retrieve(handled).StateCode == AsyncOperationState.Completed);
                Thread.Sleep(200);
            }
            Assert.AreEqual("0/0", StateOf(Queue.Retrieve(other)), "left Ready for another host");
        }

        [Test]
        public void ClaimUnhandledFailsOtherTypesWithTypeNotRecognized()
        {
            long handled = Queue.Submit("handled", 40), other = Queue.Submit("other", 41);
            using (var worker = new Worker(Queue, "greedy") { PollWait = TimeSpan.FromMilliseconds(20), ClaimUnhandled = true })
            {
                worker.Register(40, job => { });
                worker.Start();
                Assert.Throws<InvalidOperationException>(() => worker.ClaimUnhandled = false, "set before Start");
                WaitUntil(() => Queue.Retrieve(other).StateCode == AsyncOperationState.Completed
                    && Queue.Retrieve(handled).StateCode == AsyncOperationState.Completed);
            }
            var op = Queue.Retrieve(other);
            Assert.AreEqual("3/31", StateOf(op));
            Assert.AreEqual(TypeNotRecognized, op.ErrorCode);
            Assert.AreEqual("3/30", StateOf(Queue.Retrieve(handled)));
        }

        [Test]
        public void TheDefaultHostIdIsHostnameColonPid()
        {
            string want = Dns.GetHostName() + ":" + Process.GetCurrentProcess().Id;
            Assert.AreEqual(want, Worker.DefaultHostId);
            long id = Queue.Submit("job", 42);
            string seenHost = null;
            using (var worker = new Worker(Queue) { PollWait = TimeSpan.FromMilliseconds(20) })
            {
                Assert.AreEqual(want, worker.HostId);
                worker.Register(42, job => { seenHost = job.Lease.HostId; });
                worker.Start();
                WaitUntil(() => Queue.Retrieve(id).StateCode == AsyncOperationState.Completed);
            }
            Assert.AreEqual(want, seenHost, "claimed under the default host id");
        }

        [Test]
        public void OpenMakesAWorkerThatOwnsItsQueue()
        {
            string target = NewTarget("owned.db");
            var worker = Worker.Open(target, new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.FromSeconds(6) }, "owner", 2);
            Assert.AreEqual(TimeSpan.FromSeconds(6), worker.Queue.LeaseDuration, "the options were applied");
            Assert.AreEqual(TimeSpan.FromSeconds(2), worker.RenewEvery);
            worker.PollWait = TimeSpan.FromMilliseconds(20);
            worker.RegisterAsync(43, async (job, ct) => await System.Threading.Tasks.Task.Delay(1, ct));
            worker.Start();
            long id = worker.Queue.Submit("job", 43);
            using (var other = AsyncOperationQueue.Open(target))
            {
                Assert.AreEqual("3/30", StateOf(other.WaitFor(id, TimeSpan.FromSeconds(20))));
                worker.Dispose();
                Assert.Throws<ObjectDisposedException>(() => worker.Queue.Retrieve(id), "closed with the worker");
                Assert.AreEqual("3/30", StateOf(other.Retrieve(id)));
            }
            Assert.Throws<AsyncopInvalidArgumentException>(() => Worker.Open(NewTarget("bad.db"), new AsyncOperationQueueOptions { MaxAttempts = 0 }));
        }
    }
}
