using System;
using System.IO;
using System.Text;
using Asyncop;

// A consumer of the Asyncop NuGet package: submits, claims and completes one operation, then
// prints where libasyncop was loaded from (bindings/csharp/test-package checks it is the
// package's copy, found without LD_LIBRARY_PATH).
static class Program
{
    static int Main()
    {
        string path = Path.Combine(Path.GetTempPath(), "asyncop-sample-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using (var queue = AsyncOperationQueue.Open(path, new AsyncOperationQueueOptions()))
            {
                long id = queue.Submit("Send invoice", 10, Encoding.UTF8.GetBytes("invoice 42"));
                foreach (Lease lease in queue.Poll("sample-host", max: 1))
                {
                    using (lease)
                    {
                        Console.WriteLine("claimed {0}: {1}", lease.Name, Encoding.UTF8.GetString(lease.Data));
                        lease.Complete();
                    }
                }
                AsyncOperation done = queue.Retrieve(id);
                Console.WriteLine("operation {0}: {1}", id, done.StateCode);
                if (done.StateCode != AsyncOperationState.Completed) return 1;
            }
            Console.WriteLine("libasyncop: {0}", LoadedLibrary());
            return 0;
        }
        finally
        {
            foreach (string file in Directory.GetFiles(Path.GetDirectoryName(path), Path.GetFileName(path) + "*"))
                File.Delete(file);
        }
    }

    // The path of the mapped libasyncop.so, from /proc/self/maps.
    static string LoadedLibrary()
    {
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && line.EndsWith("/libasyncop.so", StringComparison.Ordinal)) return line.Substring(slash);
        }
        return "(not mapped)";
    }
}
