"""Opening a queue: :class:`Queue`'s keyword options converted and written into an
``asyncop_options`` handle, then ``asyncop_queue_open``."""

from __future__ import annotations

from collections.abc import Iterable
from ctypes import byref, c_int32, c_void_p
from typing import Any

from . import _convert as cv
from ._codes import ErrorCode
from ._errors import InvalidArgumentError
from ._native import lib
from ._types import Durability

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
        handle = c_void_p()
        lib.asyncop_queue_open(path_b, options, byref(handle))
    finally:
        lib.asyncop_options_free(options)
    assert handle.value is not None
    return handle.value, lease_ms, dur
