"""The host-side calls of :class:`Queue` that create and batch-complete
leases: poll, complete_many and complete_and_poll (completions and the next
claim in one transaction)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from ctypes import Array, byref, c_int32, c_int64, c_size_t, c_void_p
from typing import TYPE_CHECKING, Any

from . import _convert as cv
from ._codes import POLL_MAX, ErrorCode
from ._errors import AsyncopError, InvalidArgumentError, make_error
from ._lease import Lease
from ._native import hot, lib, raise_status

if TYPE_CHECKING:
    from ._queue import Queue


def poll(queue: Queue, host_id: Any, max_: Any, wait: Any, operation_types: Any) -> list[Lease]:
    """The body of :meth:`Queue.poll` (documented there)."""
    queue._handle()
    args = poll_args(host_id, max_, wait, operation_types)
    if args is None:
        return []  # "only these types" with no types: nothing can be claimed
    host_b, n_max, wait_ms, types, n_types = args
    out = _ONE_HANDLE() if n_max == 1 else (c_void_p * n_max)()
    count = c_size_t()
    status = _POLL(
        queue._hv,
        host_b,
        types,
        _SIZES[n_types] if n_types < _N_SIZES else c_size_t(n_types),
        c_int64(wait_ms) if wait_ms else _NO_WAIT,
        out,
        _SIZES[n_max] if n_max < _N_SIZES else c_size_t(n_max),
        byref(count),
    )
    if status:
        raise_status(status, "asyncop_queue_poll")
    n = count.value
    if n == 0:
        return []
    return adopt_leases(queue, out[:n], host_id)


# The poll's call without its prototype (see _native.hot).
_POLL = hot("asyncop_queue_poll")
_ONE_HANDLE = c_void_p * 1
# Arguments made once: C passes them by value and never writes them, so every
# thread shares them (small counts, and a wait of 0 ms).
_N_SIZES = 65
_SIZES = tuple(c_size_t(i) for i in range(_N_SIZES))
_NO_WAIT = c_int64(0)
# The last host id seen and its checked UTF-8 bytes (a str is immutable: the same
# object converts to the same bytes); a worker polls with one host id. The first
# entry is no str, so the first call converts (and None is refused as before).
_last_host: tuple[Any, bytes] = (object(), b"")


def poll_args(host_id: Any, max_: Any, wait: Any, operation_types: Any) -> tuple[Any, int, int, Any, int] | None:
    """A poll's arguments converted for C: (host id, max, wait ms, types array,
    number of types); None when ``operation_types`` is empty (nothing can be claimed)."""
    global _last_host
    last, host_b = _last_host
    if host_id is not last:
        host_b = cv.text(host_id, "host_id")
        _last_host = (host_id, host_b)
    n_max = max_ if type(max_) is int else cv.integer(max_, "max")
    if not 1 <= n_max <= POLL_MAX:
        raise InvalidArgumentError(f"max must be 1..={POLL_MAX} (ASYNCOP_POLL_MAX), got {n_max}", ErrorCode.INVALID_ARG)
    wait_ms = 0 if wait is None else cv.duration_ms(wait, "wait")
    if operation_types is None:
        return host_b, n_max, wait_ms, None, 0
    if isinstance(operation_types, (str, bytes)) or not isinstance(operation_types, Iterable):
        raise TypeError(f"operation_types must be an iterable of int, not {type(operation_types).__name__}")
    values = [cv.i32(t, "operation type") for t in operation_types]
    if not values:
        return None
    return host_b, n_max, wait_ms, (c_int32 * len(values))(*values), len(values)


def complete_many(queue: Queue, leases: Sequence[Lease]) -> list[AsyncopError | None]:
    """The body of :meth:`Queue.complete_many` (documented there)."""
    items, handles = batch_handles(queue, leases, "complete_many")
    n = len(items)
    if n == 0:
        return []
    array = (c_void_p * n)(*handles)
    codes = (c_int32 * n)()
    first_message = ""
    try:
        lib.asyncop_lease_complete_many(array, n, codes)
    except AsyncopError as e:
        # A whole-call failure (nothing was written) sets every entry to its
        # code, which is never LEASE_LOST; otherwise the entries are per lease.
        if e.code != ErrorCode.LEASE_LOST and all(c == e.code for c in codes):
            raise
        first_message = e.message
    return batch_results(items, codes, first_message)


def batch_handles(queue: Queue, leases: Sequence[Lease], what: str) -> tuple[list[Lease], list[Any]]:
    """The leases of a batch call and their handles, checked: Lease objects of
    ``queue`` (TypeError, InvalidArgumentError), open (ClosedError)."""
    queue._handle()
    # A list or tuple skips the ABC check (isinstance of Iterable costs a µs per call).
    if (type(leases) is not list and type(leases) is not tuple) and (
        isinstance(leases, (str, bytes)) or not isinstance(leases, Iterable)
    ):
        raise TypeError(f"{what} takes a sequence of Lease objects, not {type(leases).__name__}")
    items = list(leases)
    for i, lease in enumerate(items):
        if type(lease) is not Lease and not isinstance(lease, Lease):
            raise TypeError(f"{what} takes Lease objects, not {type(lease).__name__} (leases[{i}])")
        if lease.queue is not queue:
            raise InvalidArgumentError(
                f"leases[{i}] (operation {lease.id}) was claimed through another Queue; "
                f"complete it with that queue's {what}",
                ErrorCode.INVALID_ARG,
                0,
            )
    handles = [lease._h for lease in items]
    if None in handles:
        items[handles.index(None)]._handle()  # ClosedError for a closed lease
    return items, handles


def batch_results(
    items: Sequence[Lease], codes: Sequence[int] | Array[c_int32], first_message: str
) -> list[AsyncopError | None]:
    """One entry per lease of a batch completion from its per-lease codes:
    None (completed) or the lease's error; completed and lost leases are
    marked finished."""
    if not any(codes):  # the common case: every lease completed
        for lease in items:
            lease._finished = True
        return [None] * len(items)
    out: list[AsyncopError | None] = []
    for i, (lease, code) in enumerate(zip(items, codes)):
        if code in (ErrorCode.OK, ErrorCode.LEASE_LOST):
            lease._finished = True
        if code == ErrorCode.OK:
            out.append(None)
            continue
        text = f"leases[{i}] (operation {lease.id}, lock token {lease.lock_token}) was not completed"
        if first_message:
            text, first_message = f"{text}: {first_message}", ""
        else:
            name = lib.asyncop_status_name(code).decode("ascii")
            text = f"{text} ({name})"
        out.append(make_error(code, text, lib.asyncop_status_hresult(code)))
    return out


def complete_and_poll(
    queue: Queue, leases: Sequence[Lease], host_id: Any, max_: Any, wait: Any, operation_types: Any
) -> tuple[list[AsyncopError | None], list[Lease]]:
    """The body of :meth:`Queue.complete_and_poll` (documented there)."""
    # A worker's step (one lease, at most one claimed, no wait or types, the host id of
    # the last call) takes the short way: these checks are batch_handles' and poll_args'.
    last, host_b = _last_host  # one read: another thread may replace it
    if (
        type(leases) is list
        and len(leases) == 1
        and host_id is last
        and max_ == 1
        and type(max_) is int
        and wait is None
        and operation_types is None
        and queue._h is not None
    ):
        lease = leases[0]
        if type(lease) is Lease and lease.queue is queue and lease._h is not None:
            return _step(queue, lease, host_id, host_b)
    items, handles = batch_handles(queue, leases, "complete_and_poll")
    args = poll_args(host_id, max_, wait, operation_types)
    if args is None:  # no types: nothing can be claimed, the completions still count
        return complete_many(queue, items), []
    if not items:
        return [], poll(queue, host_id, max_, wait, operation_types)
    host_b, n_max, wait_ms, types, n_types = args
    n = len(items)
    if n == 1 and n_max == 1:  # a worker's step: this thread's arrays of one
        array, codes, out, count, p_count = _one.args
        array[0] = handles[0]
    else:
        array = (c_void_p * n)(*handles)
        codes = (c_int32 * n)()
        out = (c_void_p * n_max)()
        count = c_size_t()
        p_count = byref(count)
    status = _COMPLETE_AND_POLL(
        queue._hv,
        array,
        _SIZES[n] if n < _N_SIZES else c_size_t(n),
        codes,
        host_b,
        types,
        _SIZES[n_types] if n_types < _N_SIZES else c_size_t(n_types),
        c_int64(wait_ms) if wait_ms else _NO_WAIT,
        out,
        _SIZES[n_max] if n_max < _N_SIZES else c_size_t(n_max),
        p_count,
    )
    if status:
        raise_status(status, "asyncop_queue_complete_and_poll")
    # Read this thread's arrays before anything else can run on it.
    results = batch_results(items, codes, "")
    c = count.value
    return results, adopt_leases(queue, out[:c], host_id) if c else []


def _step(queue: Queue, lease: Lease, host_id: str, host_b: bytes) -> tuple[list[AsyncopError | None], list[Lease]]:
    """A worker's step, as complete_and_poll does it: one open lease of ``queue``,
    claiming at most one for ``host_id`` (``host_b`` its checked UTF-8), without wait or
    types (the checks of batch_handles and poll_args passed, made by the caller)."""
    array, codes, out, count, p_count = _one.args
    array[0] = lease._h
    status = _COMPLETE_AND_POLL(
        queue._hv, array, _SIZES[1], codes, host_b, None, _SIZES[0], _NO_WAIT, out, _SIZES[1], p_count
    )
    if status:
        raise_status(status, "asyncop_queue_complete_and_poll")
    if codes[0] == 0:  # completed
        lease._finished = True
        results: list[AsyncopError | None] = [None]
    else:
        results = batch_results([lease], codes, "")
    if not count.value:
        return results, []
    h = out[0]
    assert h is not None  # the library wrote one handle
    try:
        claimed = Lease._adopt(queue, h, host_id)
    except BaseException:
        lib.asyncop_lease_free(h)  # if _adopt freed it already, the library refuses this one
        raise
    return results, [claimed]


class _One(threading.local):
    """One thread's arguments of a complete_and_poll of one lease claiming at most
    one: ``(leases, results, out_leases, count, byref(count))``."""

    def __init__(self) -> None:
        count = c_size_t()
        self.args = ((c_void_p * 1)(), (c_int32 * 1)(), (c_void_p * 1)(), count, byref(count))


_one = _One()


# complete_and_poll's call without its prototype (see _native.hot).
_COMPLETE_AND_POLL = hot("asyncop_queue_complete_and_poll")


def adopt_leases(queue: Queue, raw: Sequence[int | None], host_id: str) -> list[Lease]:
    """Wraps the lease handles a poll wrote; on any failure frees every one of them."""
    handles = list(raw)
    leases: list[Lease] = []
    try:
        for i, lease_h in enumerate(handles):
            assert lease_h is not None
            leases.append(Lease._adopt(queue, lease_h, host_id))
            handles[i] = None
    except BaseException:
        for lease in leases:
            lease.close()
        for lease_h in handles:
            if lease_h is not None:
                lib.asyncop_lease_free(lease_h)
        raise
    return leases
