"""How a :class:`Worker` thread runs one claimed job: the handler, the outcome
its end maps to (see the Worker's table), a stop requested before a prefetched
job started, and the deferred successes (settled after the claim that
completed them, or flushed when the thread ends)."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from datetime import timedelta
from typing import Any

from ._errors import TYPE_NOT_RECOGNIZED, AsyncopError, InvalidArgumentError, LeaseLostError
from ._job import Handler, Job, PermanentError, RetryableError, StopRequested, SuspendError
from ._lease import Lease, _describe
from ._queue import Queue
from ._stop_relay import StopRelay
from ._types import Status, StopReason

log = logging.getLogger("asyncop.worker")


class _JobRuns:
    """The Worker's methods that run one job (a mixin of :class:`Worker`)."""

    host_id: str
    queue: Queue
    _handlers: dict[int, Handler]
    _lock: threading.Lock
    _active: dict[int, Job]

    def _count(self, key: str) -> None:
        raise NotImplementedError

    def _run(self, job: Job, relay: StopRelay) -> bool:
        """Runs ``job`` and reports its outcome; True for a success whose
        completion waits for the thread's next claim (the lease then stays
        open and renewed until :meth:`Worker._settle`)."""
        lease = job.lease
        deferred = False
        try:
            handler = self._handlers.get(lease.operation_type)
            if handler is None:
                lease.fail(
                    f"The operation type of the async operation was not recognized. (type {lease.operation_type})",
                    error_code=TYPE_NOT_RECOGNIZED,
                )
                self._count("unrecognized")
                return False
            if job._prefetched and (job.stop_requested.is_set() or lease.stop_requested() != StopReason.NONE):
                # Paused, canceled, lost or shut down while it waited its turn: never run.
                self._stop_at_safe_point(job, started=False)
                return False
            relay.watch(job)
            try:
                try:
                    result = handler(job)
                finally:
                    relay.unwatch()
            except StopRequested:
                self._stop_at_safe_point(job)
            except PermanentError as e:
                status = lease.fail(str(e) or None, error_code=e.error_code, detail=_traceback())
                self._log_failure(lease, status, e)
                self._count("failed")
            except SuspendError as e:
                lease.suspend(str(e) or None, error_code=e.error_code)
                self._count("suspended")
            except RetryableError as e:
                status = lease.retry(str(e) or None, error_code=e.error_code, at=e.retry_at, detail=_traceback())
                self._log_failure(lease, status, e)
                self._count("retried")
            except Exception as e:  # noqa: BLE001 - every other failure is retryable
                status = lease.retry(_describe(e), detail=_traceback())
                self._log_failure(lease, status, e)
                self._count("retried")
            else:
                deferred = self._complete(lease, result)
                if not deferred:
                    self._count("completed")
        except LeaseLostError:
            log.warning(
                "asyncop worker %s: lost the lease of operation %d; its result was dropped", self.host_id, lease.id
            )
            self._count("lease_lost")
        except AsyncopError:
            # e.g. BusyError on the outcome: the lease expires and the operation is retried.
            log.exception("asyncop worker %s: reporting operation %d failed", self.host_id, lease.id)
            self._count("errors")
        finally:
            relay.unwatch()
            if not deferred:
                self._forget(job)
        return deferred

    def _settle(self, done: list[Job], results: list[AsyncopError | None]) -> None:
        """Counts and forgets the deferred successes of one committed batch."""
        for job, error in zip(done, results):
            if error is None:
                self._count("completed")
            elif isinstance(error, LeaseLostError):
                log.warning(
                    "asyncop worker %s: lost the lease of operation %d; its result was dropped", self.host_id, job.id
                )
                self._count("lease_lost")
            else:
                log.error("asyncop worker %s: completing operation %d failed: %s", self.host_id, job.id, error)
                self._count("errors")
            self._forget(job)
        done.clear()

    def _flush(self, done: list[Job]) -> None:
        """Completes the deferred successes of a thread that ends."""
        if not done:
            return
        try:
            results: list[AsyncopError | None] = self.queue.complete_many([job.lease for job in done])
        except AsyncopError as e:
            # Not written: the leases expire and the jobs run again (at-least-once).
            log.error("asyncop worker %s: completing %d finished operations failed: %s", self.host_id, len(done), e)
            results = [e] * len(done)
        self._settle(done, results)

    def _forget(self, job: Job) -> None:
        """The job's lease is ended: no more renewals, the handle is freed."""
        with self._lock:
            self._active.pop(job.id, None)
        job.lease.close()

    def _log_failure(self, lease: Lease, status: Status, exc: BaseException) -> None:
        """A failed attempt at WARNING; a final failure at ERROR with the traceback."""
        if status == Status.FAILED:
            log.error(
                "asyncop worker %s: operation %d (type %d) failed for good on attempt %d: %s",
                self.host_id,
                lease.id,
                lease.operation_type,
                lease.attempt,
                _describe(exc),
                exc_info=exc,
            )
        else:
            log.warning(
                "asyncop worker %s: operation %d (type %d) attempt %d failed (%s): %s",
                self.host_id,
                lease.id,
                lease.operation_type,
                lease.attempt,
                status.name,
                _describe(exc),
            )

    def _complete(self, lease: Lease, result: Any) -> bool:
        """Completes with the handler's return value as output, or without one
        if it cannot be stored (logged at ERROR). A success without output is
        not written here: True tells the caller to complete it with the
        thread's next claim (one transaction)."""
        try:
            output = _output_of(result)
        except (TypeError, ValueError) as e:
            log.error(
                "asyncop worker %s: operation %d returned a value that cannot be stored as output (%s); "
                "completed without it",
                self.host_id,
                lease.id,
                _describe(e),
            )
            output = None
        if output is not None:
            try:
                lease.complete(output)
                return False
            except InvalidArgumentError as e:
                log.error(
                    "asyncop worker %s: operation %d: its output was refused (%s); completed without it",
                    self.host_id,
                    lease.id,
                    e,
                )
        return True

    def _stop_at_safe_point(self, job: Job, started: bool = True) -> None:
        status = job.lease.renew()  # the latest request wins (a pause may have become a cancel)
        if status == Status.CANCELING:
            job.lease.acknowledge_cancel()
            self._count("canceled")
        elif status == Status.PAUSING:
            job.lease.acknowledge_pause()
            self._count("paused")
        elif started:
            job.lease.retry(f"stopped before finishing ({job.stop_reason or 'StopRequested'})")
            self._count("retried")
        else:
            # A prefetched job the worker gives back (a shutdown past its timeout):
            # claimable again at once; the attempt counts, as any released lease.
            job.lease.retry(f"released before it started ({job.stop_reason})", at=timedelta(0))
            self._count("released")



def _output_of(value: Any) -> bytes | None:
    """A handler's return value as output: bytes-like as is, str as UTF-8,
    None as nothing, anything else as JSON (TypeError/ValueError if it is not)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def _traceback() -> str:
    """The exception being handled, formatted as a traceback that can be stored
    (NULs and unencodable characters escaped)."""
    text = traceback.format_exc()
    return text.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")
