// A worker process for the cross-language test and a usage sample:
//   mono WorkerMain.exe DB HOST LOG EXPECTED [GO_FILE]
// Claims and completes operations until EXPECTED operations in the file are Completed,
// logging each id after its Complete() succeeded. With GO_FILE, it writes GO_FILE.HOST.ready
// and waits for GO_FILE before it starts, so several processes start together.
using System;
using System.IO;
using System.Linq;
using System.Threading;
using Asyncop;

static class WorkerMain
{
    static int Main(string[] args)
    {
        if (args.Length < 4)
        {
            Console.Error.WriteLine("usage: WorkerMain DB HOST LOG EXPECTED [GO_FILE]");
            return 2;
        }
        string db = args[0], host = args[1], logPath = args[2];
        long expected = long.Parse(args[3]);
        using (var q = AsyncOperationQueue.Open(db, new AsyncOperationQueueOptions { Durability = Durability.Normal }))
        using (var log = new StreamWriter(logPath, true))
        {
            if (args.Length > 4)
            {
                // Warm up (JIT) the calls of the loop before saying ready, so that
                // the processes really start together: a type no one submits
                // claims nothing.
                q.Poll(host, 1, null, new[] { int.MaxValue });
                q.Counts();
                File.WriteAllText(args[4] + "." + host + ".ready", "");
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (!File.Exists(args[4]))
                {
                    if (DateTime.UtcNow > deadline) { Console.Error.WriteLine("no go file"); return 3; }
                    Thread.Sleep(10);
                }
            }
            int idle = 0;
            while (true)
            {
                var leases = q.Poll(host, 4, TimeSpan.FromMilliseconds(100));
                if (leases.Count == 0)
                {
                    long done = q.Counts().Where(c => c.StateCode == AsyncOperationState.Completed).Sum(c => c.Count);
                    if (done >= expected) break;
                    if (++idle > 1200) { Console.Error.WriteLine("gave up waiting"); return 4; }
                    continue;
                }
                idle = 0;
                foreach (var lease in leases)
                {
                    using (lease)
                    {
                        Thread.SpinWait(2000); // the "work"
                        try { lease.Complete(); }
                        catch (AsyncopLeaseLostException) { continue; }
                        log.WriteLine(lease.Id);
                    }
                }
                log.Flush();
            }
        }
        return 0;
    }
}
