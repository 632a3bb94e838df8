"""The user actions of :class:`Queue`: cancel, pause, resume, postpone,
set_postpone_until, delete, the generic set_state, and set_recurrence.

A mixin of :class:`Queue` (``_queue.py``), which inherits these methods; it
owns no handle of its own and is not exported."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import _convert as cv
from ._codes import STATUS_NONE
from ._errors import ErrorCode, InvalidArgumentError
from ._handle import _Native
from ._native import lib
from ._types import State, Status

__all__ = ["_QueueActions"]


class _QueueActions(_Native):
    """Queue methods that steer one operation; a refusal raises and changes nothing."""

    def _when(self, value: Any, what: str) -> int:  # provided by Queue
        raise NotImplementedError

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
            InvalidArgumentError: an unknown code (``-1`` too: leave ``status``
                out, or pass None, for the state's default) or a status of
                another state.
        """
        h = self._handle()
        op_id = cv.i64(id, "id")
        st = cv.enum_code(state, State, "state")
        if status is None:
            su = STATUS_NONE
        else:
            su = cv.enum_code(status, Status, "status")
            if su == STATUS_NONE:
                # The C ABI's "no status" sentinel is not a status: None says that.
                raise InvalidArgumentError(f"{su} is not a status code", ErrorCode.OUT_OF_RANGE)
        lib.asyncop_queue_set_state(h, op_id, st, su)

    def set_recurrence(self, id: int, pattern: str) -> None:
        """Gives a recurring series a new pattern (same syntax as
        ``submit(recurrence=...)``). It takes effect at the next scheduling,
        counted from the series' ``recurrence_start``; a pending
        ``postpone_until`` stays.

        Raises, in this order:
            CannotUpdateNonrecurringError: a one-shot operation (0x80044168).
            CannotUpdateRecurringError: its type is not in the queue's
                ``recurrence_updatable_types`` (none by default; 0x80044169).
            InvalidStateChangeError: the series is Completed (0x80044162).
            InvalidArgumentError: a malformed or empty pattern.
            NotFoundError: no operation has this id.
        """
        h = self._handle()
        op_id = cv.i64(id, "id")
        lib.asyncop_queue_set_recurrence(h, op_id, cv.text(pattern, "pattern"))
