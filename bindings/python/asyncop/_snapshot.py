"""Reading the library's records into Python values: an operation snapshot
(``asyncop_operation``) into an :class:`Operation`, an operation list, the
counts table; and an :class:`OperationSpec` (or dict) into C arguments.

Snapshots are read eagerly and their handle is freed at once, so an
``Operation`` is a plain frozen dataclass that owns nothing native.
"""

from __future__ import annotations

from collections.abc import Mapping
from ctypes import byref, c_int32, c_int64, c_size_t, c_void_p, create_string_buffer
from datetime import datetime
from typing import Any, Callable

from . import _convert as cv
from ._codes import TIME_NONE
from ._native import lib
from ._types import Attempt, AttemptEnding, Count, Operation, OperationSpec, State, Status

__all__ = [
    "read_operation",
    "take_operation",
    "take_operation_list",
    "take_counts",
    "take_attempts",
    "spec_args",
    "submit_specs",
]

SPEC_KEYS = frozenset(
    {
        "name",
        "operation_type",
        "payload",
        "dependency_token",
        "postpone_until",
        "correlation_id",
        "recurrence",
        "recurrence_start",
    }
)

#: The C arguments of one spec: name, operation_type, payload, dependency_token, postpone_until (ms),
#: correlation_id, recurrence pattern, recurrence_start (ms).
SpecArgs = tuple[bytes, int, bytes, bytes | None, int | None, bytes | None, bytes | None, int | None]


def read_operation(h: int) -> Operation:
    i64, i32, present = c_int64(), c_int32(), c_int32()

    def int64(fn: Any) -> int:
        fn(h, byref(i64))
        return i64.value

    def int32(fn: Any) -> int:
        fn(h, byref(i32))
        return i32.value

    def opt_time(fn: Any) -> datetime | None:
        fn(h, byref(i64), byref(present))
        return cv.to_datetime(i64.value) if present.value else None

    lib.asyncop_operation_error_code(h, byref(i32), byref(present))
    error_code = i32.value if present.value else None
    lib.asyncop_operation_execution_time_span(h, byref(i64), byref(present))
    span = cv.to_timedelta(i64.value) if present.value else None
    lib.asyncop_operation_progress(h, byref(i32), byref(present))
    progress = i32.value if present.value else None
    return Operation(
        id=int64(lib.asyncop_operation_id),
        name=cv.read_text(lib.asyncop_operation_name, h),
        operation_type=int32(lib.asyncop_operation_operation_type),
        state=State(int32(lib.asyncop_operation_state)),
        status=Status(int32(lib.asyncop_operation_status)),
        payload=cv.read_bytes(lib.asyncop_operation_data, h),
        dependency_token=cv.read_opt_text(lib.asyncop_operation_dependency_token, h),
        postpone_until=opt_time(lib.asyncop_operation_postpone_until),
        host_id=cv.read_opt_text(lib.asyncop_operation_host_id, h),
        lease_expires_at=opt_time(lib.asyncop_operation_lease_expires_at),
        lock_token=int64(lib.asyncop_operation_lock_token),
        retry_count=int32(lib.asyncop_operation_retry_count),
        error_code=error_code,
        message=cv.read_opt_text(lib.asyncop_operation_message, h),
        friendly_message=cv.read_opt_text(lib.asyncop_operation_friendly_message, h),
        created_on=cv.to_datetime(int64(lib.asyncop_operation_created_on)),
        modified_on=cv.to_datetime(int64(lib.asyncop_operation_modified_on)),
        started_on=opt_time(lib.asyncop_operation_started_on),
        completed_on=opt_time(lib.asyncop_operation_completed_on),
        execution_time_span=span,
        correlation_id=cv.read_opt_text(lib.asyncop_operation_correlation_id, h),
        progress=progress,
        progress_text=cv.read_opt_text(lib.asyncop_operation_progress_text, h),
        output=_read_output(h),
        recurrence_pattern=cv.read_opt_text(lib.asyncop_operation_recurrence_pattern, h),
        recurrence_start=opt_time(lib.asyncop_operation_recurrence_start),
    )


def _read_output(h: int) -> bytes | None:
    """The snapshot's output: size query (which also says whether it is set), then buffer."""
    n, present = c_size_t(), c_int32()
    if lib.asyncop_operation_output(h, None, 0, byref(n), byref(present)) == 0 or not present.value:
        return b"" if present.value else None
    buf = create_string_buffer(n.value)
    lib.asyncop_operation_output(h, buf, n.value, byref(n), byref(present))
    return buf.raw[: n.value]


def take_attempts(list_h: int | None, operation_id: int) -> list[Attempt]:
    """Reads every entry of an ``asyncop_attempt_list`` (of ``operation_id``) and frees the list."""
    try:
        n = c_size_t()
        lib.asyncop_attempt_list_count(list_h, byref(n))
        token, ending, started, started_present, ended = c_int64(), c_int32(), c_int64(), c_int32(), c_int64()
        code, code_present = c_int32(), c_int32()
        result = []
        for i in range(n.value):
            lib.asyncop_attempt_list_get(
                list_h, i, byref(token), byref(ending), byref(started), byref(started_present), byref(ended)
            )
            lib.asyncop_attempt_list_error_code(list_h, i, byref(code), byref(code_present))

            def text(fn: Any, i: int = i) -> str | None:
                return cv.read_opt_text(lambda h, *rest: fn(h, i, *rest), list_h)  # type: ignore[arg-type]

            result.append(
                Attempt(
                    operation_id=operation_id,
                    lock_token=token.value,
                    ending=AttemptEnding(ending.value),
                    started_on=cv.to_datetime(started.value) if started_present.value else None,
                    ended_on=cv.to_datetime(ended.value),
                    host_id=text(lib.asyncop_attempt_list_host_id),
                    error_code=code.value if code_present.value else None,
                    message=text(lib.asyncop_attempt_list_message),
                    detail=text(lib.asyncop_attempt_list_detail),
                )
            )
        return result
    finally:
        lib.asyncop_attempt_list_free(list_h)


def take_operation(h: int | None) -> Operation:
    """Reads a snapshot handle into an Operation and frees it."""
    try:
        return read_operation(h)  # type: ignore[arg-type]
    finally:
        lib.asyncop_operation_free(h)


def take_operation_list(list_h: int | None) -> list[Operation]:
    """Reads every snapshot of an ``asyncop_operation_list`` and frees the list."""
    try:
        n = c_size_t()
        lib.asyncop_operation_list_count(list_h, byref(n))
        result = []
        for i in range(n.value):
            op = c_void_p()
            lib.asyncop_operation_list_get(list_h, i, byref(op))
            result.append(take_operation(op.value))
        return result
    finally:
        lib.asyncop_operation_list_free(list_h)


def take_counts(counts_h: int | None) -> list[Count]:
    """Reads every row of an ``asyncop_counts`` table and frees it."""
    try:
        n = c_size_t()
        lib.asyncop_counts_count(counts_h, byref(n))
        st, su, ot, cnt, held = c_int32(), c_int32(), c_int32(), c_int64(), c_int32()
        rows = []
        for i in range(n.value):
            lib.asyncop_counts_get(counts_h, i, byref(st), byref(su), byref(ot), byref(cnt))
            lib.asyncop_counts_held(counts_h, i, byref(held))
            rows.append(Count(State(st.value), Status(su.value), ot.value, cnt.value, bool(held.value)))
        return rows
    finally:
        lib.asyncop_counts_free(counts_h)


def spec_args(item: Any, when: Callable[[Any, str], int]) -> SpecArgs:
    """An :class:`OperationSpec` or a dict with its keys → the C arguments of one
    spec (``when`` turns ``postpone_until`` into UTC ms on the queue clock)."""
    if isinstance(item, OperationSpec):
        fields: Mapping[str, Any] = {
            "name": item.name,
            "operation_type": item.operation_type,
            "payload": item.payload,
            "dependency_token": item.dependency_token,
            "postpone_until": item.postpone_until,
            "correlation_id": item.correlation_id,
            "recurrence": item.recurrence,
            "recurrence_start": item.recurrence_start,
        }
    elif isinstance(item, Mapping):
        unknown = set(item) - SPEC_KEYS
        if unknown:
            raise TypeError(f"unknown operation field(s): {', '.join(sorted(map(str, unknown)))}")
        for key in ("name", "operation_type"):
            if key not in item:
                raise TypeError(f"an operation needs {key!r}")
        fields = item
    else:
        raise TypeError(f"submit_many takes OperationSpec objects or dicts, not {type(item).__name__}")
    until = fields.get("postpone_until")
    start = fields.get("recurrence_start")
    return (
        cv.text(fields["name"], "name"),
        cv.i32(fields["operation_type"], "operation_type"),
        cv.data(fields.get("payload", b"")),
        cv.opt_text(fields.get("dependency_token"), "dependency_token"),
        None if until is None else when(until, "postpone_until"),
        cv.opt_text(fields.get("correlation_id"), "correlation_id"),
        cv.opt_text(fields.get("recurrence"), "recurrence"),
        None if start is None else when(start, "recurrence_start"),
    )


def submit_specs(queue_h: int, items: list[SpecArgs]) -> list[int]:
    """Builds one ``asyncop_spec`` per item, submits them all in one
    ``asyncop_queue_submit_many`` and frees them; returns the ids."""
    handles: list[int] = []
    try:
        for name_b, op_type, data, token, until, corr, pattern, start in items:
            spec = c_void_p()
            lib.asyncop_spec_new(name_b, op_type, byref(spec))
            assert spec.value is not None
            handles.append(spec.value)
            if data:
                lib.asyncop_spec_set_data(spec, data, len(data))
            if token is not None:
                lib.asyncop_spec_set_dependency_token(spec, token)
            if until is not None:
                lib.asyncop_spec_set_postpone_until(spec, until)
            if corr is not None:
                lib.asyncop_spec_set_correlation_id(spec, corr)
            if pattern is not None or start is not None:
                lib.asyncop_spec_set_recurrence(spec, pattern, TIME_NONE if start is None else start)
        array = (c_void_p * len(handles))(*handles)
        ids = (c_int64 * len(handles))()
        lib.asyncop_queue_submit_many(queue_h, array, len(handles), ids)
        return list(ids)
    finally:
        for spec_h in handles:
            lib.asyncop_spec_free(spec_h)
