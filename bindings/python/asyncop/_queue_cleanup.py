"""The clean-up half of :class:`Queue`: purge, and holding whole operation types.

A mixin of :class:`Queue` (``_queue.py``), which inherits these methods; it
owns no handle of its own and is not exported."""

from __future__ import annotations

from ctypes import byref, c_int32, c_int64, c_size_t
from datetime import datetime

from . import _convert as cv
from ._codes import TIME_NONE, ErrorCode
from ._handle import _Native
from ._native import lib

__all__ = ["_QueueCleanup"]


class _QueueCleanup(_Native):
    """Queue methods of clean-up (retention) and held operation types."""

    def purge(self, now: datetime | None = None) -> int:
        """Deletes the Completed operations whose completion is older at ``now``
        (a timezone-aware datetime; default the queue's now) than the retention
        of their status (``retention=`` at open; 30 days Succeeded, 60 Failed,
        60 Canceled by default, ``"none"`` keeps forever), in short
        transactions of at most 500 rows. Returns how many were deleted. Hosts
        also purge from their polls at most hourly (``cleanup_enabled``)."""
        h = self._handle()
        at = TIME_NONE if now is None else cv.datetime_ms(now, "now")
        deleted = c_int64()
        lib.asyncop_queue_purge(h, at, byref(deleted))
        return deleted.value

    def hold_type(self, operation_type: int) -> None:
        """Holds every operation of ``operation_type``: claims of every process
        and host skip them until :meth:`release_type`. They keep their state
        and place; running ones are not touched; restricted types can be held.
        Holding a held type changes nothing.

        Raises:
            InvalidArgumentError: ``operation_type`` <= 0.
        """
        h = self._handle()
        lib.asyncop_queue_hold_type(h, cv.i32(operation_type, "operation_type"))

    def release_type(self, operation_type: int) -> None:
        """Releases a held type: its operations are claimable again, in their
        order, and waiting polls wake. Releasing a type not held changes nothing."""
        h = self._handle()
        lib.asyncop_queue_release_type(h, cv.i32(operation_type, "operation_type"))

    def held_types(self) -> list[int]:
        """The held operation types, ascending."""
        h = self._handle()
        n = c_size_t()
        while True:
            cap = n.value
            array = (c_int32 * cap)() if cap else None
            status = lib.asyncop_queue_held_types(h, array, cap, byref(n))
            if status != ErrorCode.BUFFER_TOO_SMALL and array is not None:
                return list(array[: n.value])
            if status != ErrorCode.BUFFER_TOO_SMALL:
                return []
