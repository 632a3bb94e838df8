"""Queue: the Python face of ``asyncop_queue``, an open queue file.

Leases live in ``_lease.py`` (poll and the batch completions in ``_claims.py``),
snapshot and record reading in ``_snapshot.py``,
the reading methods (retrieve, query, counts, wait_for) in ``_queue_reads.py``,
purge and held types in ``_queue_cleanup.py``, the user actions (cancel ... set_state,
set_recurrence) in ``_queue_actions.py``."""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from ctypes import byref, c_int64, c_size_t, c_void_p
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from . import _convert as cv
from ._codes import POLL_MAX, TIME_NONE
from ._errors import AsyncopError
from ._claims import complete_and_poll, complete_many, poll
from ._lease import Lease
from ._native import hot, lib, raise_status
from ._options import open_queue
from ._queue_actions import _QueueActions
from ._queue_cleanup import _QueueCleanup
from ._queue_events import _QueueEvents
from ._queue_reads import _QueueReads
from ._snapshot import spec_args, submit_specs
from ._types import Durability, Maintenance, OperationSpec, Status

__all__ = ["Queue"]

#: Largest ``max`` accepted by :meth:`Queue.poll` (it sizes an array of handles):
#: the header's ``ASYNCOP_POLL_MAX``, the same in every language.
MAX_POLL = POLL_MAX

_SUBMIT = hot("asyncop_queue_submit")


class Queue(_QueueReads, _QueueActions, _QueueCleanup, _QueueEvents):
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
        cleanup_enabled: queue-wide: whether polls purge expired Completed
            operations at most hourly (default on).
        retention: queue-wide ``{Status: duration or "none"}`` for the final
            statuses (SUCCEEDED 30 days, FAILED and CANCELED 60 days by
            default); ``"none"`` keeps that status forever. Unnamed statuses
            keep what the file has.
        auto_delete_types: queue-wide operation types whose one-shot
            successes are deleted at once instead of kept.
        recurrence_updatable_types: queue-wide operation types whose series
            may get a new pattern with :meth:`set_recurrence` (default: keep
            what the queue has; none on a new queue). Written into the queue
            for every process.

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
        cleanup_enabled: bool | None = None,
        retention: Mapping[Status | int, cv.Duration | str] | None = None,
        auto_delete_types: Iterable[int] | None = None,
        recurrence_updatable_types: Iterable[int] | None = None,
    ) -> None:
        self._h = None
        self._finalizer = None
        self._event_trampolines = []
        fspath = os.fspath(path) if isinstance(path, os.PathLike) else path
        handle, lease_ms, dur = open_queue(
            fspath,
            durability=durability,
            lease=lease,
            busy_timeout=busy_timeout,
            restricted_types=restricted_types,
            max_attempts=max_attempts,
            backoff=backoff,
            allow_delete_any=allow_delete_any,
            max_payload_bytes=max_payload_bytes,
            file_mode=file_mode,
            cleanup_enabled=cleanup_enabled,
            retention=retention,
            auto_delete_types=auto_delete_types,
            recurrence_updatable_types=recurrence_updatable_types,
        )
        self._h = handle
        # The handle as a c_void_p, for the calls without prototypes (see _native.hot).
        self._hv = c_void_p(handle)
        self._finalizer = weakref.finalize(self, lib.asyncop_queue_close, handle)
        self.path: str = fspath
        """The target as given (a file path, or a PostgreSQL URL that may hold a
        password: ``repr`` masks it)."""
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
        return f"<asyncop.Queue {_without_password(self.__dict__.get('path', '?'))!r} {state}>"

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
        recurrence: str | None = None,
        recurrence_start: datetime | timedelta | None = None,
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
            recurrence: a recurrence pattern (``"FREQ=MINUTELY|HOURLY|DAILY|
                WEEKLY|MONTHLY;INTERVAL=n"``, e.g. ``"FREQ=DAILY;"``) makes it a
                recurring series: one row that runs at every occurrence and goes
                back to Suspended/Waiting with ``postpone_until`` at the next one
                after each successful run (missed occurrences are skipped). Cancel
                ends the series; a failure ends it as Failed.
            recurrence_start: the first occurrence (a timezone-aware datetime or
                a timedelta from now; default now). Only with ``recurrence``.

        Raises:
            InvalidArgumentError: a text too long, a type <= 0, or a payload
                over the queue's limit (the message names both sizes); a
                malformed pattern, ``recurrence_start`` without a pattern, or
                ``postpone_until`` with one; nothing is written.
        """
        if recurrence is not None or recurrence_start is not None:
            spec = OperationSpec(
                name,
                operation_type,
                cv.data(payload),
                dependency_token,
                postpone_until,
                correlation_id,
                recurrence,
                recurrence_start,
            )
            return submit_specs(self._handle(), [spec_args(spec, self._when)])[0]
        h = self._handle()
        name_b = cv.text(name, "name")
        data = cv.data(payload)
        op_type = cv.i32(operation_type, "operation_type")
        token = cv.opt_text(dependency_token, "dependency_token")
        corr = cv.opt_text(correlation_id, "correlation_id")
        until = TIME_NONE if postpone_until is None else self._when(postpone_until, "postpone_until")
        out = c_int64()
        status = _SUBMIT(c_void_p(h), name_b, op_type, data, c_size_t(len(data)), token, c_int64(until), corr, byref(out))
        if status:
            raise_status(status, "asyncop_queue_submit")
        return out.value

    def submit_many(self, specs: Iterable[OperationSpec | Mapping[str, Any]]) -> list[int]:
        """Submits several operations in one transaction (all or none) and
        returns their ids in order. Each item is an :class:`OperationSpec` or a
        dict with its keys (``name`` and ``operation_type`` required).
        One invalid item (e.g. a payload over ``max_payload_bytes``) raises
        :class:`InvalidArgumentError` naming its index, and none is written."""
        h = self._handle()
        items = [spec_args(item, self._when) for item in specs]
        if not items:
            return []
        return submit_specs(h, items)

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
        return poll(self, host_id, max, wait, operation_types)

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
        return complete_many(self, leases)

    def complete_and_poll(
        self,
        leases: Sequence[Lease],
        host_id: str,
        *,
        max: int = 1,
        wait: cv.Duration | None = None,
        operation_types: Iterable[int] | None = None,
    ) -> tuple[list[AsyncopError | None], list[Lease]]:
        """Completes ``leases`` as :meth:`complete_many` does and claims up to
        ``max`` operations for ``host_id`` as :meth:`poll` does, in ONE
        transaction (one commit): what a worker does between two jobs. The
        claim runs after the completions and sees them (a completion that
        unblocks the next operation of its dependency token lets this call
        claim it).

        Returns ``(results, new_leases)``: ``results`` has one entry per lease,
        in order, exactly as :meth:`complete_many` returns them (``None`` or
        the lease's error, usually a :class:`LeaseLostError`, not raised; the
        others still completed); ``new_leases`` as :meth:`poll` returns them.
        ``complete_and_poll([], ...)`` is a plain poll (``results`` empty).

        With ``wait`` and nothing to claim, the completions are committed
        first and the call then waits like :meth:`poll`.

        Raises (nothing was written, not even the completions): TypeError,
        InvalidArgumentError (a bad ``max``, host id or wait, a lease of
        another Queue), ClosedError, BusyError (retryable), and the errors of
        :meth:`complete_many`.
        """
        return complete_and_poll(self, leases, host_id, max, wait, operation_types)

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


def _without_password(target: str) -> str:
    """`target` with a URL's or a conninfo's password masked: a repr ends up in
    logs and tracebacks (the library's own messages leave it out too)."""
    target = re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", target)
    return re.sub(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", target)
