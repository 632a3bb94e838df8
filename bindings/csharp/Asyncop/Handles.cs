using System;
using System.Runtime.InteropServices;

namespace Asyncop
{
    internal sealed class QueueHandle : SafeHandle
    {
        public QueueHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_queue_close(handle); } catch { } return true; }
    }

    internal sealed class OptionsHandle : SafeHandle
    {
        public OptionsHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_options_free(handle); } catch { } return true; }
    }

    internal sealed class SpecHandle : SafeHandle
    {
        public SpecHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_spec_free(handle); } catch { } return true; }
    }

    internal sealed class OperationHandle : SafeHandle
    {
        public OperationHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_operation_free(handle); } catch { } return true; }
    }

    internal sealed class OperationListHandle : SafeHandle
    {
        public OperationListHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_operation_list_free(handle); } catch { } return true; }
    }

    internal sealed class CountsHandle : SafeHandle
    {
        public CountsHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_counts_free(handle); } catch { } return true; }
    }

    internal sealed class LeaseHandle : SafeHandle
    {
        public LeaseHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        /// <summary>Adopts a raw lease pointer written by asyncop_queue_poll.</summary>
        internal void Adopt(IntPtr raw) { SetHandle(raw); }
        protected override bool ReleaseHandle() { try { NativeMethods.asyncop_lease_free(handle); } catch { } return true; }
    }
}
