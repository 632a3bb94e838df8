using System;
using System.Collections.Generic;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class UserActionTests : QueueFixture
    {
        public UserActionTests(string store) : base(store) { }

        static readonly string[] States = { "0/0", "1/10", "2/20", "2/21", "2/22", "3/30", "3/31", "3/32" };
        const int ISC = -2147204766, TO_COMPLETE = -2147204763, TO_READY = -2147204762, TO_SUSP = -2147204761, DEL = -2147204758, CANCEL = -2147201280, PAUSE = -2147201279;

        // operation-model.md §4: the resulting state, a refusal's code (int), or null (deleted).
        static Dictionary<string, object> Row(params object[] kv)
        {
            var d = new Dictionary<string, object>();
            for (int i = 0; i < kv.Length; i += 2) d[(string)kv[i]] = kv[i + 1];
            return d;
        }

        static readonly Dictionary<string, Dictionary<string, object>> Matrix = new Dictionary<string, Dictionary<string, object>>
        {
            { "cancel", Row("0/0", "3/32", "1/10", "3/32", "2/20", "2/22", "2/21", "2/22", "2/22", ISC, "3/30", ISC, "3/31", ISC, "3/32", ISC) },
            { "pause", Row("0/0", TO_SUSP, "1/10", TO_SUSP, "2/20", "2/21", "2/21", "2/21", "2/22", TO_SUSP, "3/30", TO_SUSP, "3/31", TO_SUSP, "3/32", TO_SUSP) },
            { "resume", Row("0/0", TO_READY, "1/10", "0/0", "2/20", TO_READY, "2/21", TO_READY, "2/22", TO_READY, "3/30", TO_READY, "3/31", TO_READY, "3/32", TO_READY) },
            { "postpone", Row("0/0", "1/10", "1/10", "1/10", "2/20", "2/21", "2/21", TO_SUSP, "2/22", TO_SUSP, "3/30", TO_SUSP, "3/31", TO_SUSP, "3/32", TO_SUSP) },
            { "delete", Row("0/0", DEL, "1/10", DEL, "2/20", DEL, "2/21", DEL, "2/22", DEL, "3/30", null, "3/31", null, "3/32", null) },
        };

        static readonly Dictionary<string, Dictionary<string, object>> Restricted = new Dictionary<string, Dictionary<string, object>>
        {
            { "cancel", Row("0/0", CANCEL, "1/10", CANCEL, "2/20", CANCEL, "3/30", CANCEL, "3/31", CANCEL) },
            { "pause", Row("0/0", PAUSE, "1/10", PAUSE, "2/20", PAUSE, "3/30", PAUSE, "3/31", PAUSE) },
            { "resume", Row("0/0", TO_READY, "1/10", TO_READY, "2/20", TO_READY, "3/30", TO_READY, "3/31", TO_READY) },
            { "postpone", Row("0/0", "1/10", "1/10", "1/10", "2/20", PAUSE, "3/30", TO_SUSP, "3/31", TO_SUSP) },
            { "delete", Row("0/0", DEL, "1/10", DEL, "2/20", DEL, "3/30", null, "3/31", null) },
        };

        Lease Make(string state, int type, out long id)
        {
            id = Queue.Submit("op in " + state, type);
            Lease lease = null;
            if (state == "1/10") Queue.Postpone(id, DateTime.UtcNow.AddHours(1));
            else if (state.StartsWith("2/") || state == "3/30" || state == "3/31")
            {
                lease = Claim(Queue, type);
                Assert.AreEqual(id, lease.Id);
                if (state == "2/21") Queue.Pause(id);
                else if (state == "2/22") Queue.Cancel(id);
                else if (state == "3/30") lease.Complete();
                else if (state == "3/31") lease.Fail(0, "failed");
            }
            else if (state == "3/32") Queue.Cancel(id);
            Assert.AreEqual(state, StateOf(Queue.Retrieve(id)));
            return lease;
        }

        Action<long> ActionFor(string name)
        {
            switch (name)
            {
                case "cancel": return id => Queue.Cancel(id);
                case "pause": return id => Queue.Pause(id);
                case "resume": return id => Queue.Resume(id);
                case "postpone": return id => Queue.Postpone(id, DateTime.UtcNow.AddHours(2));
                default: return id => Queue.Delete(id);
            }
        }

        void Check(long id, Action<long> act, object expected, string what)
        {
            var before = Queue.Retrieve(id);
            if (expected is int)
            {
                var ex = Assert.Throws<AsyncopInvalidStateChangeException>(() => act(id), what);
                Assert.AreEqual((int)expected, (int)ex.Code, what);
                Assert.AreEqual((int)expected, ex.HResult, what);
                Assert.IsNotEmpty(ex.Message);
                Assert.AreEqual(Fingerprint(before), Fingerprint(Queue.Retrieve(id)), what + ": a refused action changed the operation");
            }
            else if (expected == null)
            {
                act(id);
                Assert.Throws<AsyncopNotFoundException>(() => Queue.Retrieve(id), what);
            }
            else
            {
                act(id);
                Assert.AreEqual((string)expected, StateOf(Queue.Retrieve(id)), what);
            }
        }

        [TestCase("cancel")]
        [TestCase("pause")]
        [TestCase("resume")]
        [TestCase("postpone")]
        [TestCase("delete")]
        public void UserActionMatrix(string action)
        {
            int n = 0;
            foreach (var state in States)
            {
                long id;
                var lease = Make(state, 100 + n++, out id); // a type per case: earlier cases may leave Ready operations
                Check(id, ActionFor(action), Matrix[action][state], action + " in " + state);
                if (lease != null) lease.Dispose();
            }
        }

        [TestCase("cancel")]
        [TestCase("pause")]
        [TestCase("resume")]
        [TestCase("postpone")]
        [TestCase("delete")]
        public void RestrictedTypeMatrix(string action)
        {
            var restrictedTypes = new[] { 9, 16, 18, 19, 20, 22 }; // restricted on a new file
            int n = 0;
            foreach (var kv in Restricted[action])
            {
                long id;
                var lease = Make(kv.Key, restrictedTypes[n++], out id);
                Check(id, ActionFor(action), kv.Value, action + " of restricted type in " + kv.Key);
                if (lease != null) lease.Dispose();
            }
        }

        [Test]
        public void SetStateMapsToActions()
        {
            var cases = new object[][]
            {
                new object[] { "1/10", AsyncOperationState.Ready, null, "0/0" },
                new object[] { "1/10", AsyncOperationState.Ready, AsyncOperationStatus.WaitingForResources, "0/0" },
                new object[] { "2/20", AsyncOperationState.Suspended, null, "2/21" },
                new object[] { "2/20", AsyncOperationState.Suspended, AsyncOperationStatus.Waiting, "2/21" },
                new object[] { "0/0", AsyncOperationState.Completed, null, "3/32" },
                new object[] { "0/0", AsyncOperationState.Completed, AsyncOperationStatus.Canceled, "3/32" },
                new object[] { "2/20", AsyncOperationState.Completed, null, "2/22" },
                new object[] { "0/0", AsyncOperationState.Completed, AsyncOperationStatus.Succeeded, TO_COMPLETE },
                new object[] { "0/0", AsyncOperationState.Completed, AsyncOperationStatus.Failed, TO_COMPLETE },
                new object[] { "0/0", AsyncOperationState.Locked, null, ISC },
                new object[] { "0/0", AsyncOperationState.Locked, AsyncOperationStatus.InProgress, ISC },
                new object[] { "1/10", AsyncOperationState.Locked, AsyncOperationStatus.Pausing, ISC },
                new object[] { "0/0", AsyncOperationState.Suspended, null, TO_SUSP },
                new object[] { "3/30", AsyncOperationState.Ready, null, TO_READY },
            };
            int n = 0;
            foreach (var c in cases)
            {
                long id;
                var lease = Make((string)c[0], 200 + n++, out id);
                var state = (AsyncOperationState)c[1];
                var status = (AsyncOperationStatus?)c[2];
                Check(id, i => Queue.SetState(i, state, status), c[3], "set_state " + state + "/" + status + " in " + c[0]);
                if (lease != null) lease.Dispose();
            }
            // A status that does not belong to the state: refused by the library, nothing changes.
            long other = Queue.Submit("x", 100);
            var before = Fingerprint(Queue.Retrieve(other));
            var ex = Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.SetState(other, AsyncOperationState.Ready, AsyncOperationStatus.Waiting));
            Assert.AreEqual(AsyncopErrorCode.InvalidArgument, ex.Code);
            Assert.AreEqual(before, Fingerprint(Queue.Retrieve(other)));
        }

        [Test]
        public void SetPostponeUntilIsPostponeAndNeedsAFutureTime()
        {
            long id = Queue.Submit("x", 1);
            var until = DateTime.UtcNow.AddHours(3);
            Queue.SetPostponeUntil(id, until);
            var op = Queue.Retrieve(id);
            Assert.AreEqual("1/10", StateOf(op));
            Assert.That((op.PostponeUntil.Value - until).Duration() < TimeSpan.FromMilliseconds(2));
            long other = Queue.Submit("y", 1);
            Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Postpone(other, DateTime.UtcNow.AddHours(-1)));
            Assert.AreEqual("0/0", StateOf(Queue.Retrieve(other)));
        }

        [Test]
        public void ActionsOnUnknownIds()
        {
            var actions = new Action<long>[] { i => Queue.Cancel(i), i => Queue.Pause(i), i => Queue.Resume(i),
                i => Queue.Postpone(i, DateTime.UtcNow.AddHours(1)), i => Queue.Delete(i), i => Queue.SetState(i, AsyncOperationState.Ready),
                i => Queue.SetPostponeUntil(i, DateTime.UtcNow.AddHours(1)), i => Queue.Retrieve(i), i => Queue.WaitFor(i, TimeSpan.Zero) };
            foreach (var act in actions)
            {
                var ex = Assert.Throws<AsyncopNotFoundException>(() => act(424242));
                Assert.AreEqual(AsyncopErrorCode.NotFound, ex.Code);
                Assert.Throws<ArgumentOutOfRangeException>(() => act(0));
                Assert.Throws<ArgumentOutOfRangeException>(() => act(-5));
            }
        }

        [Test]
        public void DeletedOperationMakesItsHostLoseTheLease()
        {
            using (var q = AsyncOperationQueue.Open(NewTarget("any.db"), new AsyncOperationQueueOptions { AllowDeleteAny = true }))
            {
                long id = q.Submit("x", 1);
                var lease = Claim(q);
                q.Delete(id);
                Assert.Throws<AsyncopLeaseLostException>(() => lease.Renew());
                Assert.Throws<AsyncopLeaseLostException>(() => lease.Complete());
                lease.Dispose();
            }
        }
    }
}
