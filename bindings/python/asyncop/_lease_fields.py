"""Reading a new lease's fields from its C handle: the per-poll hot path of
:class:`~asyncop.Lease`. One C call, ``asyncop_lease_read``, through a
prototype-free entry point (see ``_native.hot``) fills a thread's
``asyncop_lease_fields`` and copies the texts and the payload into the thread's
buffer; the status is checked as the prototype's errcheck would."""

from __future__ import annotations

import struct
import threading
from ctypes import addressof, byref, c_size_t, c_void_p, create_string_buffer, sizeof
from typing import TYPE_CHECKING, Any

from ._codes import ErrorCode
from ._native import LeaseFields, hot, raise_status

if TYPE_CHECKING:
    from ._lease import Lease

__all__ = ["read_fields"]

# The one call a new lease costs, without its prototype (see _native.hot).
_READ = hot("asyncop_lease_read")

#: ``asyncop_lease_fields`` as one ``struct`` format (native sizes and alignment):
#: unpacking it is a single call, where reading 15 ctypes attributes is 15.
_LAYOUT = struct.Struct("@qqqiiPNPNPNPNPN")
assert _LAYOUT.size == sizeof(LeaseFields)

#: Size of each thread's buffer for a lease's texts and payload: one C call reads a
#: lease whose bytes fit (a name is at most 1,024 bytes); a bigger one is read again
#: into a buffer of the size the first call reported.
_BUFFER_BYTES = 4096
_BUFFER_CAP = c_size_t(_BUFFER_BYTES)


class _Scratch(threading.local):
    """One thread's buffer, fields struct and length with their C arguments, made
    once, as one tuple (each attribute of a thread-local costs a lookup):
    ``(buf, base address, fields, byref(fields), n, byref(n))``."""

    def __init__(self) -> None:
        buf, fields, n = create_string_buffer(_BUFFER_BYTES), LeaseFields(), c_size_t()
        self.args = (buf, addressof(buf), fields, byref(fields), n, byref(n))


_scratch = _Scratch()


def read_fields(lease: Lease, hv: c_void_p) -> None:
    """Reads the claimed operation's fields into ``lease`` with one C call (two
    when its texts and payload are bigger than the thread's buffer)."""
    buf: Any
    buf, base, fields, p_fields, n, p_n = _scratch.args
    status = _READ(hv, buf, _BUFFER_CAP, p_fields, p_n)
    if status:
        if status != ErrorCode.BUFFER_TOO_SMALL:
            raise_status(status, "asyncop_lease_read")
        buf = create_string_buffer(n.value)
        base = addressof(buf)
        status = _READ(hv, buf, c_size_t(n.value), p_fields, p_n)
        if status:
            raise_status(status, "asyncop_lease_read")
    (
        lease.id,
        lease.lock_token,
        lease._expires_ms,
        lease.operation_type,
        lease.attempt,
        _name,
        name_len,
        data,
        data_len,
        _host,
        _host_len,
        token,
        token_len,
        correlation,
        correlation_len,
    ) = _LAYOUT.unpack_from(fields)
    # The name starts the buffer and the payload follows its NUL (asyncop_lease_fields).
    lease.name = buf[:name_len].decode("utf-8")
    data -= base
    lease.payload = buf[data : data + data_len]
    lease.dependency_token = _text(buf, token - base, token_len) if token else None
    lease.correlation_id = _text(buf, correlation - base, correlation_len) if correlation else None


def _text(buf: Any, start: int, length: int) -> str:
    return buf[start : start + length].decode("utf-8")  # type: ignore[no-any-return]
