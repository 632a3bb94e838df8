using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>AsyncOperationQueue.CompleteMany (asyncop_lease_complete_many).</summary>
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class BatchTests : QueueFixture
    {
        public BatchTests(string store) : base(store) { }

        bool IsDone(long id) { return StateOf(Queue.Retrieve(id)) == "3/30"; }
        bool IsRunning(long id) { return StateOf(Queue.Retrieve(id)) == "2/20"; }

        static void DisposeAll(IEnumerable<Lease> leases) { foreach (var l in leases) l.Dispose(); }

        [Test]
        public void CompletesEveryLeaseInOneCall()
        {
            var ids = Enumerable.Range(0, 50).Select(i => Queue.Submit("op " + i, 1)).ToList();
            var leases = Queue.Poll("host-1", 50);
            CollectionAssert.AreEqual(ids, leases.Select(l => l.Id).ToList());
            var errors = Queue.CompleteMany(leases.ToList());
            Assert.AreEqual(50, errors.Count);
            Assert.IsTrue(errors.All(e => e == null));
            Assert.IsTrue(ids.All(IsDone));
            Assert.IsTrue(leases.All(l => l.IsFinished));
            Assert.Throws<AsyncopLeaseLostException>(() => leases[0].Complete());
            DisposeAll(leases);
            Assert.IsTrue(ids.All(IsDone), "disposing a finished lease reports nothing more");
        }

        [Test]
        public void ALeaseCompletedBeforeGetsItsErrorAndTheOthersComplete()
        {
            var ids = Enumerable.Range(0, 5).Select(i => Queue.Submit("op " + i, 1)).ToList();
            var leases = Queue.Poll("host-1", 5).ToList();
            Assert.AreEqual(AsyncOperationStatus.Succeeded, leases[2].Complete());
            var errors = Queue.CompleteMany(leases);
            CollectionAssert.AreEqual(new[] { true, true, false, true, true }, errors.Select(e => e == null).ToArray());
            var lost = errors[2];
            Assert.IsInstanceOf<AsyncopLeaseLostException>(lost);
            Assert.AreEqual(AsyncopErrorCode.LeaseLost, lost.Code);
            StringAssert.StartsWith("leases[2] (operation " + ids[2] + ", lock token 1) was not completed: ", lost.Message);
            StringAssert.Contains("1 of 5 leases could not complete; first (index 2): lease lost on asyncoperation", lost.Message);
            Assert.IsTrue(ids.All(IsDone));
            Assert.IsTrue(leases.All(l => l.IsFinished));

            // Every lease lost now: still one error per lease, not a throw.
            var again = Queue.CompleteMany(leases);
            Assert.IsTrue(again.All(e => e is AsyncopLeaseLostException));
            StringAssert.Contains("5 of 5 leases could not complete; first (index 0)", again[0].Message);
            Assert.AreEqual("leases[1] (operation " + ids[1] + ", lock token 1) was not completed (ASYNCOP_ERR_LEASE_LOST)", again[1].Message);
            DisposeAll(leases);
        }

        [Test]
        public void ALeaseListedTwiceCompletesOnce()
        {
            long id = Queue.Submit("twice", 1);
            var lease = Claim(Queue);
            var errors = Queue.CompleteMany(new[] { lease, lease });
            Assert.IsNull(errors[0]);
            Assert.IsInstanceOf<AsyncopLeaseLostException>(errors[1]);
            Assert.IsTrue(IsDone(id));
            lease.Dispose();
        }

        [Test]
        public void EmptyListAndNullArrays()
        {
            Assert.AreEqual(0, Queue.CompleteMany(new Lease[0]).Count);
            Assert.AreEqual(0, Queue.CompleteMany(new List<Lease>()).Count);
            // The native call itself: count 0 is OK, a NULL array with a count is NULL_ARG for every entry.
            var native = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.NativeMethods", true);
            var call = native.GetMethod("asyncop_lease_complete_many", BindingFlags.Static | BindingFlags.NonPublic);
            Assert.AreEqual(0, (int)call.Invoke(null, new object[] { null, UIntPtr.Zero, null }));
            var codes = new[] { -7, -7 };
            Assert.AreEqual((int)AsyncopErrorCode.NullArgument, (int)call.Invoke(null, new object[] { null, new UIntPtr(2), codes }));
            CollectionAssert.AreEqual(new[] { 2, 2 }, codes);
        }

        [Test]
        public void NullListOrItemThrowsArgumentNullException()
        {
            Queue.Submit("a", 1);
            var lease = Claim(Queue);
            Assert.Throws<ArgumentNullException>(() => Queue.CompleteMany(null));
            var e = Assert.Throws<ArgumentNullException>(() => Queue.CompleteMany(new[] { lease, null }));
            StringAssert.Contains("leases[1] is null", e.Message);
            Assert.IsFalse(lease.IsFinished);
            lease.Dispose();
        }

        [Test]
        public void LeasesOfAnotherQueueThrowArgumentExceptionAndCompleteNothing()
        {
            long a = Queue.Submit("a", 1);
            long b = Queue.Submit("b", 1);
            using (var other = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
            {
                var mine = Claim(Queue);
                var theirs = Claim(other, 0, "host-2");
                var e = Assert.Throws<ArgumentException>(() => Queue.CompleteMany(new[] { mine, theirs }));
                Assert.AreEqual("leases", e.ParamName);
                StringAssert.Contains("leases[1]", e.Message);
                Assert.IsTrue(IsRunning(a) && IsRunning(b));
                Assert.IsFalse(mine.IsFinished || theirs.IsFinished);
                Assert.IsNull(other.CompleteMany(new[] { theirs })[0]);
                Assert.IsNull(Queue.CompleteMany(new[] { mine })[0]);
                Assert.IsTrue(IsDone(a) && IsDone(b));
                mine.Dispose();
                theirs.Dispose();
            }
        }

        [Test]
        public void ADisposedLeaseThrowsObjectDisposedExceptionAndCompletesNothing()
        {
            long a = Queue.Submit("a", 1);
            long b = Queue.Submit("b", 1);
            var leases = Queue.Poll("host-1", 2);
            var kept = leases[0];
            var gone = leases[1];
            gone.Dispose(); // releases b as a retryable failure
            Assert.Throws<ObjectDisposedException>(() => Queue.CompleteMany(new[] { kept, gone }));
            Assert.IsTrue(IsRunning(a));
            Assert.AreEqual("1/10", StateOf(Queue.Retrieve(b)));
            Assert.IsFalse(kept.IsFinished);
            kept.Dispose();
        }

        [Test]
        public void ADisposedQueueThrowsObjectDisposedException()
        {
            Queue.Submit("a", 1);
            var lease = Claim(Queue);
            Queue.Dispose();
            Assert.Throws<ObjectDisposedException>(() => Queue.CompleteMany(new[] { lease }));
            Assert.Throws<ObjectDisposedException>(() => Queue.CompleteMany(new Lease[0]));
            lease.Dispose();
        }

        [Test]
        public void AWorkerFreeLoopDrains1000OperationsExactlyOnce()
        {
            var ids = Queue.SubmitMany(Enumerable.Range(0, 1000).Select(i => new AsyncOperationSpec("job " + i, 7))).ToList();
            var completed = new Dictionary<long, int>();
            int calls = 0;
            while (true)
            {
                var leases = Queue.Poll("drainer", 100);
                if (leases.Count == 0) break;
                calls++;
                Assert.IsTrue(Queue.CompleteMany(leases.ToList()).All(e => e == null));
                foreach (var l in leases)
                {
                    int n;
                    completed.TryGetValue(l.Id, out n);
                    completed[l.Id] = n + 1;
                    l.Dispose();
                }
            }
            Assert.AreEqual(10, calls);
            CollectionAssert.AreEquivalent(ids, completed.Keys);
            Assert.IsTrue(completed.Values.All(n => n == 1));
            var done = Queue.Query(new AsyncOperationQuery { State = AsyncOperationState.Completed, Status = AsyncOperationStatus.Succeeded });
            Assert.AreEqual(1000, done.Count);
            Assert.IsTrue(done.All(op => op.LockToken == 1 && op.RetryCount == 0));
        }
    }

    /// <summary>Busy while another process holds SQLite's write lock: a file's lock, so SQLite only.</summary>
    [TestFixture]
    public class SqliteBusyTests : QueueFixture
    {
        static void DisposeAll(IEnumerable<Lease> leases) { foreach (var l in leases) l.Dispose(); }

        [Test]
        public void BusyThrowsAndCompletesNothing()
        {
            using (var q = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal, BusyTimeout = TimeSpan.FromMilliseconds(50) }))
            {
                var ids = Enumerable.Range(0, 3).Select(i => q.Submit("op " + i, 1)).ToList();
                var leases = q.Poll("host-1", 3).ToList();
                // Another process holds the write lock (two SQLite copies in one process would not exclude each other).
                const string script = "import sqlite3, sys\n" +
                    "con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n" +
                    "con.execute('BEGIN IMMEDIATE')\n" +
                    "print('locked', flush=True)\n" +
                    "sys.stdin.readline()\n" +
                    "con.execute('ROLLBACK')\n";
                var psi = new ProcessStartInfo("python3", "-c \"" + script.Replace("\"", "\\\"") + "\" \"" + Db + "\"")
                {
                    UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true,
                };
                Process blocker;
                try { blocker = Process.Start(psi); }
                catch (System.ComponentModel.Win32Exception e) { Assert.Ignore("SKIPPED: python3 is missing: " + e.Message); return; }
                try
                {
                    Assert.AreEqual("locked", blocker.StandardOutput.ReadLine());
                    Assert.Throws<AsyncopBusyException>(() => q.CompleteMany(leases));
                }
                finally
                {
                    blocker.StandardInput.WriteLine();
                    blocker.StandardInput.Close();
                    Assert.IsTrue(blocker.WaitForExit(30000));
                }
                Assert.AreEqual(0, blocker.ExitCode);
                Assert.IsFalse(leases.Any(l => l.IsFinished));
                Assert.IsTrue(ids.All(id => StateOf(q.Retrieve(id)) == "2/20"));
                Assert.IsTrue(q.CompleteMany(leases).All(e => e == null));
                DisposeAll(leases);
            }
        }
    }
}
