"""ctypes binding of the C ABI in ``include/asyncop.h``: loading, prototypes, status checks.

Nothing here is public API. The library is loaded once, at import, from

1. the path in ``$ASYNCOP_LIBRARY``, else
2. ``libasyncop.so`` beside this module (where ``pip install`` puts it), else
3. ``ctypes.util.find_library("asyncop")`` (a system-wide install),

and its ``asyncop_abi_version()`` must equal :data:`ABI_VERSION`, else the
import fails with an ImportError naming the path and both numbers (a stale
library on the loader path is the classic "inexplicable" wrapper bug).

Every header function gets ``restype`` and ``argtypes`` from the one table
:data:`_PROTOS` (``tests/test_abi.py`` checks it against the header). Handles
are ``c_void_p`` both ways. Functions returning ``asyncop_status`` get
``errcheck``: a non-OK status reads the thread's last error message at once,
then raises the matching :class:`~asyncop.AsyncopError`. The ``_close``/``_free``
functions have no errcheck and never raise, because finalizers call them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import CFUNCTYPE, POINTER, c_char_p, c_int32, c_int64, c_size_t, c_uint32, c_uint64, c_void_p
from typing import Any, NoReturn

from ._codes import (
    ANY,
    FILE_MODE_ALLOWED,
    FILE_MODE_DEFAULT,
    PAYLOAD_CEILING,
    PAYLOAD_DEFAULT_MAX,
    POLL_MAX,
    STATUS_NONE,
    TIME_NONE,
    ErrorCode,
)
from ._errors import make_error

__all__ = [
    "lib",
    "library_path",
    "ABI_VERSION",
    "TIME_NONE",
    "ANY",
    "STATUS_NONE",
    "POLL_MAX",
    "PAYLOAD_DEFAULT_MAX",
    "PAYLOAD_CEILING",
    "FILE_MODE_DEFAULT",
    "FILE_MODE_ALLOWED",
]

#: The ABI this package was written against (``ASYNCOP_ABI_VERSION``).
ABI_VERSION = 2
# The header's sentinels and limits (TIME_NONE, ANY, STATUS_NONE, POLL_MAX, PAYLOAD_*,
# FILE_MODE_*) are generated from include/asyncop.h into _codes.py by scripts/gen-bindings
# and re-exported here; the library enforces them whatever this module says.

_LIBRARY_FILE = {"darwin": "libasyncop.dylib", "win32": "asyncop.dll"}.get(sys.platform, "libasyncop.so")

_P_HANDLE = POINTER(c_void_p)  # asyncop_x **out (and arrays of handles: const asyncop_spec *const *specs)
_P_I32 = POINTER(c_int32)
_P_I64 = POINTER(c_int64)
_P_SIZE = POINTER(c_size_t)
_STATUS = c_int32  # asyncop_status: typedef int32_t in C
_H = c_void_p  # every handle, const or not
_TEXT_OUT = [_H, c_char_p, c_size_t, _P_SIZE]  # (handle, char *buf, cap, *out_len)
_TEXT_OUT_OPT = [_H, c_char_p, c_size_t, _P_SIZE, _P_I32]  # ... plus *out_present
_BYTES_OUT = [_H, c_void_p, c_size_t, _P_SIZE]  # (handle, uint8_t *buf, cap, *out_len)
_I64_OUT_OPT = [_H, _P_I64, _P_I32]
_I32_OUT_OPT = [_H, _P_I32, _P_I32]
_INDEXED_TEXT_OUT_OPT = [_H, c_size_t, c_char_p, c_size_t, _P_SIZE, _P_I32]  # (list, index, buf, cap, ...)


class LeaseFields(ctypes.Structure):
    """``asyncop_lease_fields``: what ``asyncop_lease_read`` writes (texts point into the caller's buffer)."""

    _fields_ = [
        ("id", c_int64),
        ("lock_token", c_int64),
        ("expires_at", c_int64),
        ("operation_type", c_int32),
        ("attempt", c_int32),
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("data", c_void_p),
        ("data_len", c_size_t),
        ("host_id", c_void_p),
        ("host_id_len", c_size_t),
        ("dependency_token", c_void_p),
        ("dependency_token_len", c_size_t),
        ("correlation_id", c_void_p),
        ("correlation_id_len", c_size_t),
    ]


#: asyncop_event_fn: (user_data, kind, id, operation_type, from_status, to_status, host, at, count).
EVENT_FN = CFUNCTYPE(None, c_void_p, c_int32, c_int64, c_int32, c_int32, c_int32, c_char_p, c_int64, c_int64)

# name: (restype, argtypes), in header order. The surface check reads this table.
_PROTOS: dict[str, tuple[Any, list[Any]]] = {
    "asyncop_version": (c_char_p, []),  # static string: a c_char_p restype is safe here
    "asyncop_abi_version": (c_uint32, []),
    "asyncop_status_name": (c_char_p, [c_int32]),  # static string
    "asyncop_status_hresult": (c_int32, [c_int32]),
    "asyncop_last_error_message": (c_size_t, [c_char_p, c_size_t]),
    # lease
    "asyncop_lease_free": (_STATUS, [_H]),
    "asyncop_lease_id": (_STATUS, [_H, _P_I64]),
    "asyncop_lease_lock_token": (_STATUS, [_H, _P_I64]),
    "asyncop_lease_operation_type": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_attempt": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_expires_at": (_STATUS, [_H, _P_I64]),
    "asyncop_lease_name": (_STATUS, _TEXT_OUT),
    "asyncop_lease_host_id": (_STATUS, _TEXT_OUT),
    "asyncop_lease_data": (_STATUS, _BYTES_OUT),
    "asyncop_lease_dependency_token": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_lease_correlation_id": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_lease_renew": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_read": (_STATUS, [_H, c_void_p, c_size_t, POINTER(LeaseFields), _P_SIZE]),
    "asyncop_lease_stop_requested": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_wait_stop": (_STATUS, [_H, c_int64, _P_I32]),
    "asyncop_lease_complete": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_complete_many": (_STATUS, [_P_HANDLE, c_size_t, _P_I32]),  # out_results: asyncop_status[]
    "asyncop_lease_fail": (_STATUS, [_H, c_int32, c_char_p, _P_I32]),
    "asyncop_lease_retry": (_STATUS, [_H, c_int32, c_char_p, c_int64, _P_I32]),
    "asyncop_lease_suspend": (_STATUS, [_H, c_int32, c_char_p, _P_I32]),
    "asyncop_lease_acknowledge_pause": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_acknowledge_cancel": (_STATUS, [_H, _P_I32]),
    "asyncop_lease_report": (_STATUS, [_H, c_int32, c_int32, c_char_p, c_char_p, c_int64, _P_I32]),
    "asyncop_lease_progress": (_STATUS, [_H, c_int32, c_char_p, c_int32, _P_I32]),
    "asyncop_lease_complete_output": (_STATUS, [_H, c_void_p, c_size_t, _P_I32]),
    "asyncop_lease_report_detail": (
        _STATUS,
        [_H, c_int32, c_int32, c_char_p, c_char_p, c_int64, c_char_p, _P_I32],
    ),
    # operation snapshot
    "asyncop_operation_free": (_STATUS, [_H]),
    "asyncop_operation_id": (_STATUS, [_H, _P_I64]),
    "asyncop_operation_operation_type": (_STATUS, [_H, _P_I32]),
    "asyncop_operation_state": (_STATUS, [_H, _P_I32]),
    "asyncop_operation_status": (_STATUS, [_H, _P_I32]),
    "asyncop_operation_lock_token": (_STATUS, [_H, _P_I64]),
    "asyncop_operation_retry_count": (_STATUS, [_H, _P_I32]),
    "asyncop_operation_created_on": (_STATUS, [_H, _P_I64]),
    "asyncop_operation_modified_on": (_STATUS, [_H, _P_I64]),
    "asyncop_operation_postpone_until": (_STATUS, _I64_OUT_OPT),
    "asyncop_operation_lease_expires_at": (_STATUS, _I64_OUT_OPT),
    "asyncop_operation_error_code": (_STATUS, _I32_OUT_OPT),
    "asyncop_operation_started_on": (_STATUS, _I64_OUT_OPT),
    "asyncop_operation_completed_on": (_STATUS, _I64_OUT_OPT),
    "asyncop_operation_execution_time_span": (_STATUS, _I64_OUT_OPT),
    "asyncop_operation_name": (_STATUS, _TEXT_OUT),
    "asyncop_operation_data": (_STATUS, _BYTES_OUT),
    "asyncop_operation_dependency_token": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_host_id": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_message": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_friendly_message": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_correlation_id": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_progress": (_STATUS, _I32_OUT_OPT),
    "asyncop_operation_progress_text": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_output": (_STATUS, [_H, c_void_p, c_size_t, _P_SIZE, _P_I32]),
    # attempt history
    "asyncop_queue_attempts": (_STATUS, [_H, c_int64, _P_HANDLE]),
    "asyncop_attempt_list_count": (_STATUS, [_H, _P_SIZE]),
    "asyncop_attempt_list_get": (_STATUS, [_H, c_size_t, _P_I64, _P_I32, _P_I64, _P_I32, _P_I64]),
    "asyncop_attempt_list_error_code": (_STATUS, [_H, c_size_t, _P_I32, _P_I32]),
    "asyncop_attempt_list_host_id": (_STATUS, _INDEXED_TEXT_OUT_OPT),
    "asyncop_attempt_list_message": (_STATUS, _INDEXED_TEXT_OUT_OPT),
    "asyncop_attempt_list_detail": (_STATUS, _INDEXED_TEXT_OUT_OPT),
    "asyncop_attempt_list_free": (_STATUS, [_H]),
    "asyncop_operation_recurrence_pattern": (_STATUS, _TEXT_OUT_OPT),
    "asyncop_operation_recurrence_start": (_STATUS, _I64_OUT_OPT),
    # operation list
    "asyncop_operation_list_count": (_STATUS, [_H, _P_SIZE]),
    "asyncop_operation_list_get": (_STATUS, [_H, c_size_t, _P_HANDLE]),
    "asyncop_operation_list_free": (_STATUS, [_H]),
    # counts
    "asyncop_counts_count": (_STATUS, [_H, _P_SIZE]),
    "asyncop_counts_get": (_STATUS, [_H, c_size_t, _P_I32, _P_I32, _P_I32, _P_I64]),
    "asyncop_counts_held": (_STATUS, [_H, c_size_t, _P_I32]),
    "asyncop_counts_free": (_STATUS, [_H]),
    # options
    "asyncop_options_new": (_STATUS, [_P_HANDLE]),
    "asyncop_options_free": (_STATUS, [_H]),
    "asyncop_options_set_durability": (_STATUS, [_H, c_int32]),
    "asyncop_options_set_busy_timeout_ms": (_STATUS, [_H, c_int64]),
    "asyncop_options_set_lease_ms": (_STATUS, [_H, c_int64]),
    "asyncop_options_set_restricted_types": (_STATUS, [_H, _P_I32, c_size_t]),
    "asyncop_options_set_recurrence_updatable_types": (_STATUS, [_H, _P_I32, c_size_t]),
    "asyncop_options_set_max_attempts": (_STATUS, [_H, c_int32]),
    "asyncop_options_set_backoff_ms": (_STATUS, [_H, c_int64, c_int64]),
    "asyncop_options_set_allow_delete_any": (_STATUS, [_H, c_int32]),
    "asyncop_options_set_max_payload_bytes": (_STATUS, [_H, c_uint64]),
    "asyncop_options_set_file_mode": (_STATUS, [_H, c_uint32]),
    "asyncop_options_set_cleanup_enabled": (_STATUS, [_H, c_int32]),
    "asyncop_options_set_retention_ms": (_STATUS, [_H, c_int32, c_int64]),
    "asyncop_options_set_auto_delete_types": (_STATUS, [_H, _P_I32, c_size_t]),
    # queue
    "asyncop_queue_open": (_STATUS, [c_char_p, _H, _P_HANDLE]),
    "asyncop_queue_close": (_STATUS, [_H]),
    "asyncop_queue_now": (_STATUS, [_H, _P_I64]),
    "asyncop_queue_submit": (
        _STATUS,
        [_H, c_char_p, c_int32, c_void_p, c_size_t, c_char_p, c_int64, c_char_p, _P_I64],
    ),
    "asyncop_queue_submit_many": (_STATUS, [_H, _P_HANDLE, c_size_t, _P_I64]),
    "asyncop_queue_retrieve": (_STATUS, [_H, c_int64, _P_HANDLE]),
    "asyncop_queue_query": (
        _STATUS,
        [
            _H,
            c_int32,
            c_int32,
            c_int32,
            c_char_p,
            c_char_p,
            c_char_p,
            c_char_p,
            c_int64,
            c_int64,
            c_int64,
            c_int64,
            _P_HANDLE,
        ],
    ),
    "asyncop_queue_counts": (_STATUS, [_H, _P_HANDLE]),
    "asyncop_queue_cancel": (_STATUS, [_H, c_int64]),
    "asyncop_queue_pause": (_STATUS, [_H, c_int64]),
    "asyncop_queue_resume": (_STATUS, [_H, c_int64]),
    "asyncop_queue_postpone": (_STATUS, [_H, c_int64, c_int64]),
    "asyncop_queue_set_postpone_until": (_STATUS, [_H, c_int64, c_int64]),
    "asyncop_queue_delete": (_STATUS, [_H, c_int64]),
    "asyncop_queue_set_state": (_STATUS, [_H, c_int64, c_int32, c_int32]),
    "asyncop_queue_set_recurrence": (_STATUS, [_H, c_int64, c_char_p]),
    "asyncop_queue_poll": (_STATUS, [_H, c_char_p, _P_I32, c_size_t, c_int64, _P_HANDLE, c_size_t, _P_SIZE]),
    # leases, count, out_results (asyncop_status[]), then asyncop_queue_poll's arguments
    "asyncop_queue_complete_and_poll": (
        _STATUS,
        [_H, _P_HANDLE, c_size_t, _P_I32, c_char_p, _P_I32, c_size_t, c_int64, _P_HANDLE, c_size_t, _P_SIZE],
    ),
    "asyncop_queue_wait_for": (_STATUS, [_H, c_int64, c_int64, _P_HANDLE]),
    "asyncop_queue_run_maintenance": (_STATUS, [_H, _P_I64, _P_I64, _P_I64]),
    "asyncop_queue_check_integrity": (_STATUS, [_H]),
    "asyncop_queue_purge": (_STATUS, [_H, c_int64, _P_I64]),
    "asyncop_queue_hold_type": (_STATUS, [_H, c_int32]),
    "asyncop_queue_release_type": (_STATUS, [_H, c_int32]),
    "asyncop_queue_held_types": (_STATUS, [_H, _P_I32, c_size_t, _P_SIZE]),
    "asyncop_queue_set_event_callback": (_STATUS, [_H, EVENT_FN, c_void_p]),
    "asyncop_queue_metrics_prometheus": (_STATUS, [_H, c_char_p, c_char_p, c_size_t, _P_SIZE]),
    # spec
    "asyncop_spec_new": (_STATUS, [c_char_p, c_int32, _P_HANDLE]),
    "asyncop_spec_free": (_STATUS, [_H]),
    "asyncop_spec_set_data": (_STATUS, [_H, c_void_p, c_size_t]),
    "asyncop_spec_set_dependency_token": (_STATUS, [_H, c_char_p]),
    "asyncop_spec_set_postpone_until": (_STATUS, [_H, c_int64]),
    "asyncop_spec_set_correlation_id": (_STATUS, [_H, c_char_p]),
    "asyncop_spec_set_recurrence": (_STATUS, [_H, c_char_p, c_int64]),
    # worker: the C worker helper (handler is a C function pointer), bound for the ABI check only
    "asyncop_worker_new": (_STATUS, [_H, c_char_p, c_int32, _P_HANDLE]),
    "asyncop_worker_set_poll_wait_ms": (_STATUS, [_H, c_int64]),
    "asyncop_worker_set_renew_every_ms": (_STATUS, [_H, c_int64]),
    "asyncop_worker_set_prefetch": (_STATUS, [_H, c_int32]),
    "asyncop_worker_set_claim_unhandled": (_STATUS, [_H, c_int32]),
    "asyncop_worker_register": (_STATUS, [_H, c_int32, c_void_p, c_void_p]),
    "asyncop_worker_start": (_STATUS, [_H]),
    "asyncop_worker_stop": (_STATUS, [_H, c_int64, _P_I32]),
    "asyncop_worker_stop_requested": (_STATUS, [_H, _P_I32]),
    "asyncop_worker_count": (_STATUS, [_H, c_int32, _P_I64]),
    "asyncop_worker_free": (_STATUS, [_H]),
}

# Header functions that the Python API deliberately does not call (they stay bound
# above, so the surface check still covers their prototypes); one reason each.
_UNWRAPPED: dict[str, str] = {
    # Lease.host_id is the host_id the caller gave Queue.poll(); the library stores it
    # as given, so reading it back would only cost two more C calls per lease.
    "asyncop_lease_host_id": "Lease.host_id is the poll() argument",
    **{
        f"asyncop_worker_{verb}": "the C worker helper; Python has its own asyncop.Worker"
        for verb in (
            "new", "set_poll_wait_ms", "set_renew_every_ms", "set_prefetch", "set_claim_unhandled",
            "register", "start", "stop", "stop_requested", "count", "free",
        )
    },
}

# Functions without errcheck: they return no asyncop_status (version, names, the
# message reader), or they release a handle and must never raise (finalizers).
_UNCHECKED = frozenset(
    {
        "asyncop_version",
        "asyncop_abi_version",
        "asyncop_status_name",
        "asyncop_status_hresult",
        "asyncop_last_error_message",
        "asyncop_lease_free",
        "asyncop_operation_free",
        "asyncop_operation_list_free",
        "asyncop_attempt_list_free",
        "asyncop_counts_free",
        "asyncop_options_free",
        "asyncop_queue_close",
        "asyncop_spec_free",
        "asyncop_worker_free",
    }
)

# Functions filling a caller buffer: BUFFER_TOO_SMALL is their size-query answer, not an error.
_SIZED = frozenset(
    name
    for name, (_, args) in _PROTOS.items()
    if args[:4] in (_TEXT_OUT, _BYTES_OUT)
    or args == _INDEXED_TEXT_OUT_OPT
    or name == "asyncop_queue_held_types"  # an int32_t array, sized the same way
    or name == "asyncop_queue_metrics_prometheus"  # text, after a labels argument
    or name == "asyncop_lease_read"  # a lease's texts and payload, with its fields
)


def last_error_message() -> str:
    """The calling thread's last error message (size query, then buffer)."""
    n = lib.asyncop_last_error_message(None, 0)
    if n == 0:
        return ""
    buf = ctypes.create_string_buffer(n + 1)
    lib.asyncop_last_error_message(buf, n + 1)
    return buf.value.decode("utf-8", "replace")


def _check(result: int, func: Any, args: Any) -> int:
    """errcheck of status functions: OK passes, anything else raises."""
    if result == 0:
        return result
    raise make_error(result, last_error_message() or f"{func.__name__} failed", lib.asyncop_status_hresult(result))


def _check_sized(result: int, func: Any, args: Any) -> int:
    """errcheck of buffer-filling functions: OK and BUFFER_TOO_SMALL pass (the caller looks)."""
    if result == 0 or result == ErrorCode.BUFFER_TOO_SMALL:
        return result
    raise make_error(result, last_error_message() or f"{func.__name__} failed", lib.asyncop_status_hresult(result))


def _candidates() -> list[tuple[str, str]]:
    """(path, how it was found) in the order the loader tries them."""
    env = os.environ.get("ASYNCOP_LIBRARY")
    if env:
        return [(env, "$ASYNCOP_LIBRARY")]
    out = []
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), _LIBRARY_FILE)
    if os.path.exists(beside):
        out.append((beside, "the package directory"))
    found = ctypes.util.find_library("asyncop")
    if found:
        out.append((found, "ctypes.util.find_library"))
    return out


def _load() -> tuple[ctypes.CDLL, str]:
    candidates = _candidates()
    if not candidates:
        raise ImportError(
            f"asyncop: no native library: $ASYNCOP_LIBRARY is not set, there is no {_LIBRARY_FILE} in "
            f"{os.path.dirname(os.path.abspath(__file__))}, and ctypes.util.find_library('asyncop') found nothing. "
            "Install the package with pip (it builds the library with cargo), or set ASYNCOP_LIBRARY."
        )
    path, how = candidates[0]
    try:
        dll = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"asyncop: cannot load the native library {path} (from {how}): {e}") from e
    try:
        abi = dll.asyncop_abi_version
    except AttributeError as e:
        raise ImportError(f"asyncop: {path} (from {how}) is not an asyncop library: {e}") from e
    abi.restype, abi.argtypes = c_uint32, []
    found = abi()
    if found != ABI_VERSION:
        raise ImportError(
            f"asyncop: the native library {path} (from {how}) has ABI version {found}, "
            f"but this package needs ABI version {ABI_VERSION}"
        )
    missing = [name for name in _PROTOS if not hasattr(dll, name)]
    if missing:
        raise ImportError(f"asyncop: the native library {path} lacks {', '.join(missing)}")
    for name, (restype, argtypes) in _PROTOS.items():
        fn = getattr(dll, name)
        fn.restype = restype
        fn.argtypes = argtypes
        if name not in _UNCHECKED:
            fn.errcheck = _check_sized if name in _SIZED else _check
    return dll, path


lib: ctypes.CDLL
library_path: str  # where the library was loaded from (declared: part of the public API)
lib, library_path = _load()


# -- the per-call hot path -----------------------------------------------------------
# ctypes spends about as long on a prototype's argtypes conversion and errcheck as on
# the C call itself (measured: 1.7 µs with both, 0.6 µs without). The few calls made
# once per submit, poll, lease and completion use these second entry points instead:
# no argtypes (callers pass ctypes objects for every handle, int64 and size_t), the
# status checked inline, and the same error raised as the errcheck would.


def hot(name: str) -> Any:
    """A second entry point to ``name`` (from :data:`_PROTOS`) without argtypes or
    errcheck; it returns the raw ``asyncop_status``. Callers wrap every argument that
    is not an ``int32_t``, ``const char *`` or NULL in its ctypes type."""
    fn = lib._FuncPtr((name, lib))
    fn.restype = _STATUS
    return fn


def raise_status(status: int, name: str) -> NoReturn:
    """Raises what the errcheck of ``name`` raises for a non-OK ``status``."""
    raise make_error(status, last_error_message() or f"{name} failed", lib.asyncop_status_hresult(status))
