"""Queue and Lease: the Python face of ``asyncop_queue`` and ``asyncop_lease``."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Mapping, Sequence
from ctypes import byref, c_int32, c_int64, c_size_t, c_void_p
from datetime import datetime, timedelta
from enum import IntEnum
from types import TracebackType
from typing import Any, NoReturn

from . import _convert as cv
from ._errors import (
    AsyncopError,
    ClosedError,
    ErrorCode,
    ForkedError,
    InvalidArgumentError,
    LeaseLostError,
    make_error,
)
from ._native import ANY, POLL_MAX, STATUS_NONE, TIME_NONE, lib
from ._types import Count, Durability, Maintenance, Operation, OperationSpec, Outcome, State, Status

__all__ = ["Queue", "Lease"]

#: Largest ``max`` accepted by :meth:`Queue.poll` (it sizes an array of handles):
#: the header's ``ASYNCOP_POLL_MAX``, the same in every language.
MAX_POLL = POLL_MAX

_SPEC_KEYS = frozenset({"name", "operation_type", "payload", "dependency_token", "postpone_until", "correlation_id"})


class _Native:
    """Shared behaviour of objects that own one C handle.

    The raw handle lives in ``self._h`` (None once closed). ``self._finalizer``
    is a ``weakref.finalize`` calling the C release function, so the handle is
    released exactly once: by ``close()``/``__exit__``, when the object is
    garbage-collected, or at interpreter exit. Handles cannot be copied or
    pickled: a copy would release the same handle twice.
    """

    _kind = "object"
    _h: int | None
    _finalizer: weakref.finalize | None

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise ClosedError(f"this {self._kind} is closed", ErrorCode.CLOSED_HANDLE, 0)
        return h

    def _release(self) -> None:
        self._h = None
        finalizer = self._finalizer
        if finalizer is not None:
            finalizer()  # runs at most once; the C release never raises

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the object was released)."""
        return self._h is None

    def __copy__(self) -> NoReturn:
        raise TypeError(f"a {type(self).__name__} owns a native handle and cannot be copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError(f"a {type(self).__name__} owns a native handle and cannot be copied")

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"a {type(self).__name__} owns a native handle and cannot be pickled; "
            "pass the queue's path to other processes and open it there"
        )


def _code(value: Any, enum: type[IntEnum], what: str) -> int:
    """A state/status/outcome code: an enum member or an int (the library checks the range)."""
    if isinstance(value, enum):
        return value.value
    return cv.i32(value, what)


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


class Queue(_Native):
    """An open queue file, shared by any number of threads and processes.

    ``Queue(path)`` opens the file, creating it if needed. Use it as a context
    manager, or call :meth:`close`; an unclosed queue is closed when it is
    garbage-collected. One Queue may be used by many threads at once. After
    ``fork()`` a child must open its own Queue: an inherited one raises
    :class:`ForkedError`. Queues cannot be pickled; pass the path instead.

    Args:
        path: the database file (``str`` or ``os.PathLike[str]``).
        durability: ``"full"`` (default: a returned write survives power loss)
            or ``"normal"`` (survives a process crash; faster), or a
            :class:`Durability`.
        lease: lease length of claims made through this queue (seconds or
            timedelta; default 30 s). Hosts renew every third of it.
        busy_timeout: how long a write waits for the write lock before
            :class:`BusyError` (default 5 s).
        restricted_types: queue-wide operation types whose Cancel/Pause/Resume
            are refused (default: keep what the file has; a new file gets
            Dynamics' 9, 16, 18, 19, 20, 22, 24, 25, 27, 31). An empty iterable
            means none. Written into the file for every process.
        max_attempts: queue-wide retry budget, attempts in total (>= 1).
        backoff: queue-wide ``(base, cap)`` retry back-off in seconds or
            timedeltas: the n-th retry waits ``min(cap, base * 2**(n-1))``.
        allow_delete_any: queue-wide: let :meth:`delete` remove operations in
            any state, not only Completed ones.
        max_payload_bytes: queue-wide payload limit in bytes, 1 up to
            512 MiB (``asyncop.PAYLOAD_CEILING``); default: keep what the file
            has (16 MiB, ``asyncop.PAYLOAD_DEFAULT_MAX``, on a new file). A
            submit with a longer payload raises :class:`InvalidArgumentError`
            and writes nothing. Written into the file for every process.
        file_mode: permission bits of a file this call creates (and of its
            ``-wal``/``-shm``): ``0o600`` (default, owner only) up to ``0o660``
            (shared with the file's group); it must include ``0o600`` and have
            no other bits. An existing file keeps its mode.

    Raises:
        InvalidArgumentError: an option is out of range (e.g. ``max_payload_bytes``,
            ``file_mode``).
        CorruptError: the file is not an asyncop database (it is left untouched).
        AsyncopIOError: the file cannot be opened (missing directory, permissions).
    """

    _kind = "queue"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability | str = Durability.FULL,
        lease: cv.Duration | None = None,
        busy_timeout: cv.Duration | None = None,
        restricted_types: Iterable[int] | None = None,
        max_attempts: int | None = None,
        backoff: tuple[cv.Duration, cv.Duration] | None = None,
        allow_delete_any: bool | None = None,
        max_payload_bytes: int | None = None,
        file_mode: int | None = None,
    ) -> None:
        self._h = None
        self._finalizer = None
        # Convert every argument before the first C call, so bad input raises cleanly.
        fspath = os.fspath(path) if isinstance(path, os.PathLike) else path
        path_b = cv.text(fspath, "path")
        dur = _durability(durability)
        lease_ms = None if lease is None else cv.duration_ms(lease, "lease")
        busy_ms = None if busy_timeout is None else cv.duration_ms(busy_timeout, "busy_timeout")
        if restricted_types is not None:
            if isinstance(restricted_types, (str, bytes)) or not isinstance(restricted_types, Iterable):
                raise TypeError(f"restricted_types must be an iterable of int, not {type(restricted_types).__name__}")
            types = [cv.i32(t, "restricted type") for t in restricted_types]
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
        self._h = handle.value
        self._finalizer = weakref.finalize(self, lib.asyncop_queue_close, handle.value)
        self.path: str = fspath
        self.lease: timedelta = cv.to_timedelta(30_000 if lease_ms is None else lease_ms)
        """The lease length of claims made through this queue."""
        self.durability: Durability = Durability(dur)
        """The durability this handle writes with."""

    # -- life cycle -----------------------------------------------------------------

    def close(self) -> None:
        """Closes the queue. Leases and calls on it then raise :class:`ClosedError`.
        Closing twice is harmless. In a forked child, closing an inherited queue
        only forgets it (the parent's database is left alone)."""
        self._release()

    def __enter__(self) -> Queue:
        self._handle()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._h is None else "open"
        return f"<asyncop.Queue {self.__dict__.get('path', '?')!r} {state}>"

    # -- clock ----------------------------------------------------------------------

    def _now_ms(self) -> int:
        h = self._handle()
        out = c_int64()
        lib.asyncop_queue_now(h, byref(out))
        return out.value

    def now(self) -> datetime:
        """The queue clock's current time (timezone-aware UTC)."""
        return cv.to_datetime(self._now_ms())

    def _when(self, value: Any, what: str) -> int:
        return cv.when_ms(value, what, self._now_ms)

    # -- submitting -----------------------------------------------------------------

    def submit(
        self,
        name: str,
        payload: bytes | bytearray | memoryview = b"",
        *,
        operation_type: int,
        dependency_token: str | None = None,
        postpone_until: datetime | timedelta | None = None,
        correlation_id: str | None = None,
    ) -> int:
        """Submits one operation and returns its id once it is committed.

        Args:
            name: up to 256 characters; not unique, may be empty.
            payload: opaque bytes handed to the handler, at most the queue's
                ``max_payload_bytes`` (16 MiB unless set).
            operation_type: > 0; selects the handler.
            dependency_token: operations with the same token run one at a
                time, in creation order (None or "" for none).
            postpone_until: a timezone-aware datetime, or a timedelta from now:
                a future time creates the operation Suspended (1/10) until then.
            correlation_id: a free key linking related operations.

        Raises:
            InvalidArgumentError: a text too long, a type <= 0, or a payload
                over the queue's limit (the message names both sizes); nothing
                is written.
        """
        h = self._handle()
        name_b = cv.text(name, "name")
        data = cv.data(payload)
        op_type = cv.i32(operation_type, "operation_type")
        token = cv.opt_text(dependency_token, "dependency_token")
        corr = cv.opt_text(correlation_id, "correlation_id")
        until = TIME_NONE if postpone_until is None else self._when(postpone_until, "postpone_until")
        out = c_int64()
        lib.asyncop_queue_submit(h, name_b, op_type, data, len(data), token, until, corr, byref(out))
        return out.value

    def submit_many(self, specs: Iterable[OperationSpec | Mapping[str, Any]]) -> list[int]:
        """Submits several operations in one transaction (all or none) and
        returns their ids in order. Each item is an :class:`OperationSpec` or a
        dict with its keys (``name`` and ``operation_type`` required).
        One invalid item (e.g. a payload over ``max_payload_bytes``) raises
        :class:`InvalidArgumentError` naming its index, and none is written."""
        h = self._handle()
        items = [self._spec(item) for item in specs]
        if not items:
            return []
        handles: list[int] = []
        try:
            for name_b, op_type, data, token, until, corr in items:
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
            array = (c_void_p * len(handles))(*handles)
            ids = (c_int64 * len(handles))()
            lib.asyncop_queue_submit_many(h, array, len(handles), ids)
            return list(ids)
        finally:
            for spec_h in handles:
                lib.asyncop_spec_free(spec_h)

    def _spec(self, item: Any) -> tuple[bytes, int, bytes, bytes | None, int | None, bytes | None]:
        if isinstance(item, OperationSpec):
            fields: Mapping[str, Any] = {
                "name": item.name,
                "operation_type": item.operation_type,
                "payload": item.payload,
                "dependency_token": item.dependency_token,
                "postpone_until": item.postpone_until,
                "correlation_id": item.correlation_id,
            }
        elif isinstance(item, Mapping):
            unknown = set(item) - _SPEC_KEYS
            if unknown:
                raise TypeError(f"unknown operation field(s): {', '.join(sorted(map(str, unknown)))}")
            for key in ("name", "operation_type"):
                if key not in item:
                    raise TypeError(f"an operation needs {key!r}")
            fields = item
        else:
            raise TypeError(f"submit_many takes OperationSpec objects or dicts, not {type(item).__name__}")
        until = fields.get("postpone_until")
        return (
            cv.text(fields["name"], "name"),
            cv.i32(fields["operation_type"], "operation_type"),
            cv.data(fields.get("payload", b"")),
            cv.opt_text(fields.get("dependency_token"), "dependency_token"),
            None if until is None else self._when(until, "postpone_until"),
            cv.opt_text(fields.get("correlation_id"), "correlation_id"),
        )

    # -- reading --------------------------------------------------------------------

    def retrieve(self, id: int) -> Operation:
        """Reads one operation.

        Raises:
            NotFoundError: no operation has this id (a KeyError).
            InvalidArgumentError: id <= 0.
        """
        h = self._handle()
        op_id = cv.i64(id, "id")
        out = c_void_p()
        lib.asyncop_queue_retrieve(h, op_id, byref(out))
        return _take_operation(out.value)

    def query(
        self,
        state: State | int | None = None,
        status: Status | int | None = None,
        operation_type: int | None = None,
        name: str | None = None,
        dependency_token: str | None = None,
        completed_before: datetime | None = None,
        after_id: int | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[Operation]:
        """Lists the operations matching every given filter, in ascending id.

        ``name`` and ``dependency_token`` match exactly; ``completed_before``
        (a timezone-aware datetime) keeps those completed earlier; ``after_id``
        keeps ids greater than it (for paging with ``limit``).
        """
        h = self._handle()
        st = ANY if state is None else _code(state, State, "state")
        su = ANY if status is None else _code(status, Status, "status")
        ot = ANY if operation_type is None else cv.i32(operation_type, "operation_type")
        name_b = cv.opt_text(name, "name")
        token = cv.opt_text(dependency_token, "dependency_token")
        before = TIME_NONE if completed_before is None else cv.datetime_ms(completed_before, "completed_before")
        after = 0 if after_id is None else cv.i64(after_id, "after_id")
        lim = -1 if limit is None else cv.i64(limit, "limit")
        off = 0 if offset is None else cv.i64(offset, "offset")
        out = c_void_p()
        lib.asyncop_queue_query(h, st, su, ot, name_b, token, before, after, lim, off, byref(out))
        list_h = out.value
        try:
            n = c_size_t()
            lib.asyncop_operation_list_count(list_h, byref(n))
            result = []
            for i in range(n.value):
                op = c_void_p()
                lib.asyncop_operation_list_get(list_h, i, byref(op))
                result.append(_take_operation(op.value))
            return result
        finally:
            lib.asyncop_operation_list_free(list_h)

    def counts(self) -> list[Count]:
        """How many operations are in each (state, status, operation_type)
        group: non-empty groups only, sorted by those keys."""
        h = self._handle()
        out = c_void_p()
        lib.asyncop_queue_counts(h, byref(out))
        counts_h = out.value
        try:
            n = c_size_t()
            lib.asyncop_counts_count(counts_h, byref(n))
            st, su, ot, cnt = c_int32(), c_int32(), c_int32(), c_int64()
            rows = []
            for i in range(n.value):
                lib.asyncop_counts_get(counts_h, i, byref(st), byref(su), byref(ot), byref(cnt))
                rows.append(Count(State(st.value), Status(su.value), ot.value, cnt.value))
            return rows
        finally:
            lib.asyncop_counts_free(counts_h)

    def wait_for(self, id: int, timeout: cv.Duration) -> Operation:
        """Waits until the operation is Completed or ``timeout`` (seconds or
        timedelta) passes, and returns its latest snapshot either way: check
        ``.state`` (or ``.is_completed``). Blocks only the calling thread,
        in C with the GIL released, so Ctrl-C is seen when it returns."""
        h = self._handle()
        op_id = cv.i64(id, "id")
        ms = cv.duration_ms(timeout, "timeout")
        out = c_void_p()
        lib.asyncop_queue_wait_for(h, op_id, ms, byref(out))
        return _take_operation(out.value)

    # -- user actions ---------------------------------------------------------------

    def cancel(self, id: int) -> None:
        """Cancel: Ready or Suspended → Completed/Canceled (3/32); running →
        Canceling (2/22) until its host stops.

        Raises:
            InvalidStateChangeError: already Canceling or Completed.
            CannotCancelError: a restricted type.
            NotFoundError, InvalidArgumentError, StateChangedMeanwhileError, BusyError.
        """
        h = self._handle()
        lib.asyncop_queue_cancel(h, cv.i64(id, "id"))

    def pause(self, id: int) -> None:
        """Pause: running (2/20) → Pausing (2/21) until its host stops it into
        Suspended; already Pausing is a no-op.

        Raises:
            InvalidStateChangeToSuspendedError: not running.
            CannotPauseError: a restricted type.
        """
        h = self._handle()
        lib.asyncop_queue_pause(h, cv.i64(id, "id"))

    def resume(self, id: int) -> None:
        """Resume: Suspended (1/10) → Ready (0/0) at once.

        Raises:
            InvalidStateChangeToReadyError: not Suspended, or a restricted type.
        """
        h = self._handle()
        lib.asyncop_queue_resume(h, cv.i64(id, "id"))

    def postpone(self, id: int, when: datetime | timedelta) -> None:
        """Postpone until ``when`` (a timezone-aware datetime, or a timedelta
        from now; it must be in the future): Ready or Suspended → Suspended
        until then; running → Pausing, then Suspended until then.

        Raises:
            InvalidArgumentError: ``when`` is not in the future.
            InvalidStateChangeToSuspendedError: Pausing, Canceling or Completed.
            CannotPauseError: a restricted type while it runs.
        """
        h = self._handle()
        op_id = cv.i64(id, "id")
        lib.asyncop_queue_postpone(h, op_id, self._when(when, "when"))

    def set_postpone_until(self, id: int, when: datetime | timedelta) -> None:
        """The design card's ``set_postpone_until``: exactly :meth:`postpone`."""
        h = self._handle()
        op_id = cv.i64(id, "id")
        lib.asyncop_queue_set_postpone_until(h, op_id, self._when(when, "when"))

    def delete(self, id: int) -> None:
        """Removes a Completed operation (any state with ``allow_delete_any``).
        Ids are never reused.

        Raises:
            CannotDeleteUnlessCompletedError: not Completed.
        """
        h = self._handle()
        lib.asyncop_queue_delete(h, cv.i64(id, "id"))

    def set_state(self, id: int, state: State | int, status: Status | int | None = None) -> None:
        """The generic state change, mapped onto one action: ``(READY)`` →
        resume, ``(SUSPENDED)`` → pause, ``(COMPLETED)`` or ``(COMPLETED,
        CANCELED)`` → cancel.

        Raises:
            InvalidStateChangeToCompleteError: ``(COMPLETED, SUCCEEDED/FAILED)``.
            InvalidStateChangeError: ``(LOCKED, ...)``: only hosts lock operations.
            InvalidArgumentError: an unknown code or a status of another state.
        """
        h = self._handle()
        op_id = cv.i64(id, "id")
        st = _code(state, State, "state")
        su = STATUS_NONE if status is None else _code(status, Status, "status")
        lib.asyncop_queue_set_state(h, op_id, st, su)

    # -- hosts ----------------------------------------------------------------------

    def poll(
        self,
        host_id: str,
        *,
        max: int = 1,
        wait: cv.Duration | None = None,
        operation_types: Iterable[int] | None = None,
    ) -> list[Lease]:
        """Claims up to ``max`` of the oldest eligible Ready operations for
        ``host_id`` and returns a :class:`Lease` for each (an empty list when
        nothing is claimable).

        Args:
            host_id: non-empty, up to 256 characters; names this host.
            max: at most this many (1..65536).
            wait: if nothing is claimable, wait up to this long (seconds or
                timedelta) for work. Blocks only the calling thread.
            operation_types: claim only these types (None for any).

        Renew each lease every ``queue.lease / 3`` and end it with one outcome.
        A waiting call cannot be interrupted by Ctrl-C (it runs in C with the
        GIL released); loop over short waits where that matters.
        """
        h = self._handle()
        host_b = cv.text(host_id, "host_id")
        n_max = cv.integer(max, "max")
        if not 1 <= n_max <= MAX_POLL:
            raise InvalidArgumentError(f"max must be 1..={MAX_POLL} (ASYNCOP_POLL_MAX), got {n_max}", ErrorCode.INVALID_ARG)
        wait_ms = 0 if wait is None else cv.duration_ms(wait, "wait")
        if operation_types is None:
            types, n_types = None, 0
        else:
            if isinstance(operation_types, (str, bytes)) or not isinstance(operation_types, Iterable):
                raise TypeError(f"operation_types must be an iterable of int, not {type(operation_types).__name__}")
            values = [cv.i32(t, "operation type") for t in operation_types]
            if not values:
                return []  # "only these types" with no types: nothing can be claimed
            types, n_types = (c_int32 * len(values))(*values), len(values)
        out = (c_void_p * _larger(n_max, 1))()
        count = c_size_t()
        lib.asyncop_queue_poll(h, host_b, types, n_types, wait_ms, out, n_max, byref(count))
        handles: list[int | None] = [out[i] for i in range(count.value)]
        leases: list[Lease] = []
        try:
            for i, lease_h in enumerate(handles):
                assert lease_h is not None
                leases.append(Lease._adopt(self, lease_h, host_id))
                handles[i] = None
        except BaseException:
            for lease in leases:
                lease.close()
            for lease_h in handles:
                if lease_h is not None:
                    lib.asyncop_lease_free(lease_h)
            raise
        return leases

    def complete_many(self, leases: Sequence[Lease]) -> list[AsyncopError | None]:
        """Completes several leases of this queue at once: each as
        :meth:`Lease.complete` would (Completed/Succeeded, 3/30), all in one
        transaction (one commit); a lease that was lost leaves the others
        completed.

        Returns one entry per lease, in order: ``None`` for a lease that
        completed, else the error of that lease, an :class:`AsyncopError`
        instance (not raised), usually a :class:`LeaseLostError`: the lease
        expired, was claimed again, or was already ended (a lease listed twice
        completes once; its second entry is a LeaseLostError). The first
        failing entry's message carries the library's explanation.

        Each lease that completed, or was found lost, is marked
        :attr:`Lease.finished`, as :meth:`Lease.complete` does, so leaving its
        ``with`` block reports nothing more. The leases stay open: close them
        (or leave their ``with`` blocks) as usual. ``complete_many([])`` is ``[]``.

        Raises:
            TypeError: ``leases`` is not an iterable of :class:`Lease` objects.
            InvalidArgumentError: a lease was claimed through another Queue.
            ClosedError: this queue, or one of the leases, is closed.
            BusyError: the write lock was not obtained in time; nothing was
                completed (retryable).
            AsyncopIOError, CorruptError, InternalError, ForkedError: the call
                failed as a whole; nothing was completed.
        """
        h = self._handle()
        if isinstance(leases, (str, bytes)) or not isinstance(leases, Iterable):
            raise TypeError(f"complete_many takes a sequence of Lease objects, not {type(leases).__name__}")
        items = list(leases)
        for i, lease in enumerate(items):
            if not isinstance(lease, Lease):
                raise TypeError(f"complete_many takes Lease objects, not {type(lease).__name__} (leases[{i}])")
            if lease.queue is not self:
                raise InvalidArgumentError(
                    f"leases[{i}] (operation {lease.id}) was claimed through another Queue; "
                    "complete it with that queue's complete_many",
                    ErrorCode.INVALID_ARG,
                    0,
                )
        handles = [lease._handle() for lease in items]  # ClosedError for a closed lease
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

    def check_integrity(self) -> None:
        """Checks the file's structure with SQLite's ``PRAGMA quick_check``
        (every page and record, NOT NULL and CHECK constraints; not index
        contents). Returns None when the file is sound.

        It reads the whole file, so its cost grows with the file; writers are
        not blocked, and nothing is repaired.

        Raises:
            CorruptError: the file is damaged; the message holds the first
                lines of SQLite's report.
        """
        lib.asyncop_queue_check_integrity(self._handle())

    def run_maintenance(self) -> Maintenance:
        """One maintenance pass: returns expired leases to Ready/Suspended (or
        ends them as Failed after the retry budget, or Canceled when a cancel was
        pending) and promotes due Suspended operations. Every poll runs it too."""
        h = self._handle()
        recovered, poisoned, promoted = c_int64(), c_int64(), c_int64()
        lib.asyncop_queue_run_maintenance(h, byref(recovered), byref(poisoned), byref(promoted))
        return Maintenance(recovered.value, poisoned.value, promoted.value)


def _larger(a: int, b: int) -> int:
    """The builtin ``max`` of two ints (:meth:`Queue.poll`'s parameter shadows it)."""
    return a if a >= b else b


def _read_operation(h: int) -> Operation:
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
    )


def _take_operation(h: int | None) -> Operation:
    """Reads a snapshot handle into an Operation and frees it."""
    try:
        return _read_operation(h)  # type: ignore[arg-type]
    finally:
        lib.asyncop_operation_free(h)


class Lease(_Native):
    """One claimed operation, from :meth:`Queue.poll`.

    The attributes describe the claimed operation and never change. The host
    renews the lease every ``queue.lease / 3`` with :meth:`renew` (which also
    reports a requested pause or cancel) and ends it with exactly one outcome:
    :meth:`complete`, :meth:`fail`, :meth:`retry`, :meth:`suspend`,
    :meth:`acknowledge_pause`, :meth:`acknowledge_cancel` or :meth:`report`.
    Every call is fenced by the lock token: once the lease expired (or the
    operation was claimed again) it raises :class:`LeaseLostError` and changes
    nothing.

    As a context manager, leaving the block without an outcome reports a
    retryable failure, with the exception's text as message (or "lease
    released without an outcome"), then frees the handle. That release is best
    effort: if the lease is already lost or the queue closed, nothing is
    raised, because an unfinished lease expires and is retried anyway.
    """

    _kind = "lease"

    #: The operation's id.
    id: int
    #: The fencing token of this claim.
    lock_token: int
    #: The operation type, to pick the handler.
    operation_type: int
    #: 1 for the first run, retry_count + 1 after retries.
    attempt: int
    #: When the lease ended at claim time; renewals push the stored expiry, not this.
    expires_at: datetime
    name: str
    payload: bytes
    #: The host id given to :meth:`Queue.poll`.
    host_id: str
    dependency_token: str | None
    correlation_id: str | None
    #: The queue it was claimed from (kept alive by the lease).
    queue: Queue

    def __init__(self) -> None:
        raise TypeError("leases come from Queue.poll()")

    @classmethod
    def _adopt(cls, queue: Queue, h: int, host_id: str) -> Lease:
        self = cls.__new__(cls)
        self._h = h
        self._finalizer = weakref.finalize(self, lib.asyncop_lease_free, h)
        self._finished = False
        self.queue = queue
        self.host_id = host_id
        try:
            i64, i32 = c_int64(), c_int32()
            lib.asyncop_lease_id(h, byref(i64))
            self.id = i64.value
            lib.asyncop_lease_lock_token(h, byref(i64))
            self.lock_token = i64.value
            lib.asyncop_lease_operation_type(h, byref(i32))
            self.operation_type = i32.value
            lib.asyncop_lease_attempt(h, byref(i32))
            self.attempt = i32.value
            lib.asyncop_lease_expires_at(h, byref(i64))
            self.expires_at = cv.to_datetime(i64.value)
            self.name = cv.read_text(lib.asyncop_lease_name, h)
            self.payload = cv.read_bytes(lib.asyncop_lease_data, h)
            self.dependency_token = cv.read_opt_text(lib.asyncop_lease_dependency_token, h)
            self.correlation_id = cv.read_opt_text(lib.asyncop_lease_correlation_id, h)
        except BaseException:
            self._release()
            raise
        return self

    @property
    def finished(self) -> bool:
        """True once an outcome was reported (or the lease was found lost)."""
        return self._finished

    def close(self) -> None:
        """Frees the handle. This does not end the lease: an unfinished lease
        expires and the operation is retried. Closing twice is harmless."""
        self._release()

    def __enter__(self) -> Lease:
        self._handle()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._finished and self._h is not None:
                message = "lease released without an outcome" if exc is None else _describe(exc)
                try:
                    self.retry(message)
                except (LeaseLostError, ClosedError, ForkedError):
                    pass  # the lease is gone already; expiry retries the operation
                except AsyncopError:
                    if exc is None:
                        raise  # do not hide the block's own exception behind ours
        finally:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._h is None else ("finished" if self._finished else "held")
        return f"<asyncop.Lease id={self.__dict__.get('id')} type={self.__dict__.get('operation_type')} {state}>"

    def _outcome(self, name: str, *args: Any) -> Status:
        h = self._handle()
        out = c_int32()
        try:
            getattr(lib, name)(h, *args, byref(out))
        except LeaseLostError:
            self._finished = True
            raise
        self._finished = True
        return Status(out.value)

    def renew(self) -> Status:
        """Heartbeat: extends the lease by the lease length from now and returns
        the current status: IN_PROGRESS, or PAUSING / CANCELING when a user asked
        the host to stop at its next safe point (then call
        :meth:`acknowledge_pause` / :meth:`acknowledge_cancel`).

        Raises:
            LeaseLostError: the lease expired or the operation was claimed again.
        """
        h = self._handle()
        out = c_int32()
        lib.asyncop_lease_renew(h, byref(out))
        return Status(out.value)

    def complete(self) -> Status:
        """The work finished: Completed/Succeeded (3/30). Returns the new status."""
        return self._outcome("asyncop_lease_complete")

    def fail(self, message: str | None = None, *, error_code: int = 0) -> Status:
        """The work failed for good: Completed/Failed (3/31), storing
        ``error_code`` (0 for none) and ``message`` (cut at 100,000 characters)."""
        self._handle()
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        return self._outcome("asyncop_lease_fail", code, msg)

    def retry(
        self, message: str | None = None, *, error_code: int = 0, at: datetime | timedelta | None = None
    ) -> Status:
        """A retryable failure: Suspended (1/10) until the back-off time (or
        ``at``, a datetime or a delay, never earlier than now), or Completed/Failed
        when the retry budget is spent. Returns the new status."""
        self._handle()
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        retry_at = TIME_NONE if at is None else cv.when_ms(at, "at", self.queue._now_ms)
        return self._outcome("asyncop_lease_retry", code, msg, retry_at)

    def suspend(self, message: str | None = None, *, error_code: int = 0) -> Status:
        """A suspend-class failure: Suspended (1/10) with no time set, until a
        user resumes it. Returns the new status."""
        self._handle()
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        return self._outcome("asyncop_lease_suspend", code, msg)

    def acknowledge_pause(self) -> Status:
        """The host stopped at a safe point after :meth:`renew` reported
        PAUSING: Suspended (paused, or postponed until the requested time)."""
        return self._outcome("asyncop_lease_acknowledge_pause")

    def acknowledge_cancel(self) -> Status:
        """The host stopped at a safe point after :meth:`renew` reported
        CANCELING: Completed/Canceled (3/32)."""
        return self._outcome("asyncop_lease_acknowledge_cancel")

    def report(
        self,
        outcome: Outcome | int,
        *,
        error_code: int = 0,
        message: str | None = None,
        friendly_message: str | None = None,
        retry_at: datetime | timedelta | None = None,
    ) -> Status:
        """The general outcome report (Dynamics' plug-in OperationStatus), the
        only one that stores a ``friendly_message`` for end users. The result
        depends on the status at the time: a Pausing or Canceling request is
        honoured. Returns the new status."""
        self._handle()
        oc = _code(outcome, Outcome, "outcome")
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        friendly = cv.opt_text(friendly_message, "friendly_message")
        at = TIME_NONE if retry_at is None else cv.when_ms(retry_at, "retry_at", self.queue._now_ms)
        return self._outcome("asyncop_lease_report", oc, code, msg, friendly, at)


def _describe(exc: BaseException) -> str:
    """An exception as a storable message: "Type: text", NULs and unencodable
    characters escaped (reporting a failure must not fail on its own text)."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not stop the release
        text = "<unprintable>"
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return message.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")
