"""The reading half of :class:`Queue`: retrieve, query, counts, attempts and wait_for.

A mixin of :class:`Queue` (``_queue.py``), which inherits these methods; it
owns no handle of its own and is not exported."""

from __future__ import annotations

from ctypes import byref, c_void_p
from datetime import datetime

from . import _convert as cv
from ._codes import ANY, TIME_NONE
from ._handle import _Native
from ._native import lib
from ._snapshot import take_attempts, take_counts, take_operation, take_operation_list
from ._types import Attempt, Count, Operation, State, Status

__all__ = ["_QueueReads"]


class _QueueReads(_Native):
    """Queue methods that read operations: one snapshot, a filtered list, the
    group counts, or a snapshot once an operation completes."""

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
        return take_operation(out.value)

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
        correlation_id: str | None = None,
        name_prefix: str | None = None,
    ) -> list[Operation]:
        """Lists the operations matching every given filter, in ascending id.

        ``name`` and ``dependency_token`` match exactly; ``completed_before``
        (a timezone-aware datetime) keeps those completed earlier; ``after_id``
        keeps ids greater than it (for paging with ``limit``).
        ``correlation_id`` matches exactly; ``name_prefix`` keeps names that
        start with it (case-sensitive, no wildcards; "" keeps all).
        """
        h = self._handle()
        st = ANY if state is None else cv.enum_code(state, State, "state")
        su = ANY if status is None else cv.enum_code(status, Status, "status")
        ot = ANY if operation_type is None else cv.i32(operation_type, "operation_type")
        name_b = cv.opt_text(name, "name")
        token = cv.opt_text(dependency_token, "dependency_token")
        corr = cv.opt_text(correlation_id, "correlation_id")
        prefix = cv.opt_text(name_prefix, "name_prefix")
        before = TIME_NONE if completed_before is None else cv.datetime_ms(completed_before, "completed_before")
        after = 0 if after_id is None else cv.i64(after_id, "after_id")
        lim = -1 if limit is None else cv.i64(limit, "limit")
        off = 0 if offset is None else cv.i64(offset, "offset")
        out = c_void_p()
        lib.asyncop_queue_query(h, st, su, ot, name_b, token, corr, prefix, before, after, lim, off, byref(out))
        return take_operation_list(out.value)

    def counts(self) -> list[Count]:
        """How many operations are in each (state, status, operation_type)
        group: non-empty groups only, sorted by those keys."""
        h = self._handle()
        out = c_void_p()
        lib.asyncop_queue_counts(h, byref(out))
        return take_counts(out.value)

    def attempts(self, id: int) -> list[Attempt]:
        """The attempts of operation ``id`` that ended in an error (a Retry or
        Failed report, or a lease expiry), oldest first: at most
        ``ATTEMPTS_KEPT`` (20), the newest. A later success does not erase
        them; deleting the operation does.

        Raises:
            NotFoundError: no operation has this id (a KeyError).
            InvalidArgumentError: id <= 0.
        """
        h = self._handle()
        op_id = cv.i64(id, "id")
        out = c_void_p()
        lib.asyncop_queue_attempts(h, op_id, byref(out))
        return take_attempts(out.value, op_id)

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
        return take_operation(out.value)
