using System;
using System.IO;
using System.Linq;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>
    /// A fresh queue per test. A fixture declared [TestFixture("sqlite")] and
    /// [TestFixture("postgres")] runs each test once per store: Db (and NewTarget)
    /// is then a file path, or a URL naming a fresh PostgreSQL schema
    /// (?schema=t&lt;pid&gt;_&lt;n&gt;_&lt;test&gt;) in the cluster of ASYNCOP_TEST_POSTGRES, which
    /// the runner always provides. Unparameterised fixtures (files, paths) are SQLite only.
    /// </summary>
    public abstract class QueueFixture
    {
        protected readonly string Store;
        protected string Dir;
        protected string Db;
        protected AsyncOperationQueue Queue;
        static int schemas;

        protected QueueFixture() : this("sqlite") { }

        protected QueueFixture(string store)
        {
            if (store != "sqlite" && store != "postgres") throw new ArgumentException("unknown store " + store);
            Store = store;
        }

        protected bool OnPostgres { get { return Store == "postgres"; } }

        /// <summary>Polls <paramref name="condition"/> every 10 ms; fails the test after <paramref name="seconds"/>.</summary>
        protected static void WaitUntil(Func<bool> condition, double seconds = 30, string what = "the condition")
        {
            WaitUntil(condition, TimeSpan.FromSeconds(seconds), what);
        }

        /// <summary>Polls <paramref name="condition"/> every 10 ms; fails the test after <paramref name="timeout"/>.</summary>
        protected static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting for " + what);
                System.Threading.Thread.Sleep(10);
            }
        }

        [SetUp]
        public void OpenQueue()
        {
            Dir = Path.Combine(Path.GetTempPath(), "asyncop-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Dir);
            Db = NewTarget("jobs.db");
            Queue = AsyncOperationQueue.Open(Db, new AsyncOperationQueueOptions { Durability = Durability.Normal });
        }

        /// <summary>Another new queue of this fixture's store: a file in Dir, or a fresh schema.</summary>
        protected string NewTarget(string name)
        {
            if (!OnPostgres) return Path.Combine(Dir, name);
            string test = new string(TestContext.CurrentContext.Test.Name.ToLowerInvariant()
                .Select(c => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_').Take(30).ToArray());
            return FreshPostgresTarget(test);
        }

        /// <summary>A URL naming a schema no other test of any process uses.</summary>
        public static string FreshPostgresTarget(string test)
        {
            int n = System.Threading.Interlocked.Increment(ref schemas);
            return PostgresUrl() + "?schema=t" + System.Diagnostics.Process.GetCurrentProcess().Id + "_" + n + "_" + test;
        }

        /// <summary>The test cluster's URL without a query string (bindings/csharp/run-tests exports it).</summary>
        public static string PostgresUrl()
        {
            string url = Environment.GetEnvironmentVariable("ASYNCOP_TEST_POSTGRES");
            if (string.IsNullOrEmpty(url))
                throw new InvalidOperationException("ASYNCOP_TEST_POSTGRES is not set: run bindings/csharp/run-tests (it starts a cluster with scripts/pg-cluster)");
            int q = url.IndexOf('?');
            return q < 0 ? url : url.Substring(0, q);
        }

        /// <summary>One statement through psql (not the library: checks must not trust what they check); its output, trimmed.</summary>
        public static string Psql(string sql)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("psql", "-qAtX -v ON_ERROR_STOP=1 \"" + PostgresUrl() + "\" -c \"" + sql.Replace("\"", "\\\"") + "\"")
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using (var p = System.Diagnostics.Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd();
                string error = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException("psql failed: " + error);
                return output.Trim();
            }
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
