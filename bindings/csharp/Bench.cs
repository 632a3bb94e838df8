// Per-call overhead of Submit and of Poll+Complete through C# (compare with the
// Rust API's W1 and W2 at NORMAL in `cargo bench --bench queue`). Usage: mono Bench.exe [N]
using System;
using System.Diagnostics;
using System.IO;
using Asyncop;

static class Bench
{
    static void Main(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 5000;
        string path = Path.Combine(Path.GetTempPath(), "asyncop-bench-" + Guid.NewGuid().ToString("N") + ".db");
        var payload = new byte[100];
        // Warm up the JIT on a scratch file, then measure on a fresh file like the Rust example:
        // NORMAL durability, ~100-byte payloads, one lease per poll, any type.
        using (var w = AsyncOperationQueue.Open(path + ".warm", new AsyncOperationQueueOptions { Durability = Durability.Normal }))
        {
            for (int i = 0; i < 200; i++) w.Submit("warm", 100, payload);
            for (int done0 = 0; done0 < 200;) foreach (var l in w.Poll("bench")) using (l) { l.Complete(); done0++; }
        }
        using (var q = AsyncOperationQueue.Open(path, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) q.Submit("op-" + i, 100, payload);
            double submit = sw.Elapsed.TotalMilliseconds * 1000 / n;
            sw.Restart();
            int done = 0;
            var pollTime = new Stopwatch();
            var completeTime = new Stopwatch();
            while (done < n)
            {
                pollTime.Start();
                var leases = q.Poll("bench");
                pollTime.Stop();
                foreach (var lease in leases)
                {
                    completeTime.Start();
                    using (lease) { lease.Complete(); done++; }
                    completeTime.Stop();
                }
            }
            double pc = sw.Elapsed.TotalMilliseconds * 1000 / n;
            Console.WriteLine("C# poll: {0:F1} us/op, complete+dispose: {1:F1} us/op", pollTime.Elapsed.TotalMilliseconds * 1000 / n, completeTime.Elapsed.TotalMilliseconds * 1000 / n);
            Console.WriteLine("C# submit: {0:F1} us/op ({1:F0} ops/s)", submit, 1e6 / submit);
            Console.WriteLine("C# poll+complete: {0:F1} us/op ({1:F0} ops/s)", pc, 1e6 / pc);
        }
        foreach (var f in new[] { path, path + "-wal", path + "-shm", path + "-lock", path + ".warm", path + ".warm-wal", path + ".warm-shm", path + ".warm-lock" }) if (File.Exists(f)) File.Delete(f);
    }
}
