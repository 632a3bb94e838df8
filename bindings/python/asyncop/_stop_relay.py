"""StopRelay: sets a running Job's ``stop_requested`` the moment the library's
stop signal fires (a user paused or canceled the operation, or its lease was
lost), instead of at the next lease renewal. One per handler thread of a
:class:`Worker`; the signal itself is the library's (``Lease.wait_stop``)."""

from __future__ import annotations

import logging
import threading

from ._errors import AsyncopError
from ._job import Job
from ._types import Status, StopReason

__all__ = ["StopRelay"]

log = logging.getLogger("asyncop.worker")

#: How long one blocking wait lasts; the wait also returns at once when the
#: job's outcome is reported or its lease is closed.
_WAIT_SLICE = 1.0

_REASONS: dict[StopReason, Status | str] = {
    StopReason.PAUSE: Status.PAUSING,
    StopReason.CANCEL: Status.CANCELING,
    StopReason.LEASE_LOST: "lease lost",
}


class StopRelay:
    """A thread that blocks in ``Lease.wait_stop`` (the GIL released) for the
    job its handler thread runs, and relays a stop to ``Job._request_stop``."""

    def __init__(self, name: str) -> None:
        self._cond = threading.Condition()
        self._job: Job | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def watch(self, job: Job) -> None:
        """Relays the stop of ``job`` from now until :meth:`unwatch`."""
        with self._cond:
            self._job = job
            self._cond.notify()

    def unwatch(self) -> None:
        """Stops relaying (call before reporting the job's outcome)."""
        with self._cond:
            self._job = None

    def close(self) -> None:
        """Ends the thread (after the handler thread ended)."""
        with self._cond:
            self._closed = True
            self._job = None
            self._cond.notify()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._job
            if job is None:  # not reached: the wait above ends with a job or closed
                continue
            try:
                reason = job.lease.wait_stop(_WAIT_SLICE)
            except AsyncopError:
                # The lease was closed or the queue is gone: nothing to relay.
                reason = StopReason.NONE
                self._forget(job)
            except Exception:  # noqa: BLE001 - keep relaying for the next jobs
                log.exception("asyncop worker: watching operation %d for a stop failed", job.id)
                reason = StopReason.NONE
                self._forget(job)
            if reason != StopReason.NONE:
                job._request_stop(_REASONS[reason])
                self._forget(job)

    def _forget(self, job: Job) -> None:
        with self._cond:
            if self._job is job:
                self._job = None
