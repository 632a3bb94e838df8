using System;
using System.Runtime.InteropServices;

namespace Asyncop
{
    /// <summary>The one SafeHandle base of every asyncop handle (LibGit2Sharp style): 0 is invalid, and release calls
    /// the type's close/free function exactly once, never throwing (release runs on the finalizer thread).</summary>
    internal abstract class AsyncopHandle : SafeHandle
    {
        protected AsyncopHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        /// <summary>The matching asyncop_*_close / asyncop_*_free.</summary>
        protected abstract int Free(IntPtr raw);
        protected override bool ReleaseHandle() { try { Free(handle); } catch { } return true; }
    }

    internal sealed class QueueHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_queue_close(raw); } }
    internal sealed class OptionsHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_options_free(raw); } }
    internal sealed class SpecHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_spec_free(raw); } }
    internal sealed class OperationHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_operation_free(raw); } }
    internal sealed class OperationListHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_operation_list_free(raw); } }
    internal sealed class CountsHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_counts_free(raw); } }
    internal sealed class AttemptListHandle : AsyncopHandle { protected override int Free(IntPtr raw) { return NativeMethods.asyncop_attempt_list_free(raw); } }

    internal sealed class LeaseHandle : AsyncopHandle
    {
        /// <summary>Adopts a raw lease pointer written by asyncop_queue_poll.</summary>
        internal void Adopt(IntPtr raw) { SetHandle(raw); }
        protected override int Free(IntPtr raw) { return NativeMethods.asyncop_lease_free(raw); }
    }
}
