"""The observing half of :class:`Queue`: the event callback and the library's
metrics in the Prometheus text format.

A mixin of :class:`Queue` (``_queue.py``); it owns no handle of its own and
is not exported. The ctypes callback object is kept on the queue, so C never
calls a freed trampoline."""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import _convert as cv
from ._codes import ErrorCode, Status
from ._handle import _Native
from ._native import EVENT_FN, lib

__all__ = ["Event", "_QueueEvents"]

_KINDS = ("submitted", "claimed", "outcome", "user_action", "recovered", "purged")
_log = logging.getLogger("asyncop")


@dataclass(frozen=True)
class Event:
    """One change made through a queue, as handed to :meth:`Queue.on_event`."""

    kind: str
    """``"submitted"``, ``"claimed"``, ``"outcome"``, ``"user_action"``,
    ``"recovered"`` or ``"purged"``."""
    id: int
    """The operation; 0 for a batch event (recovered, purged)."""
    operation_type: int
    """The operation's type; 0 for a batch event."""
    from_status: Status | None
    """The status before (its state is ``status // 10``); None for a submit or a batch."""
    to_status: Status | None
    """The status after; None for a delete, a recovery or a purge."""
    host: str | None
    """The host of a claim or an outcome, else None."""
    at: datetime
    """When the change was written (UTC)."""
    count: int
    """1, or how many operations a batch event stands for."""


def _status(code: int) -> Status | None:
    return None if code < 0 else Status(code)


class _QueueEvents(_Native):
    """Queue methods of the event callback and the metrics."""

    _event_trampolines: list[Any]

    def on_event(self, callback: Callable[[Event], object] | None) -> None:
        """Calls ``callback(event)`` for every change made through this queue:
        submits, claims, host outcomes, user actions, recoveries, purges.
        Replaces the previous callback; ``None`` removes it.

        It runs on the thread that made the change (a worker thread too), right
        after the change committed and outside the store's locks, so it may
        call the queue; it delays that call, so keep it quick. An exception it
        raises is logged (logger ``"asyncop"``) and otherwise ignored: the
        change stands and the queue goes on."""
        h = self._handle()
        if callback is None:
            lib.asyncop_queue_set_event_callback(h, EVENT_FN(), None)
            return

        def trampoline(
            _user: Any, kind: int, op_id: int, op_type: int, frm: int, to: int, host: bytes | None, at: int, n: int
        ) -> None:
            try:
                event = Event(
                    kind=_KINDS[kind] if 0 <= kind < len(_KINDS) else str(kind),
                    id=op_id,
                    operation_type=op_type,
                    from_status=_status(frm),
                    to_status=_status(to),
                    host=None if host is None else host.decode("utf-8", "replace"),
                    at=cv.to_datetime(at),
                    count=n,
                )
                callback(event)
            except BaseException:  # never let an exception reach C
                _log.exception("asyncop: the event callback raised")

        fn = EVENT_FN(trampoline)
        lib.asyncop_queue_set_event_callback(h, fn, None)
        # Kept for the queue's life: a call in flight on another thread may still use an old one.
        self._event_trampolines.append(fn)

    def metrics_text(self, labels: str = "") -> str:
        """The library's counters and latency histograms of this queue (this
        process, since it was opened) in the Prometheus text format, e.g. to
        append to a ``/metrics`` page. ``labels`` (e.g. ``'queue="jobs"'``) is
        added to every series as given. Names: see the README's "Metrics and events"."""
        h = self._handle()
        raw = cv.text(labels, "labels")
        n = ctypes.c_size_t()
        while True:
            cap = n.value + 1 if n.value else 0
            buf = ctypes.create_string_buffer(cap) if cap else None
            status = lib.asyncop_queue_metrics_prometheus(h, raw, buf, cap, ctypes.byref(n))
            if status != ErrorCode.BUFFER_TOO_SMALL:
                return "" if buf is None else buf.raw[: n.value].decode("utf-8")
