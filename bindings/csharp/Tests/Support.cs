using System;
using System.IO;
using System.Linq;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    public abstract class QueueFixture
    {
        protected string Dir;
        protected string Db;
        protected AsyncOperationQueue Queue;

        [SetUp]
        public void OpenQueue()
        {
            Dir = Path.Combine(Path.GetTempPath(), "asyncop-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Dir);
            Db = Path.Combine(Dir, "jobs.db");
            Queue = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal });
        }

        [TearDown]
        public void CloseQueue()
        {
            Queue.Dispose();
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }

        public static Lease Claim(AsyncOperationQueue q, int type = 0, string host = "host-1")
        {
            var leases = q.Poll(host, 1, null, type > 0 ? new[] { type } : null);
            Assert.AreEqual(1, leases.Count, "expected one lease");
            return leases[0];
        }

        public static string StateOf(AsyncOperation op)
        {
            return (int)op.StateCode + "/" + (int)op.StatusCode;
        }

        /// <summary>Everything a refused action must leave unchanged.</summary>
        public static string Fingerprint(AsyncOperation op)
        {
            return string.Join("|", new object[] { op.Id, op.Name, op.StateCode, op.StatusCode, op.ModifiedOn.Ticks, op.LockToken,
                op.RetryCount, op.PostponeUntil, op.ErrorCode, op.Message, op.HostId, op.CompletedOn, Convert.ToBase64String(op.Data) }.Select(o => o == null ? "null" : o.ToString()).ToArray());
        }

        public static string RepoRoot()
        {
            string d = AppDomain.CurrentDomain.BaseDirectory;
            var env = Environment.GetEnvironmentVariable("ASYNCOP_REPO");
            if (!string.IsNullOrEmpty(env)) return env;
            var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "include", "asyncop.h"))) dir = dir.Parent;
            if (dir == null) throw new InvalidOperationException("cannot find the repository root (set ASYNCOP_REPO)");
            return dir.FullName;
        }
    }
}
