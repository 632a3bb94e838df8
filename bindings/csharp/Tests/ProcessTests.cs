using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    [TestFixture("sqlite")]
    [TestFixture("postgres")]
    public class ProcessTests : QueueFixture
    {
        public ProcessTests(string store) : base(store) { }

        const string PythonWorker = @"
import os, sys, time
import asyncop
db, host, log_path, expected, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
with asyncop.Queue(db, durability='normal') as q, open(log_path, 'a') as log:
    open(go + '.' + host + '.ready', 'w').close()
    deadline = time.monotonic() + 60
    while not os.path.exists(go):
        assert time.monotonic() < deadline, 'no go file'
        time.sleep(0.01)
    idle = 0
    while True:
        leases = q.poll(host, max=4, wait=0.1)
        if not leases:
            if sum(c.count for c in q.counts() if c.state == asyncop.State.COMPLETED) >= expected:
                break
            idle += 1
            assert idle < 1200, 'gave up waiting'
            continue
        idle = 0
        for lease in leases:
            try:
                lease.complete()
            except asyncop.LeaseLostError:
                continue
            finally:
                lease.close()
            log.write(f'{lease.id}\n')
        log.flush()
";

        static Process Start(string file, string args, Dictionary<string, string> env)
        {
            var psi = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var kv in env) psi.EnvironmentVariables[kv.Key] = kv.Value;
            return Process.Start(psi);
        }

        static string Quote(string s) { return "\"" + s.Replace("\"", "\\\"") + "\""; }

        [Test]
        public void TwoDotNetWorkersAndOnePythonWorkerCompleteEverythingExactlyOnce()
        {
            string repo = RepoRoot();
            string python = Path.Combine(repo, ".venv", "bin", "python");
            if (!File.Exists(python))
            {
                Assert.Ignore("SKIPPED the Python part: " + python + " is missing (run bindings/python/run-tests first); refusing to run a .NET-only variant silently");
            }
            string exe = Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "WorkerMain.exe");
            Assert.IsTrue(File.Exists(exe), exe + " is missing (the runner compiles it)");
            string lib = Path.Combine(repo, "target", "debug", "libasyncop.so");
            int n = OnPostgres ? 400 : 1500; // a server round trip per commit
            var ids = Queue.SubmitMany(Enumerable.Range(0, n).Select(i => new AsyncOperationSpec("op" + i, 1)));
            string go = Path.Combine(Dir, "go");
            string script = Path.Combine(Dir, "py_worker.py");
            File.WriteAllText(script, PythonWorker);
            var env = new Dictionary<string, string>
            {
                { "LD_LIBRARY_PATH", Path.GetDirectoryName(lib) },
                { "ASYNCOP_LIBRARY", lib },
                { "PYTHONPATH", Path.Combine(repo, "bindings", "python") },
            };
            var hosts = new[] { "dotnet-1", "dotnet-2", "python-1" };
            var logs = hosts.ToDictionary(h => h, h => Path.Combine(Dir, h + ".log"));
            var procs = new List<Process>
            {
                Start("mono", string.Join(" ", new[] { exe, Db, hosts[0], logs[hosts[0]], n.ToString(), go }.Select(Quote).ToArray()), env),
                Start("mono", string.Join(" ", new[] { exe, Db, hosts[1], logs[hosts[1]], n.ToString(), go }.Select(Quote).ToArray()), env),
                Start(python, string.Join(" ", new[] { script, Db, hosts[2], logs[hosts[2]], n.ToString(), go }.Select(Quote).ToArray()), env),
            };
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (!hosts.All(h => File.Exists(go + "." + h + ".ready")))
                {
                    if (DateTime.UtcNow > deadline || procs.Any(p => p.HasExited)) Assert.Fail("a worker did not start: " + string.Join("\n", procs.Where(p => p.HasExited).Select(p => p.StandardError.ReadToEnd()).ToArray()));
                    Thread.Sleep(10);
                }
                File.WriteAllText(go, "");
                foreach (var p in procs)
                {
                    Assert.IsTrue(p.WaitForExit(120000), "a worker hung");
                    string err = p.StandardError.ReadToEnd();
                    Assert.AreEqual(0, p.ExitCode, "worker failed: " + err);
                }
            }
            finally
            {
                foreach (var p in procs) { try { if (!p.HasExited) p.Kill(); } catch (InvalidOperationException) { } }
            }
            var perHost = hosts.ToDictionary(h => h, h => File.Exists(logs[h]) ? File.ReadAllLines(logs[h]).Where(l => l.Length > 0).Select(long.Parse).ToList() : new List<long>());
            var all = perHost.Values.SelectMany(x => x).ToList();
            Console.WriteLine("completions per process: " + string.Join(", ", perHost.Select(kv => kv.Key + "=" + kv.Value.Count).ToArray()));
            Assert.AreEqual(all.Count, all.Distinct().Count(), "an operation was completed twice");
            CollectionAssert.AreEquivalent(ids, all, "an operation was lost");
            foreach (var h in hosts) Assert.Greater(perHost[h].Count, 0, h + " completed nothing");
            var counts = Queue.Counts();
            Assert.AreEqual(1, counts.Count);
            Assert.AreEqual(AsyncOperationStatus.Succeeded, counts[0].StatusCode);
            Assert.AreEqual(n, counts[0].Count);
        }
    }
}
