"""Opening a queue: :class:`Queue`'s keyword options converted and written into an
``asyncop_options`` handle, then ``asyncop_queue_open``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ctypes import byref, c_int32, c_void_p
from typing import Any

from . import _convert as cv
from ._codes import ErrorCode
from ._errors import InvalidArgumentError
from ._native import lib
from ._types import Durability, Status

__all__ = ["open_queue"]


def _durability(value: Any) -> int:
    if isinstance(value, Durability):
        return int(value)
    if isinstance(value, str):
        try:
            return int(Durability[value.upper()])
        except KeyError:
            raise InvalidArgumentError(
                f"durability must be 'full' or 'normal', not {value!r}", ErrorCode.OUT_OF_RANGE
            ) from None
    return cv.i32(value, "durability")


#: A retention that keeps Completed rows of its status forever (``"none"``,
#: the header's ``ASYNCOP_RETENTION_NONE``).
RETENTION_NONE = "none"
_RETENTION_NONE_MS = -1

_RETENTION_STATUSES = {Status.SUCCEEDED, Status.FAILED, Status.CANCELED}


def _types(value: Any, what: str) -> list[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} must be an iterable of int, not {type(value).__name__}")
    return [cv.i32(t, what) for t in value]


def _retentions(value: Any) -> list[tuple[int, int]]:
    """``{status: duration or "none"}`` → (status code, ms or -1) pairs."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise TypeError(f"retention must be a mapping of status to duration or 'none', not {type(value).__name__}")
    out = []
    for status, keep in value.items():
        code = cv.enum_code(status, Status, "retention status")
        if code not in _RETENTION_STATUSES:
            raise InvalidArgumentError(
                f"retention is per final status (SUCCEEDED, FAILED, CANCELED), not status {code}",
                ErrorCode.OUT_OF_RANGE,
            )
        if isinstance(keep, str) and keep.lower() == RETENTION_NONE:
            out.append((code, _RETENTION_NONE_MS))
        else:
            out.append((code, cv.duration_ms(keep, "retention")))
    return out


def open_queue(
    fspath: Any,
    *,
    durability: Any,
    lease: Any,
    busy_timeout: Any,
    restricted_types: Any,
    max_attempts: Any,
    backoff: Any,
    allow_delete_any: Any,
    max_payload_bytes: Any,
    file_mode: Any,
    cleanup_enabled: Any = None,
    retention: Any = None,
    auto_delete_types: Any = None,
    recurrence_updatable_types: Any = None,
) -> tuple[int, int | None, int]:
    """Opens the file with these options (documented on :class:`Queue`) and
    returns (queue handle, lease ms or None, durability code)."""
    # Convert every argument before the first C call, so bad input raises cleanly.
    path_b = cv.text(fspath, "path")
    dur = _durability(durability)
    lease_ms = None if lease is None else cv.duration_ms(lease, "lease")
    busy_ms = None if busy_timeout is None else cv.duration_ms(busy_timeout, "busy_timeout")
    if restricted_types is not None:
        if isinstance(restricted_types, (str, bytes)) or not isinstance(restricted_types, Iterable):
            raise TypeError(f"restricted_types must be an iterable of int, not {type(restricted_types).__name__}")
        types = [cv.i32(t, "restricted type") for t in restricted_types]
    if recurrence_updatable_types is not None:
        updatable = recurrence_updatable_types
        if isinstance(updatable, (str, bytes)) or not isinstance(updatable, Iterable):
            raise TypeError(f"recurrence_updatable_types must be an iterable of int, not {type(updatable).__name__}")
        updatable_types = [cv.i32(t, "recurrence updatable type") for t in updatable]
    attempts = None if max_attempts is None else cv.i32(max_attempts, "max_attempts")
    if backoff is not None:
        if not isinstance(backoff, tuple) or len(backoff) != 2:
            raise TypeError("backoff must be a (base, cap) tuple of seconds or timedeltas")
        base_ms, cap_ms = cv.duration_ms(backoff[0], "backoff base"), cv.duration_ms(backoff[1], "backoff cap")
    delete_any = None if allow_delete_any is None else cv.flag(allow_delete_any, "allow_delete_any")
    # Types here; the ranges are the library's (INVALID_ARG from its setters).
    payload_max = None if max_payload_bytes is None else cv.integer(max_payload_bytes, "max_payload_bytes", 0, 2**64 - 1)
    mode = None if file_mode is None else cv.integer(file_mode, "file_mode", 0, 2**32 - 1)
    cleanup = None if cleanup_enabled is None else cv.flag(cleanup_enabled, "cleanup_enabled")
    retentions = _retentions(retention)
    auto_types = None if auto_delete_types is None else _types(auto_delete_types, "auto_delete_types")

    options = c_void_p()
    lib.asyncop_options_new(byref(options))
    try:
        lib.asyncop_options_set_durability(options, dur)
        if lease_ms is not None:
            lib.asyncop_options_set_lease_ms(options, lease_ms)
        if busy_ms is not None:
            lib.asyncop_options_set_busy_timeout_ms(options, busy_ms)
        if restricted_types is not None:
            array = (c_int32 * len(types))(*types) if types else None
            lib.asyncop_options_set_restricted_types(options, array, len(types))
        if recurrence_updatable_types is not None:
            array = (c_int32 * len(updatable_types))(*updatable_types) if updatable_types else None
            lib.asyncop_options_set_recurrence_updatable_types(options, array, len(updatable_types))
        if attempts is not None:
            lib.asyncop_options_set_max_attempts(options, attempts)
        if backoff is not None:
            lib.asyncop_options_set_backoff_ms(options, base_ms, cap_ms)
        if delete_any is not None:
            lib.asyncop_options_set_allow_delete_any(options, delete_any)
        if payload_max is not None:
            lib.asyncop_options_set_max_payload_bytes(options, payload_max)
        if mode is not None:
            lib.asyncop_options_set_file_mode(options, mode)
        if cleanup is not None:
            lib.asyncop_options_set_cleanup_enabled(options, cleanup)
        for status, ms in retentions:
            lib.asyncop_options_set_retention_ms(options, status, ms)
        if auto_types is not None:
            array = (c_int32 * len(auto_types))(*auto_types) if auto_types else None
            lib.asyncop_options_set_auto_delete_types(options, array, len(auto_types))
        handle = c_void_p()
        lib.asyncop_queue_open(path_b, options, byref(handle))
    finally:
        lib.asyncop_options_free(options)
    assert handle.value is not None
    return handle.value, lease_ms, dur
