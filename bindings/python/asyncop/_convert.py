"""Argument conversion between Python values and the C ABI's scalars.

The rules, applied the same way by every public call:

* A value of the wrong Python type (``None`` where text is required, a ``str``
  for an id, ``bytes`` for a name, a ``bool`` for a number...) raises
  :class:`TypeError`.
* A value of the right type that the library would refuse (text containing
  NUL, text that is not encodable as UTF-8 such as a lone surrogate, an integer
  outside the C type's range, a naive ``datetime``, a negative duration) raises
  :class:`~asyncop.InvalidArgumentError`, which is a :class:`ValueError`.
  Range checks the C library does itself (an id <= 0, a time not in the
  future...) come back from it as InvalidArgumentError too.
"""

from __future__ import annotations

import ctypes
import math
import operator
import os
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import Any, Callable, Union

from ._errors import ErrorCode, InvalidArgumentError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)
I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1

#: Seconds as a number, or a timedelta.
Duration = Union[float, int, timedelta]
#: An absolute time (timezone-aware datetime) or a delay from now (timedelta).
When = Union[datetime, timedelta]


def text(value: Any, what: str) -> bytes:
    """``str`` → NUL-terminated UTF-8 bytes for a ``const char *``."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidArgumentError(f"{what} contains a NUL character", ErrorCode.INVALID_ARG)
    try:
        return value.encode("utf-8")  # strict: lone surrogates are refused
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(f"{what} is not valid UTF-8 text: {e.reason}", ErrorCode.UTF8) from None


def opt_text(value: Any, what: str) -> bytes | None:
    """Like :func:`text`, with ``None`` passed through as NULL."""
    return None if value is None else text(value, what)


def data(value: Any, what: str = "payload") -> bytes:
    """A bytes-like payload → bytes (``str`` must be encoded by the caller)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, bytearray or memoryview, not {type(value).__name__}")


def integer(value: Any, what: str, lo: int = I64_MIN, hi: int = I64_MAX) -> int:
    """An ``int`` (not ``bool``) within [lo, hi]."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{what} must be int, not {type(value).__name__}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be int, not {type(value).__name__}") from None
    if not lo <= n <= hi:
        raise InvalidArgumentError(f"{what} {n} is out of range [{lo}, {hi}]", ErrorCode.OUT_OF_RANGE)
    return n


def i32(value: Any, what: str) -> int:
    """An int32_t argument."""
    return integer(value, what, I32_MIN, I32_MAX)


def i64(value: Any, what: str) -> int:
    """An int64_t argument."""
    return integer(value, what, I64_MIN, I64_MAX)


def flag(value: Any, what: str) -> int:
    """A ``bool`` → 0/1."""
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be bool, not {type(value).__name__}")
    return int(value)


def handler_map(value: Any, kind: str) -> dict[int, Any]:
    """A worker's ``{operation_type: handler}``, checked: i32 types, callable
    handlers (``kind`` names them in the TypeError)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"handlers must be a mapping of operation type to {kind}, not {type(value).__name__}")
    handlers: dict[int, Any] = {}
    for op_type, handler in value.items():
        if not callable(handler):
            raise TypeError(f"the handler for type {op_type!r} is not callable")
        handlers[i32(op_type, "operation type")] = handler
    return handlers


def host_id(value: Any) -> str:
    """A worker's host id: ``hostname:pid`` when None, else checked as text."""
    if value is None:
        return f"{socket.gethostname()}:{os.getpid()}"
    text(value, "host_id")
    return str(value)


def duration_ms(value: Any, what: str) -> int:
    """Seconds (int/float) or a timedelta → whole milliseconds, rounded up (so a
    positive duration never becomes 0: 0.4 ms → 1, 1.0 ms → 1, 1.2 ms → 2). A
    negative duration is refused here, before any C call (no C function takes
    one). The C# wrapper's ``Interop.DurationMs`` applies the same rule."""
    if isinstance(value, timedelta):
        ms = value / _MS
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ms = float(value) * 1000.0
    else:
        raise TypeError(f"{what} must be seconds (int or float) or a timedelta, not {type(value).__name__}")
    if math.isnan(ms) or math.isinf(ms):
        raise InvalidArgumentError(f"{what} must be finite", ErrorCode.INVALID_ARG)
    if ms < 0:
        raise InvalidArgumentError(f"{what} must not be negative, got {value!r}", ErrorCode.INVALID_ARG)
    n = math.ceil(ms)
    if not I64_MIN < n <= I64_MAX:
        raise InvalidArgumentError(f"{what} is out of range", ErrorCode.OUT_OF_RANGE)
    return n


def enum_code(value: Any, enum: type[IntEnum], what: str) -> int:
    """A state/status/outcome code: an enum member or an int (the library checks the range)."""
    if isinstance(value, enum):
        return value.value
    return i32(value, what)


def datetime_ms(value: Any, what: str) -> int:
    """A timezone-aware datetime → UTC milliseconds since the Unix epoch (floored)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(
            f"{what} is a naive datetime: give it a time zone (e.g. datetime.now(timezone.utc))",
            ErrorCode.INVALID_ARG,
        )
    return (value - EPOCH) // _MS


def when_ms(value: Any, what: str, now_ms: Callable[[], int]) -> int:
    """A datetime (absolute) or a timedelta (from the queue clock's now) → UTC ms."""
    if isinstance(value, timedelta):
        n = now_ms() + value // _MS
        if not I64_MIN < n <= I64_MAX:
            raise InvalidArgumentError(f"{what} is out of range", ErrorCode.OUT_OF_RANGE)
        return n
    if isinstance(value, datetime):
        return datetime_ms(value, what)
    raise TypeError(f"{what} must be a timezone-aware datetime or a timedelta, not {type(value).__name__}")


_MAX_MS = (datetime.max.replace(tzinfo=timezone.utc) - EPOCH) // _MS
_MIN_MS = (datetime.min.replace(tzinfo=timezone.utc) - EPOCH) // _MS


def to_datetime(ms: int) -> datetime:
    """UTC milliseconds → timezone-aware UTC datetime (exact). Times beyond
    ``datetime``'s years 1..9999 (a huge lease or back-off can produce them)
    are clamped to ``datetime.max``/``datetime.min`` in UTC."""
    if ms > _MAX_MS:
        return datetime.max.replace(tzinfo=timezone.utc)
    if ms < _MIN_MS:
        return datetime.min.replace(tzinfo=timezone.utc)
    return EPOCH + timedelta(milliseconds=ms)


def to_timedelta(ms: int) -> timedelta:
    """Milliseconds → timedelta, clamped to ``timedelta.max``/``timedelta.min``."""
    try:
        return timedelta(milliseconds=ms)
    except OverflowError:
        return timedelta.max if ms > 0 else timedelta.min


def read_text(fn: Any, handle: int) -> str:
    """Reads a ``(buf, cap, &len)`` text getter: size query, then buffer."""
    n = ctypes.c_size_t()
    if fn(handle, None, 0, ctypes.byref(n)) == 0:
        return ""
    buf = ctypes.create_string_buffer(n.value + 1)
    fn(handle, buf, n.value + 1, ctypes.byref(n))
    return buf.raw[: n.value].decode("utf-8")


def read_opt_text(fn: Any, handle: int) -> str | None:
    """Reads a ``(buf, cap, &len, &present)`` text getter; None when absent."""
    n = ctypes.c_size_t()
    present = ctypes.c_int32()
    if fn(handle, None, 0, ctypes.byref(n), ctypes.byref(present)) == 0 or not present.value:
        return "" if present.value else None  # the size query also tells whether it is present
    buf = ctypes.create_string_buffer(n.value + 1)
    fn(handle, buf, n.value + 1, ctypes.byref(n), ctypes.byref(present))
    return buf.raw[: n.value].decode("utf-8") if present.value else None


def read_bytes(fn: Any, handle: int) -> bytes:
    """Reads a ``(buf, cap, &len)`` byte getter: size query, then buffer."""
    n = ctypes.c_size_t()
    if fn(handle, None, 0, ctypes.byref(n)) == 0:
        return b""
    buf = ctypes.create_string_buffer(n.value)
    fn(handle, buf, n.value, ctypes.byref(n))
    return buf.raw[: n.value]
