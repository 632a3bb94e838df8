"""Reading a new lease's fields from its C handle: the per-poll hot path of
:class:`~asyncop.Lease`, one C call per field through prototype-free entry points
(see ``_native.hot``), each status checked as the prototypes' errcheck would."""

from __future__ import annotations

import threading
from ctypes import byref, c_int32, c_int64, c_size_t, c_void_p, create_string_buffer
from typing import TYPE_CHECKING, Any

from . import _convert as cv
from ._codes import ErrorCode
from ._native import hot, lib, raise_status

if TYPE_CHECKING:
    from ._lease import Lease

__all__ = ["read_fields"]

# The getters a new lease reads, without prototypes (see _native.hot).
_ID = hot("asyncop_lease_id")
_LOCK_TOKEN = hot("asyncop_lease_lock_token")
_TYPE = hot("asyncop_lease_operation_type")
_ATTEMPT = hot("asyncop_lease_attempt")
_EXPIRES_AT = hot("asyncop_lease_expires_at")
_NAME = hot("asyncop_lease_name")
_DATA = hot("asyncop_lease_data")
_DEPENDENCY_TOKEN = hot("asyncop_lease_dependency_token")
_CORRELATION_ID = hot("asyncop_lease_correlation_id")

#: Size of each thread's buffer for a lease's texts and payload: one C call reads a
#: value that fits (a name is at most 1,024 bytes); a longer one is read with a size
#: query first, as before.
_BUFFER_BYTES = 4096
_BUFFER_CAP = c_size_t(_BUFFER_BYTES)
_buffers = threading.local()


def _buffer() -> Any:
    try:
        return _buffers.buf
    except AttributeError:
        _buffers.buf = create_string_buffer(_BUFFER_BYTES)
        return _buffers.buf


def read_fields(lease: Lease, hv: c_void_p) -> None:
    """Reads the claimed operation's fields into ``lease``: one C call per field,
    each status checked as the prototypes' errcheck would."""
    i64, i32, n, present = c_int64(), c_int32(), c_size_t(), c_int32()
    p64, p32, pn, pp = byref(i64), byref(i32), byref(n), byref(present)
    status = _ID(hv, p64)
    if status:
        raise_status(status, "asyncop_lease_id")
    lease.id = i64.value
    status = _LOCK_TOKEN(hv, p64)
    if status:
        raise_status(status, "asyncop_lease_lock_token")
    lease.lock_token = i64.value
    status = _TYPE(hv, p32)
    if status:
        raise_status(status, "asyncop_lease_operation_type")
    lease.operation_type = i32.value
    status = _ATTEMPT(hv, p32)
    if status:
        raise_status(status, "asyncop_lease_attempt")
    lease.attempt = i32.value
    status = _EXPIRES_AT(hv, p64)
    if status:
        raise_status(status, "asyncop_lease_expires_at")
    lease._expires_ms = i64.value
    buf = _buffer()
    status = _NAME(hv, buf, _BUFFER_CAP, pn)
    if status == 0:
        lease.name = buf[: n.value].decode("utf-8")
    elif status == ErrorCode.BUFFER_TOO_SMALL:
        lease.name = cv.read_text(lib.asyncop_lease_name, hv.value)
    else:
        raise_status(status, "asyncop_lease_name")
    status = _DATA(hv, buf, _BUFFER_CAP, pn)
    if status == 0:
        lease.payload = buf[: n.value]
    elif status == ErrorCode.BUFFER_TOO_SMALL:
        lease.payload = cv.read_bytes(lib.asyncop_lease_data, hv.value)
    else:
        raise_status(status, "asyncop_lease_data")
    for fn, attr, name in (
        (_DEPENDENCY_TOKEN, "dependency_token", "asyncop_lease_dependency_token"),
        (_CORRELATION_ID, "correlation_id", "asyncop_lease_correlation_id"),
    ):
        status = fn(hv, buf, _BUFFER_CAP, pn, pp)
        if status == 0:
            setattr(lease, attr, buf[: n.value].decode("utf-8") if present.value else None)
        elif status == ErrorCode.BUFFER_TOO_SMALL:
            setattr(lease, attr, cv.read_opt_text(getattr(lib, name), hv.value))
        else:
            raise_status(status, name)
