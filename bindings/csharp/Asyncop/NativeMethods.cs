using System;
using System.Runtime.InteropServices;

namespace Asyncop
{
    /// <summary>P/Invoke declarations for every function of include/asyncop.h (ABI 2).</summary>
    internal static partial class NativeMethods
    {
        internal const string Lib = "asyncop";
        internal const uint AbiVersion = 2;
        // TimeNone, Any, StatusNone and the header's limits (PollMax, PayloadDefaultMax, PayloadCeiling,
        // FileModeDefault, FileModeAllowed, ...) are generated into Codes.g.cs by scripts/gen-bindings.

        // --- library ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr asyncop_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint asyncop_abi_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr asyncop_status_name(int code);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_status_hresult(int code);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr asyncop_last_error_message(byte[] buf, UIntPtr cap);

        // --- lease ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_free(IntPtr lease);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_id(LeaseHandle lease, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_lock_token(LeaseHandle lease, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_operation_type(LeaseHandle lease, out int value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_attempt(LeaseHandle lease, out int value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_expires_at(LeaseHandle lease, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_name(LeaseHandle lease, byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_host_id(LeaseHandle lease, byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_data(LeaseHandle lease, byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_dependency_token(LeaseHandle lease, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_correlation_id(LeaseHandle lease, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_renew(LeaseHandle lease, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_read(LeaseHandle lease, byte[] buf, UIntPtr cap, out LeaseFields fields, out UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_stop_requested(LeaseHandle lease, out int reason);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_wait_stop(LeaseHandle lease, long timeoutMs, out int reason);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_complete(LeaseHandle lease, out int status);
        // leases: raw handles, each kept alive by the caller (DangerousAddRef); results: asyncop_status[] or null.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_complete_many(IntPtr[] leases, UIntPtr count, [Out] int[] results);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_fail(LeaseHandle lease, int errorCode, byte[] message, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_retry(LeaseHandle lease, int errorCode, byte[] message, long retryAt, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_suspend(LeaseHandle lease, int errorCode, byte[] message, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_acknowledge_pause(LeaseHandle lease, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_acknowledge_cancel(LeaseHandle lease, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_report(LeaseHandle lease, int outcome, int errorCode, byte[] message, byte[] friendlyMessage, long retryAt, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_progress(LeaseHandle lease, int percent, byte[] text, int durable, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_complete_output(LeaseHandle lease, byte[] output, UIntPtr len, out int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_lease_report_detail(LeaseHandle lease, int outcome, int errorCode, byte[] message, byte[] friendlyMessage, long retryAt, byte[] detail, out int status);

        // --- operation snapshot ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_free(IntPtr operation);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_id(OperationHandle op, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_operation_type(OperationHandle op, out int value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_state(OperationHandle op, out int value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_status(OperationHandle op, out int value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_lock_token(OperationHandle op, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_retry_count(OperationHandle op, out int value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_created_on(OperationHandle op, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_modified_on(OperationHandle op, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_postpone_until(OperationHandle op, out long value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_lease_expires_at(OperationHandle op, out long value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_error_code(OperationHandle op, out int value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_started_on(OperationHandle op, out long value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_completed_on(OperationHandle op, out long value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_execution_time_span(OperationHandle op, out long value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_name(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_data(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_dependency_token(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_host_id(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_message(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_friendly_message(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_correlation_id(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_progress(OperationHandle op, out int value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_progress_text(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_output(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);

        // --- attempt history ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_attempts(QueueHandle queue, long id, out AttemptListHandle list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_count(AttemptListHandle list, out UIntPtr count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_get(AttemptListHandle list, UIntPtr index, out long lockToken, out int ending, out long startedOn, out int startedPresent, out long endedOn);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_error_code(AttemptListHandle list, UIntPtr index, out int value, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_host_id(AttemptListHandle list, UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_message(AttemptListHandle list, UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_detail(AttemptListHandle list, UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_attempt_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_recurrence_pattern(OperationHandle op, byte[] buf, UIntPtr cap, out UIntPtr len, out int present);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_recurrence_start(OperationHandle op, out long value, out int present);

        // --- operation list ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_list_count(OperationListHandle list, out UIntPtr count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_list_get(OperationListHandle list, UIntPtr index, out OperationHandle op);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_operation_list_free(IntPtr list);

        // --- counts ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_counts_count(CountsHandle counts, out UIntPtr count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_counts_get(CountsHandle counts, UIntPtr index, out int state, out int status, out int operationType, out long count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_counts_free(IntPtr counts);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_counts_held(CountsHandle counts, UIntPtr index, out int held);

        // --- options ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_new(out OptionsHandle options);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_free(IntPtr options);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_durability(OptionsHandle options, int durability);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_busy_timeout_ms(OptionsHandle options, long ms);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_lease_ms(OptionsHandle options, long ms);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_restricted_types(OptionsHandle options, int[] types, UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_recurrence_updatable_types(OptionsHandle options, int[] types, UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_max_attempts(OptionsHandle options, int maxAttempts);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_backoff_ms(OptionsHandle options, long baseMs, long capMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_allow_delete_any(OptionsHandle options, int allow);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_max_payload_bytes(OptionsHandle options, ulong maxPayloadBytes);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_file_mode(OptionsHandle options, uint mode);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_cleanup_enabled(OptionsHandle options, int enabled);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_retention_ms(OptionsHandle options, int status, long ms);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_options_set_auto_delete_types(OptionsHandle options, int[] types, UIntPtr len);
        /// <summary>ASYNCOP_RETENTION_NONE: a retention that keeps its status forever.</summary>
        internal const long RetentionNone = -1;

        // --- queue ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_open(byte[] path, OptionsHandle options, out QueueHandle queue);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_close(IntPtr queue);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_now(QueueHandle queue, out long now);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_submit(QueueHandle queue, byte[] name, int operationType, byte[] data, UIntPtr dataLen, byte[] dependencyToken, long postponeUntil, byte[] correlationId, out long id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_submit_many(QueueHandle queue, IntPtr[] specs, UIntPtr count, [Out] long[] ids);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_retrieve(QueueHandle queue, long id, out OperationHandle op);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_query(QueueHandle queue, int state, int status, int operationType, byte[] name, byte[] dependencyToken, byte[] correlationId, byte[] namePrefix, long completedBefore, long afterId, long limit, long offset, out OperationListHandle list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_counts(QueueHandle queue, out CountsHandle counts);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_cancel(QueueHandle queue, long id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_pause(QueueHandle queue, long id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_resume(QueueHandle queue, long id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_postpone(QueueHandle queue, long id, long until);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_set_postpone_until(QueueHandle queue, long id, long until);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_delete(QueueHandle queue, long id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_set_state(QueueHandle queue, long id, int state, int status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_set_recurrence(QueueHandle queue, long id, byte[] pattern);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_poll(QueueHandle queue, byte[] hostId, int[] types, UIntPtr typesLen, long waitMs, [Out] IntPtr[] leases, UIntPtr max, out UIntPtr count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_complete_and_poll(QueueHandle queue, IntPtr[] leases, UIntPtr count, [Out] int[] results, byte[] hostId, int[] types, UIntPtr typesLen, long waitMs, [Out] IntPtr[] newLeases, UIntPtr max, out UIntPtr newCount);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_wait_for(QueueHandle queue, long id, long timeoutMs, out OperationHandle op);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_run_maintenance(QueueHandle queue, out long recovered, out long poisoned, out long promoted);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_check_integrity(QueueHandle queue);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_purge(QueueHandle queue, long now, out long deleted);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_hold_type(QueueHandle queue, int operationType);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_release_type(QueueHandle queue, int operationType);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_held_types(QueueHandle queue, [Out] int[] types, UIntPtr cap, out UIntPtr len);
        /// <summary>asyncop_event_fn: called on the thread that made a change; must not throw.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void EventCallback(IntPtr userData, int kind, long id, int operationType, int fromStatus, int toStatus, IntPtr host, long at, long count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_set_event_callback(QueueHandle queue, EventCallback callback, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_queue_metrics_prometheus(QueueHandle queue, byte[] labels, byte[] buf, UIntPtr cap, out UIntPtr len);

        // --- spec ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_new(byte[] name, int operationType, out SpecHandle spec);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_free(IntPtr spec);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_set_data(SpecHandle spec, byte[] data, UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_set_dependency_token(SpecHandle spec, byte[] token);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_set_postpone_until(SpecHandle spec, long postponeUntil);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_set_correlation_id(SpecHandle spec, byte[] correlationId);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_spec_set_recurrence(SpecHandle spec, byte[] pattern, long start);

        // --- worker: the C worker helper, declared for the ABI check only (the C# Worker is managed) ---
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_new(QueueHandle queue, byte[] hostId, int threads, out IntPtr worker);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_set_poll_wait_ms(IntPtr worker, long pollWaitMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_set_renew_every_ms(IntPtr worker, long renewEveryMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_set_prefetch(IntPtr worker, int prefetch);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_set_claim_unhandled(IntPtr worker, int claimUnhandled);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_register(IntPtr worker, int operationType, IntPtr handler, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_start(IntPtr worker);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_stop(IntPtr worker, long timeoutMs, out int stopped);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_stop_requested(IntPtr worker, out int requested);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_count(IntPtr worker, int which, out long value);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int asyncop_worker_free(IntPtr worker);
    }

    /// <summary>asyncop_lease_fields: what asyncop_lease_read writes. The pointers point into the buffer passed
    /// with it, which is pinned only during the call: read the bytes by the documented layout (offsets from the
    /// lengths), not through the pointers; a NULL pointer is an absent value.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct LeaseFields
    {
        internal long Id;
        internal long LockToken;
        internal long ExpiresAt;
        internal int OperationType;
        internal int Attempt;
        internal IntPtr Name;
        internal UIntPtr NameLen;
        internal IntPtr Data;
        internal UIntPtr DataLen;
        internal IntPtr HostId;
        internal UIntPtr HostIdLen;
        internal IntPtr DependencyToken;
        internal UIntPtr DependencyTokenLen;
        internal IntPtr CorrelationId;
        internal UIntPtr CorrelationIdLen;
    }
}
