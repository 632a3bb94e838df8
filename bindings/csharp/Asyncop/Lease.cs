using System;

namespace Asyncop
{
    /// <summary>One claimed operation. Renew it every <c>LeaseDuration / 3</c> and end it with one outcome;
    /// disposing it without an outcome releases it as a retryable failure.</summary>
    public sealed class Lease : IDisposable
    {
        readonly LeaseHandle handle;
        readonly byte[] data;
        int outcomeReported;
        volatile bool disposed;

        internal Lease(AsyncOperationQueue queue, LeaseHandle handle)
        {
            this.handle = handle;
            Queue = queue;
            // All fields in one call (asyncop_lease_read) into this thread's buffer; a lease whose texts and
            // payload do not fit is read again into a buffer of the size the first call reported.
            byte[] buf = scratch ?? (scratch = new byte[ScratchBytes]);
            LeaseFields f; UIntPtr len;
            int rc = NativeMethods.asyncop_lease_read(handle, buf, new UIntPtr((uint)buf.Length), out f, out len);
            if (rc == (int)AsyncopErrorCode.BufferTooSmall)
            {
                buf = new byte[len.ToUInt64()];
                rc = NativeMethods.asyncop_lease_read(handle, buf, len, out f, out len);
            }
            Interop.Check(rc);
            Id = f.Id;
            LockToken = f.LockToken;
            OperationType = f.OperationType;
            Attempt = f.Attempt;
            ExpiresAt = Interop.FromMs(f.ExpiresAt);
            // The layout: name NUL, payload, host id NUL, then token NUL and correlation id NUL when present.
            int at = 0;
            Name = Text(buf, ref at, f.NameLen);
            data = new byte[(int)f.DataLen.ToUInt64()];
            Buffer.BlockCopy(buf, at, data, 0, data.Length);
            at += data.Length;
            HostId = Text(buf, ref at, f.HostIdLen);
            DependencyToken = f.DependencyToken == IntPtr.Zero ? null : Text(buf, ref at, f.DependencyTokenLen);
            CorrelationId = f.CorrelationId == IntPtr.Zero ? null : Text(buf, ref at, f.CorrelationIdLen);
        }

        const int ScratchBytes = 4096;
        [ThreadStatic] static byte[] scratch;

        /// <summary>The UTF-8 text of <paramref name="len"/> bytes at <paramref name="at"/>, which moves past it
        /// and its NUL.</summary>
        static string Text(byte[] buf, ref int at, UIntPtr len)
        {
            int n = (int)len.ToUInt64();
            string s = System.Text.Encoding.UTF8.GetString(buf, at, n);
            at += n + 1;
            return s;
        }

        /// <summary>The queue the operation was claimed from.</summary>
        public AsyncOperationQueue Queue { get; private set; }
        /// <summary>The operation id.</summary>
        public long Id { get; private set; }
        /// <summary>The fencing token of this claim.</summary>
        public long LockToken { get; private set; }
        /// <summary>The operation type.</summary>
        public int OperationType { get; private set; }
        /// <summary>1 for the first run, more after retries.</summary>
        public int Attempt { get; private set; }
        /// <summary>When the lease ended at claim time (UTC).</summary>
        public DateTime ExpiresAt { get; private set; }
        /// <summary>The operation's name.</summary>
        public string Name { get; private set; }
        /// <summary>The host id that claimed it.</summary>
        public string HostId { get; private set; }
        /// <summary>The payload (a copy each time it is read).</summary>
        public byte[] Data { get { return (byte[])data.Clone(); } }
        /// <summary>The dependency token, or null.</summary>
        public string DependencyToken { get; private set; }
        /// <summary>The correlation id, or null.</summary>
        public string CorrelationId { get; private set; }
        /// <summary>True once an outcome was reported through this object.</summary>
        public bool IsFinished { get { return outcomeReported != 0; } }

        LeaseHandle Handle
        {
            get
            {
                if (disposed || handle.IsClosed) throw new ObjectDisposedException(typeof(Lease).Name);
                return handle;
            }
        }

        /// <summary>The live handle, for <see cref="AsyncOperationQueue.CompleteMany"/>; throws <see cref="ObjectDisposedException"/> once disposed.</summary>
        internal LeaseHandle LiveHandle { get { return Handle; } }

        /// <summary>Records an outcome reported by a batch call, as <see cref="Complete()"/> does for one.</summary>
        internal void MarkFinished() { outcomeReported = 1; }

        AsyncOperationStatus Done(int rc, int status)
        {
            Interop.Check(rc);
            outcomeReported = 1;
            return (AsyncOperationStatus)status;
        }

        /// <summary>Heartbeat: extends the lease and returns the current status (InProgress, or Pausing/Canceling when a user asked the host to stop).</summary>
        public AsyncOperationStatus Renew()
        {
            int s;
            Interop.Check(NativeMethods.asyncop_lease_renew(Handle, out s));
            return (AsyncOperationStatus)s;
        }

        /// <summary>Whether the handler should stop, without blocking: None, Pause (a user paused or postponed it),
        /// Cancel, or LeaseLost. The first call (of this or <see cref="WaitStop"/>) starts watching the lease: the
        /// library learns a request through the queue's change signal (about a millisecond in one process, a few
        /// across processes), not at the next renewal. The reason is set once; an outcome ends the watch.</summary>
        public LeaseStopReason StopRequested()
        {
            int r;
            Interop.Check(NativeMethods.asyncop_lease_stop_requested(Handle, out r));
            return (LeaseStopReason)r;
        }

        /// <summary>Blocks until a stop is requested (see <see cref="StopRequested"/>), an outcome is reported through
        /// this lease, its queue is closed, or <paramref name="timeout"/> passes; returns the reason (None if none).</summary>
        public LeaseStopReason WaitStop(TimeSpan timeout)
        {
            long ms = Interop.DurationMs(timeout, "timeout");
            int r;
            Interop.Check(NativeMethods.asyncop_lease_wait_stop(Handle, ms, out r));
            return (LeaseStopReason)r;
        }

        /// <summary>The work finished: Completed/Succeeded.</summary>
        public AsyncOperationStatus Complete()
        {
            int s; int rc = NativeMethods.asyncop_lease_complete(Handle, out s); return Done(rc, s);
        }

        /// <summary>The work finished: Completed/Succeeded, storing <paramref name="output"/> (at most
        /// <see cref="AsyncOperationQueue.OutputMaxBytes"/>; null stores none) as the operation's Output. For a recurring
        /// series each run's output replaces the last run's. Too long an output throws and the lease is still held.</summary>
        public AsyncOperationStatus Complete(byte[] output)
        {
            if (output == null) return Complete();
            int s; int rc = NativeMethods.asyncop_lease_complete_output(Handle, output, new UIntPtr((uint)output.Length), out s); return Done(rc, s);
        }

        /// <summary>Reports the attempt's progress (0..100) and a short text (null for none), which Retrieve returns until
        /// the next claim resets them; returns the status to act on, like <see cref="Renew"/> (it does not renew). Unless
        /// <paramref name="durable"/>, the write is not synced on its own and wakes no waiting poll: a power loss may lose
        /// the latest progress, nothing else.</summary>
        public AsyncOperationStatus Progress(int percent, string text = null, bool durable = false)
        {
            byte[] t = Interop.Utf8zOptional(text, "text");
            int s;
            Interop.Check(NativeMethods.asyncop_lease_progress(Handle, percent, t, durable ? 1 : 0, out s));
            return (AsyncOperationStatus)s;
        }

        /// <summary>The work failed for good: Completed/Failed, with an error code (0 for none) and a message;
        /// <paramref name="detail"/> (e.g. an exception's ToString()) is kept with the attempt in Attempts.</summary>
        public AsyncOperationStatus Fail(int errorCode = 0, string message = null, string detail = null)
        {
            byte[] m = Interop.Utf8zOptional(message, "message");
            if (detail != null) return WithDetail(OutcomeFailed, errorCode, m, NativeMethods.TimeNone, detail);
            int s; int rc = NativeMethods.asyncop_lease_fail(Handle, errorCode, m, out s); return Done(rc, s);
        }

        /// <summary>A retryable failure: Suspended until the back-off time (or <paramref name="retryAt"/>), or Failed when the retry budget is spent;
        /// <paramref name="detail"/> (e.g. an exception's ToString()) is kept with the attempt in Attempts.</summary>
        public AsyncOperationStatus Retry(int errorCode = 0, string message = null, DateTime? retryAt = null, string detail = null)
        {
            byte[] m = Interop.Utf8zOptional(message, "message");
            long at = Interop.ToMs(retryAt, "retryAt");
            if (detail != null) return WithDetail(OutcomeRetry, errorCode, m, at, detail);
            int s; int rc = NativeMethods.asyncop_lease_retry(Handle, errorCode, m, at, out s); return Done(rc, s);
        }

        // ASYNCOP_OUTCOME_FAILED and ASYNCOP_OUTCOME_RETRY, the outcomes asyncop_lease_report_detail takes here.
        const int OutcomeFailed = 0;
        const int OutcomeRetry = 2;

        AsyncOperationStatus WithDetail(int outcome, int errorCode, byte[] message, long retryAt, string detail)
        {
            byte[] d = Interop.Utf8z(detail, "detail");
            int s; int rc = NativeMethods.asyncop_lease_report_detail(Handle, outcome, errorCode, message, null, retryAt, d, out s);
            return Done(rc, s);
        }

        /// <summary>A suspend-class failure: Suspended with no time, until a user resumes it.</summary>
        public AsyncOperationStatus Suspend(int errorCode = 0, string message = null)
        {
            byte[] m = Interop.Utf8zOptional(message, "message");
            int s; int rc = NativeMethods.asyncop_lease_suspend(Handle, errorCode, m, out s); return Done(rc, s);
        }

        /// <summary>The host stopped at a safe point after a Pausing renewal: Suspended.</summary>
        public AsyncOperationStatus AcknowledgePause()
        {
            int s; int rc = NativeMethods.asyncop_lease_acknowledge_pause(Handle, out s); return Done(rc, s);
        }

        /// <summary>The host stopped at a safe point after a Canceling renewal: Completed/Canceled.</summary>
        public AsyncOperationStatus AcknowledgeCancel()
        {
            int s; int rc = NativeMethods.asyncop_lease_acknowledge_cancel(Handle, out s); return Done(rc, s);
        }

        /// <summary>Releases the lease handle; without an outcome the operation is released as a retryable failure first. Twice is harmless.</summary>
        public void Dispose()
        {
            if (disposed || handle.IsClosed) return;
            if (outcomeReported == 0)
            {
                try { Retry(0, "lease released without an outcome"); }
                catch (AsyncopException) { }
                catch (ObjectDisposedException) { }
            }
            disposed = true;
            handle.Dispose();
        }

        /// <summary>A readable form.</summary>
        public override string ToString() { return string.Format("Lease {0} '{1}' type {2} attempt {3}", Id, Name, OperationType, Attempt); }
    }
}
