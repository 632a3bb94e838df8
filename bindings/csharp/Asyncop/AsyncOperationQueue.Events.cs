using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Asyncop
{
    // The event callback and the library's metrics. The queue keeps every delegate it handed to C alive for its own
    // life: a call in flight on another thread may still run an old one after OnEvent replaced it.
    public sealed partial class AsyncOperationQueue
    {
        readonly List<NativeMethods.EventCallback> eventCallbacks = new List<NativeMethods.EventCallback>();

        /// <summary>Calls <paramref name="callback"/> for every change made through this queue: submits, claims, host
        /// outcomes, user actions, recoveries, purges. Replaces the previous callback; null removes it. It runs on the
        /// thread that made the change (a worker's thread too), right after the change committed and outside the
        /// store's locks, so it may call the queue; it delays that call, so keep it quick. An exception it throws is
        /// written to <see cref="Trace"/> and otherwise ignored: the change stands and the queue goes on.</summary>
        public void OnEvent(Action<AsyncOperationEvent> callback)
        {
            if (callback == null)
            {
                Interop.Check(NativeMethods.asyncop_queue_set_event_callback(Handle, null, IntPtr.Zero));
                return;
            }
            NativeMethods.EventCallback native = (user, kind, id, type, from, to, host, at, count) =>
            {
                try
                {
                    callback(new AsyncOperationEvent
                    {
                        Kind = (AsyncOperationEventKind)kind,
                        Id = id,
                        OperationType = type,
                        FromStatus = from < 0 ? (AsyncOperationStatus?)null : (AsyncOperationStatus)from,
                        ToStatus = to < 0 ? (AsyncOperationStatus?)null : (AsyncOperationStatus)to,
                        Host = host == IntPtr.Zero ? null : Interop.PtrToUtf8(host),
                        At = Interop.FromMs(at),
                        Count = count,
                    });
                }
                catch (Exception e)
                {
                    // Never let an exception cross into the native caller.
                    Trace.TraceError("asyncop: the event callback threw: " + e);
                }
            };
            lock (eventCallbacks) eventCallbacks.Add(native);
            Interop.Check(NativeMethods.asyncop_queue_set_event_callback(Handle, native, IntPtr.Zero));
        }

        /// <summary>The library's counters and latency histograms of this queue (this process, since it was opened) in
        /// the Prometheus text format, e.g. to append to a /metrics page. <paramref name="labels"/> (e.g.
        /// <c>queue="jobs"</c>) is added to every series as given. Names: see the README's "Metrics and events".</summary>
        public string MetricsText(string labels = "")
        {
            byte[] raw = Interop.Utf8z(labels ?? "", "labels");
            return Interop.ReadText((byte[] buf, UIntPtr cap, out UIntPtr len) =>
                NativeMethods.asyncop_queue_metrics_prometheus(Handle, raw, buf, cap, out len));
        }
    }
}
