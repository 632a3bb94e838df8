using System;
using System.Threading;

namespace Asyncop
{
    // The Worker's renewal thread: renews the leases of running, prefetched and finished-but-not-yet-completed jobs.
    public sealed partial class Worker
    {
        void RenewLoop()
        {
            long renewEvery = RenewEvery.Ticks;
            int sleepMs = (int)Math.Max(10, Math.Min(1000, TimeSpan.FromTicks(renewEvery).TotalMilliseconds / 4));
            while (true)
            {
                bool stop = stopping.WaitOne(sleepMs);
                WorkerJob[] jobs;
                lock (active) jobs = active.ToArray();
                if (stop && jobs.Length == 0)
                {
                    bool alive = false;
                    foreach (var t in threads) alive |= t.IsAlive;
                    if (!alive) return;
                }
                long now = DateTime.UtcNow.Ticks;
                foreach (var job in jobs)
                {
                    if (now < job.NextRenewTicks) continue;
                    job.NextRenewTicks = now + renewEvery;
                    try
                    {
                        var s = job.Lease.Renew();
                        if (s == AsyncOperationStatus.Pausing) job.RequestStop(StopReason.Pausing);
                        else if (s == AsyncOperationStatus.Canceling) job.RequestStop(StopReason.Canceling);
                    }
                    catch (AsyncopLeaseLostException) { job.RequestStop(StopReason.LeaseLost); }
                    catch (ObjectDisposedException) { }
                    catch (AsyncopException) { Interlocked.Increment(ref errors); }
                }
            }
        }
    }
}
