using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>The limits every language shares: Poll's max (ASYNCOP_POLL_MAX), the queue-wide payload limit stored in
    /// the file, the FileMode argument check, and CheckIntegrity on healthy and damaged files.</summary>
    [TestFixture]
    public class LimitsTests : QueueFixture
    {
        static long HeaderDefine(string name)
        {
            string header = File.ReadAllText(Path.Combine(RepoRoot(), "include", "asyncop.h"));
            var m = Regex.Match(header, "^#define " + name + " ([0-9]+)$", RegexOptions.Multiline);
            Assert.IsTrue(m.Success, name + " is not a plain number in asyncop.h");
            return long.Parse(m.Groups[1].Value);
        }

        [Test]
        public void ConstantsEqualTheHeader()
        {
            Assert.AreEqual(HeaderDefine("ASYNCOP_POLL_MAX"), AsyncOperationQueue.MaxPoll);
            Assert.AreEqual(HeaderDefine("ASYNCOP_PAYLOAD_DEFAULT_MAX"), AsyncOperationQueue.DefaultMaxPayloadBytes);
            Assert.AreEqual(HeaderDefine("ASYNCOP_PAYLOAD_CEILING"), AsyncOperationQueue.MaxPayloadBytesCeiling);
            Assert.AreEqual(HeaderDefine("ASYNCOP_FILE_MODE_DEFAULT"), AsyncOperationQueue.DefaultFileMode);
            Assert.AreEqual(65536, AsyncOperationQueue.MaxPoll);
            Assert.AreEqual(16L << 20, AsyncOperationQueue.DefaultMaxPayloadBytes);
            Assert.AreEqual(512L << 20, AsyncOperationQueue.MaxPayloadBytesCeiling);
        }

        [Test]
        public void PollAboveMaxPollThrowsAtOnce()
        {
            long id = Queue.Submit("x", 1);
            var watch = Stopwatch.StartNew();
            foreach (int max in new[] { int.MaxValue, AsyncOperationQueue.MaxPoll + 1 })
            {
                var e = Assert.Throws<AsyncopInvalidArgumentException>(() => Queue.Poll("h", max));
                Assert.AreEqual(AsyncopErrorCode.InvalidArgument, e.Code);
                StringAssert.Contains("65536", e.Message);
            }
            Assert.Less(watch.ElapsedMilliseconds, 1000, "a refused poll allocates nothing");
            Assert.AreEqual(AsyncOperationStatus.WaitingForResources, Queue.Retrieve(id).StatusCode, "nothing was claimed");
            var leases = Queue.Poll("h", AsyncOperationQueue.MaxPoll);
            Assert.AreEqual(1, leases.Count);
            leases[0].Complete();
            leases[0].Dispose();
            Assert.AreEqual(0, Queue.Poll("h", AsyncOperationQueue.MaxPoll).Count, "an empty queue at max = MaxPoll");
        }

        [Test]
        public void PayloadAtTheLimitIsAcceptedOneByteOverIsRefused()
        {
            string db = Path.Combine(Dir, "limit.db");
            using (var q = AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { Durability = Durability.Normal, MaxPayloadBytes = 1024 }))
            {
                long id = q.Submit("ok", 1, new byte[1024]);
                Assert.AreEqual(1024, q.Retrieve(id).Data.Length);
                var e = Assert.Throws<AsyncopInvalidArgumentException>(() => q.Submit("big", 1, new byte[1025]));
                Assert.AreEqual(AsyncopErrorCode.InvalidArgument, e.Code);
                StringAssert.Contains("1025", e.Message);
                StringAssert.Contains("1024", e.Message);
                Assert.AreEqual(1, q.Query().Count);
                var batch = new[] { new AsyncOperationSpec("a", 1) { Data = new byte[1] }, new AsyncOperationSpec("b", 1) { Data = new byte[1025] } };
                e = Assert.Throws<AsyncopInvalidArgumentException>(() => q.SubmitMany(batch));
                StringAssert.Contains("spec 1", e.Message);
                Assert.AreEqual(1, q.Query().Count, "a refused batch writes none");
            }
            // Stored in the file: a handle opened with default options applies it.
            using (var q = AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
            {
                Assert.Throws<AsyncopInvalidArgumentException>(() => q.Submit("big", 1, new byte[1025]));
                q.Submit("ok", 1, new byte[1024]);
                Assert.AreEqual(2, q.Query().Count);
            }
        }

        [Test]
        public void PayloadLimitsOutOfRangeAreRefused()
        {
            string db = Path.Combine(Dir, "range.db");
            foreach (long bad in new[] { 0L, -1L, AsyncOperationQueue.MaxPayloadBytesCeiling + 1, long.MaxValue })
            {
                var e = Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { MaxPayloadBytes = bad }));
                Assert.AreEqual(AsyncopErrorCode.InvalidArgument, e.Code);
            }
            Assert.IsFalse(File.Exists(db));
            using (AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { Durability = Durability.Normal, MaxPayloadBytes = AsyncOperationQueue.MaxPayloadBytesCeiling })) { }
        }

        [Test]
        public void FileModeIsChecked()
        {
            string db = Path.Combine(Dir, "mode.db");
            foreach (int bad in new[] { 0, 256 /* 0400 */, 420 /* 0644 */, 438 /* 0666 */, 448 /* 0700 */, -1 })
            {
                var e = Assert.Throws<AsyncopInvalidArgumentException>(() => AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { FileMode = bad }));
                Assert.AreEqual(AsyncopErrorCode.InvalidArgument, e.Code);
            }
            Assert.IsFalse(File.Exists(db));
            int i = 0;
            foreach (int good in new[] { 384 /* 0600 */, 416 /* 0640 */, 432 /* 0660 */ })
            {
                using (var q = AsyncOperationQueue.Open(Path.Combine(Dir, "ok" + i++ + ".db"), new AsyncOperationQueueOptions { Durability = Durability.Normal, FileMode = good }))
                    q.Submit("x", 1);
            }
        }

        /// <summary>Makes the stored state of the Ready row named <paramref name="name"/> NULL: serial type 8 (the constant 0)
        /// becomes 0 (NULL) in its record header, which ends where the body begins with the name.</summary>
        static void NullTheStateOf(string path, string name)
        {
            byte[] b = File.ReadAllBytes(path);
            byte[] n = Encoding.UTF8.GetBytes(name);
            for (int at = 100; at + n.Length <= b.Length; at++)
            {
                bool match = true;
                for (int k = 0; k < n.Length && match; k++) match = b[at + k] == n[k];
                if (!match) continue;
                for (int p = at - 60; p < at; p++)
                {
                    if (b[p] == at - p && b[p + 1] == 0 && b[p + 2] == 13 + 2 * n.Length && b[p + 4] == 8)
                    {
                        b[p + 4] = 0;
                        File.WriteAllBytes(path, b);
                        return;
                    }
                }
            }
            Assert.Fail("no record of " + name + " in " + path);
        }

        [Test]
        public void CheckIntegrityOfHealthyAndDamagedFiles()
        {
            string db = Path.Combine(Dir, "damaged.db");
            long first, second;
            using (var q = AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
            {
                first = q.Submit("row-marker-1", 1, new byte[40]);
                second = q.Submit("row-marker-2", 1, new byte[40]);
                q.CheckIntegrity();
            }
            Assert.IsFalse(File.Exists(db + "-wal"), "closing the last handle checkpoints the WAL");
            NullTheStateOf(db, "row-marker-2");
            using (var q = AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
            {
                Assert.AreEqual("row-marker-1", q.Retrieve(first).Name);
                var e = Assert.Throws<AsyncopCorruptException>(() => q.Retrieve(second));
                Assert.AreEqual(AsyncopErrorCode.Corrupt, e.Code);
                StringAssert.Contains("damaged", e.Message);
                Assert.Throws<AsyncopCorruptException>(() => q.Query());
                e = Assert.Throws<AsyncopCorruptException>(() => q.CheckIntegrity());
                StringAssert.Contains("integrity check failed", e.Message);
            }
            Queue.CheckIntegrity();
        }
    }
}
