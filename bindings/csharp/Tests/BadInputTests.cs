using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    [TestFixture]
    public class BadInputTests : QueueFixture
    {
        const string WithNul = "a\0b";
        static readonly string LoneHigh = "x\uD800y";
        static readonly string LoneLow = "\uDC00";

        [Test]
        public void NullArguments()
        {
            Assert.Throws<ArgumentNullException>(() => AsyncOperationQueue.Open(null));
            Assert.Throws<ArgumentNullException>(() => Queue.Submit(null, 1));
            Assert.Throws<ArgumentNullException>(() => Queue.SubmitMany(null));
            Assert.Throws<ArgumentException>(() => Queue.SubmitMany(new AsyncOperationSpec[] { null }));
            Assert.Throws<ArgumentNullException>(() => Queue.SubmitMany(new[] { new AsyncOperationSpec(null, 1) }));
            Assert.Throws<ArgumentNullException>(() => Queue.Poll(null));
            Assert.Throws<ArgumentNullException>(() => new Worker(null, "h"));
            using (var w = new Worker(Queue, null)) Assert.AreEqual(Worker.DefaultHostId, w.HostId, "null: the default host id");
            Assert.Throws<ArgumentException>(() => new Worker(Queue, ""));
            using (var w = new Worker(Queue, "h")) Assert.Throws<ArgumentNullException>(() => w.Register(1, null));
            Assert.AreEqual(0, Queue.Query().Count, "nothing was submitted");
        }

        [Test]
        public void InteriorNulAndLoneSurrogatesAreRefusedBeforeTheCall()
        {
            foreach (var bad in new[] { WithNul, LoneHigh, LoneLow })
            {
                Assert.Throws<ArgumentException>(() => AsyncOperationQueue.Open(Path.Combine(Dir, bad)));
                Assert.Throws<ArgumentException>(() => Queue.Submit(bad, 1));
                Assert.Throws<ArgumentException>(() => Queue.Submit("ok", 1, null, bad));
                Assert.Throws<ArgumentException>(() => Queue.Submit("ok", 1, null, null, null, bad));
                Assert.Throws<ArgumentException>(() => Queue.SubmitMany(new[] { new AsyncOperationSpec("ok", 1), new AsyncOperationSpec(bad, 1) }));
                Assert.Throws<ArgumentException>(() => Queue.SubmitMany(new[] { new AsyncOperationSpec("ok", 1) { CorrelationId = bad } }));
                Assert.Throws<ArgumentException>(() => Queue.Query(new AsyncOperationQuery { Name = bad }));
                Assert.Throws<ArgumentException>(() => Queue.Poll(bad));
            }
            Assert.AreEqual(0, Queue.Query().Count, "nothing was submitted");
            long id = Queue.Submit("x", 1);
            using (var lease = Claim(Queue))
            {
                Assert.Throws<ArgumentException>(() => lease.Fail(0, WithNul));
                Assert.Throws<ArgumentException>(() => lease.Retry(0, LoneHigh));
                Assert.Throws<ArgumentException>(() => lease.Suspend(0, LoneLow));
                Assert.AreEqual(AsyncOperationStatus.InProgress, Queue.Retrieve(id).StatusCode);
                lease.Complete();
            }
            // Valid non-ASCII text round-trips, surrogate pairs included.
            long ok = Queue.Submit("emoji \U0001F600 ü", 1);
            Assert.AreEqual("emoji \U0001F600 ü", Queue.Retrieve(ok).Name);
        }

        [Test]
        public void OutOfRangeValues()
        {
            long id = Queue.Submit("x", 1);
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.SetState(id, (AsyncOperationState)4));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.SetState(id, (AsyncOperationState)(-1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.SetState(id, AsyncOperationState.Ready, (AsyncOperationStatus)11));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.Query(new AsyncOperationQuery { Status = (AsyncOperationStatus)99 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.Query(new AsyncOperationQuery { State = (AsyncOperationState)7 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => AsyncOperationQueue.Open(Path.Combine(Dir, "d.db"), new AsyncOperationQueueOptions { Durability = (Durability)5 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.Submit("x", 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.Poll("h", 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => Queue.WaitFor(id, TimeSpan.FromSeconds(-1)));
            Assert.AreEqual("0/0", StateOf(Queue.Retrieve(id)));
            // Values only the library can judge come back as its invalid-argument family.
            Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(""));
            Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(":memory:"));
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Poll(""));
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Submit(new string('n', 300), 1));
            Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(Path.Combine(Dir, "e.db"), new AsyncOperationQueueOptions { MaxAttempts = 0 }));
            Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(Path.Combine(Dir, "f.db"), new AsyncOperationQueueOptions { LeaseDuration = TimeSpan.Zero }));
        }

        [Test]
        public void UseAfterDisposeAndDoubleDispose()
        {
            var q = AsyncOperationQueue.Open(Path.Combine(Dir, "disposed.db"));
            long id = q.Submit("x", 1);
            var lease = Claim(q);
            q.Dispose();
            q.Dispose();
            Assert.Throws<ObjectDisposedException>(() => q.Submit("x", 1));
            Assert.Throws<ObjectDisposedException>(() => q.Retrieve(id));
            Assert.Throws<ObjectDisposedException>(() => q.Query());
            Assert.Throws<ObjectDisposedException>(() => q.Counts());
            Assert.Throws<ObjectDisposedException>(() => q.Cancel(id));
            Assert.Throws<ObjectDisposedException>(() => q.Poll("h"));
            Assert.Throws<ObjectDisposedException>(() => q.SubmitMany(new[] { new AsyncOperationSpec("a", 1) }));
            Assert.Throws<ObjectDisposedException>(() => q.RunMaintenance());
            // The lease outlives its queue: its calls say "closed", disposing it is fine.
            Assert.Throws<ObjectDisposedException>(() => lease.Renew());
            Assert.Throws<ObjectDisposedException>(() => lease.Complete());
            lease.Dispose();
            lease.Dispose();
            using (var again = AsyncOperationQueue.Open(Path.Combine(Dir, "disposed.db")))
                Assert.AreEqual(AsyncOperationState.Locked, again.Retrieve(id).StateCode);
        }

        [Test]
        public void HandlesReleasedByTheFinalizerDoNotCrash()
        {
            string db = Path.Combine(Dir, "gc.db");
            for (int round = 0; round < 3; round++)
            {
                Abandon(db);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }
            using (var q = AsyncOperationQueue.Open(db))
                Assert.Greater(q.Query().Count, 0);
        }

        // The native close, imported by the test itself, to observe the token's state.
        [System.Runtime.InteropServices.DllImport("asyncop", CallingConvention = System.Runtime.InteropServices.CallingConvention.Cdecl, ExactSpelling = true)]
        static extern int asyncop_queue_close(IntPtr queue);

        /// <summary>Opens a queue, drops it without Dispose, and returns its raw native token.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static IntPtr AbandonQueue(string db)
        {
            var q = AsyncOperationQueue.Open(db);
            q.Submit("gc", 1);
            var field = typeof(AsyncOperationQueue).GetField("handle",
                System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
            var safe = (System.Runtime.InteropServices.SafeHandle)field.GetValue(q);
            return safe.DangerousGetHandle();
        }

        [Test]
        public void TheFinalizerFreesANativeHandleExactlyOnce()
        {
            IntPtr raw = AbandonQueue(Path.Combine(Dir, "gc-once.db"));
            Assert.AreNotEqual(IntPtr.Zero, raw);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            // Freed by the finalizer: the token is closed now. Had the finalizer not run,
            // this close would return ASYNCOP_OK (0); the library refuses a second free
            // with ASYNCOP_ERR_CLOSED_HANDLE (7), so it was freed once and only once.
            Assert.AreEqual(7, asyncop_queue_close(raw));
            Assert.AreEqual(7, asyncop_queue_close(raw));
        }

        static void Abandon(string db)
        {
            var q = AsyncOperationQueue.Open(db);
            for (int i = 0; i < 5; i++) q.Submit("gc", 1);
            q.Poll("gc-host", 3); // leases never disposed
            q.Query();
            q.Counts();
            // q never disposed either
        }

        [Test]
        public void ErrorsCarryCodeHresultAndMessage()
        {
            long id = Queue.Submit("x", 1);
            Queue.Cancel(id);
            var ex = Assert.Throws<AsyncopInvalidStateChangeException>(() => Queue.Cancel(id));
            Assert.AreEqual(unchecked((int)0x80044162), ex.HResult);
            Assert.AreEqual(AsyncopErrorCode.InvalidStateChange, ex.Code);
            Assert.IsInstanceOf<AsyncopException>(ex);
            StringAssert.Contains("", ex.Message);
            Assert.IsNotEmpty(ex.Message);
            var nf = Assert.Throws<AsyncopNotFoundException>(() => Queue.Retrieve(999));
            Assert.AreEqual(AsyncopErrorCode.NotFound, nf.Code);
            Assert.IsInstanceOf<AsyncopException>(new AsyncopInvalidArgumentException(AsyncopErrorCode.InvalidArgument, "m"));
        }

        // A file that is not a database: SQLite only (moved from LifecycleTests, which runs on both stores).
        [Test]
        public void CorruptFileIsRefusedAndUntouched()
        {
            string bad = System.IO.Path.Combine(Dir, "bad.db");
            System.IO.File.WriteAllText(bad, "not a database at all, just text");
            var ex = Assert.Throws<AsyncopCorruptException>(() => AsyncOperationQueue.Open(bad));
            Assert.AreEqual(AsyncopErrorCode.Corrupt, ex.Code);
            Assert.IsNotEmpty(ex.Message);
            Assert.AreEqual("not a database at all, just text", System.IO.File.ReadAllText(bad));
            Assert.Throws<AsyncopIOException>(() => AsyncOperationQueue.Open(System.IO.Path.Combine(Dir, "missing", "x.db")));
        }
    }

    [TestFixture]
    public class HeaderCoverageTests
    {
        // Functions deliberately not wrapped by a public member (still imported; none today).
        static readonly string[] DeliberatelyUnwrapped = new string[0];

        [Test]
        public void EveryHeaderFunctionIsImported()
        {
            string header = File.ReadAllText(Path.Combine(QueueFixture.RepoRoot(), "include", "asyncop.h"));
            var declared = Regex.Matches(header, @"^[A-Za-z_][\w \*]*?\b(asyncop_\w+)\(", RegexOptions.Multiline)
                .Cast<Match>().Select(m => m.Groups[1].Value).Distinct().ToList();
            Assert.Greater(declared.Count, 80, "the header parse found too few functions");
            var native = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.NativeMethods", true);
            var imported = native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                .Where(m => m.GetCustomAttributes(typeof(DllImportAttribute), false).Length > 0)
                .ToDictionary(m => m.Name);
            var missing = declared.Where(f => !imported.ContainsKey(f) && !DeliberatelyUnwrapped.Contains(f)).ToList();
            Assert.IsEmpty(missing, "not imported: " + string.Join(", ", missing.ToArray()));
            var extra = imported.Keys.Where(k => !declared.Contains(k)).ToList();
            Assert.IsEmpty(extra, "imported but not in the header: " + string.Join(", ", extra.ToArray()));
            foreach (var m in imported.Values)
            {
                var a = (DllImportAttribute)m.GetCustomAttributes(typeof(DllImportAttribute), false)[0];
                Assert.AreEqual(CallingConvention.Cdecl, a.CallingConvention, m.Name);
                Assert.IsTrue(a.ExactSpelling, m.Name);
                Assert.AreEqual("asyncop", a.Value, m.Name);
                Assert.AreNotEqual(typeof(string), m.ReturnType, m.Name + " returns string");
                Assert.AreNotEqual(typeof(bool), m.ReturnType, m.Name + " returns bool");
                foreach (var p in m.GetParameters())
                {
                    var t = p.ParameterType.IsByRef ? p.ParameterType.GetElementType() : p.ParameterType;
                    Assert.AreNotEqual(typeof(bool), t, m.Name + " has a bool parameter");
                    Assert.AreNotEqual(typeof(string), t, m.Name + " has a string parameter");
                }
            }
        }

        [Test]
        public void OneSafeHandlePerHandleType()
        {
            var asm = typeof(AsyncOperationQueue).Assembly;
            foreach (var name in new[] { "QueueHandle", "OptionsHandle", "SpecHandle", "OperationHandle", "OperationListHandle", "CountsHandle", "LeaseHandle" })
            {
                var t = asm.GetType("Asyncop." + name, true);
                Assert.IsTrue(typeof(SafeHandle).IsAssignableFrom(t), name);
            }
        }
    }
}
