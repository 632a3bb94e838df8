using System;

namespace Asyncop
{
    // Clean-up (retention, purge, auto-delete) and held operation types. The queue's life cycle, submitting, reading
    // and user actions are in AsyncOperationQueue.cs; the host side in AsyncOperationQueue.Hosts.cs.
    public sealed partial class AsyncOperationQueue
    {
        /// <summary>A retention that keeps Completed operations of its status forever ("none"): set
        /// <see cref="AsyncOperationQueueOptions.RetentionSucceeded"/> (or Failed, Canceled) to it.</summary>
        public static readonly TimeSpan RetentionNone = TimeSpan.MaxValue;

        static void SetCleanupOptions(OptionsHandle opts, AsyncOperationQueueOptions options)
        {
            if (options.CleanupEnabled.HasValue)
                Interop.Check(NativeMethods.asyncop_options_set_cleanup_enabled(opts, options.CleanupEnabled.Value ? 1 : 0));
            SetRetention(opts, AsyncOperationStatus.Succeeded, options.RetentionSucceeded, "RetentionSucceeded");
            SetRetention(opts, AsyncOperationStatus.Failed, options.RetentionFailed, "RetentionFailed");
            SetRetention(opts, AsyncOperationStatus.Canceled, options.RetentionCanceled, "RetentionCanceled");
            if (options.AutoDeleteTypes != null)
            {
                int[] t = (int[])options.AutoDeleteTypes.Clone();
                Interop.Check(NativeMethods.asyncop_options_set_auto_delete_types(opts, t, new UIntPtr((uint)t.Length)));
            }
        }

        static void SetRetention(OptionsHandle opts, AsyncOperationStatus status, TimeSpan? keep, string name)
        {
            if (!keep.HasValue) return;
            long ms = keep.Value == RetentionNone ? NativeMethods.RetentionNone : Interop.DurationMs(keep.Value, name);
            Interop.Check(NativeMethods.asyncop_options_set_retention_ms(opts, (int)status, ms));
        }

        /// <summary>Deletes the Completed operations whose completion is older at <paramref name="now"/> (default: the
        /// queue's now) than the retention of their status (30 days Succeeded, 60 Failed, 60 Canceled by default), in short
        /// transactions of at most 500 rows, and returns how many were deleted. Hosts also purge from their polls at most
        /// hourly (<see cref="AsyncOperationQueueOptions.CleanupEnabled"/>).</summary>
        public long Purge(DateTime? now = null)
        {
            long deleted;
            Interop.Check(NativeMethods.asyncop_queue_purge(Handle, Interop.ToMs(now, "now"), out deleted));
            return deleted;
        }

        /// <summary>Holds every operation of a type: claims of every process and host skip them until
        /// <see cref="ReleaseType"/>. They keep their state and place; running ones are not touched; restricted types
        /// can be held. Holding a held type changes nothing.</summary>
        /// <exception cref="AsyncopInvalidArgumentException">The type is not &gt; 0.</exception>
        public void HoldType(int operationType)
        {
            Interop.Check(NativeMethods.asyncop_queue_hold_type(Handle, operationType));
        }

        /// <summary>Releases a held type: its operations are claimable again, in their order, and waiting polls wake.
        /// Releasing a type that is not held changes nothing.</summary>
        public void ReleaseType(int operationType)
        {
            Interop.Check(NativeMethods.asyncop_queue_release_type(Handle, operationType));
        }

        /// <summary>The held operation types, ascending.</summary>
        public int[] HeldTypes()
        {
            UIntPtr n = UIntPtr.Zero;
            while (true)
            {
                int[] buf = new int[(int)n.ToUInt64()];
                int rc = NativeMethods.asyncop_queue_held_types(Handle, buf.Length == 0 ? null : buf, new UIntPtr((uint)buf.Length), out n);
                if (rc == (int)AsyncopErrorCode.BufferTooSmall) continue;
                Interop.Check(rc);
                if ((int)n.ToUInt64() == buf.Length) return buf;
                Array.Resize(ref buf, (int)n.ToUInt64());
                return buf;
            }
        }
    }
}
