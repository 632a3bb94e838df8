"""AsyncWorker: runs ``async def`` handlers for claimed operations as tasks of
one event loop, with the outcomes of the threaded :class:`Worker`. Claims,
renewals and outcomes are library calls made on worker threads through
:class:`AsyncQueue`, so the loop never blocks."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from . import _convert as cv
from ._aio import WAIT_SLICE, AsyncQueue
from ._errors import TYPE_NOT_RECOGNIZED, AsyncopError, ClosedError, ForkedError, LeaseLostError
from ._job import Job, PermanentError, RetryableError, StopRequested, SuspendError
from ._lease import Lease, _describe
from ._queue import Queue
from ._types import Status
from ._worker_jobs import _output_of

__all__ = ["AsyncHandler", "AsyncWorker"]

log = logging.getLogger("asyncop.worker")

#: An ``async def handler(job)``: its return value becomes the output, its
#: exception the outcome, as for :class:`Worker`.
AsyncHandler = Callable[[Job], Awaitable[Any]]


class AsyncWorker:
    """Runs ``async def`` handlers, one per operation type, as asyncio tasks.

    >>> async def resize(job: asyncop.Job) -> None:           # doctest: +SKIP
    ...     await do_the_work(job.payload)
    >>> worker = asyncop.AsyncWorker("jobs.db", {100: resize}, concurrency=20)
    >>> asyncio.run(worker.run())   # until worker.stop(), SIGTERM handling is yours

    :meth:`run` claims up to ``concurrency`` operations at a time and runs
    each handler as a task; a handler's end maps to an outcome exactly as in
    :class:`Worker`'s table (a return value completes, ``PermanentError``
    fails, ``SuspendError`` suspends, ``RetryableError`` and any other
    exception retry, ``StopRequested`` acknowledges a pause or cancel). One
    more task renews the leases every ``renew_every`` seconds and sets
    :attr:`Job.stop_requested` on a pause/cancel request or a lost lease; a
    handler checks :meth:`Job.should_stop` at its safe points (use
    ``asyncio.sleep``, not :meth:`Job.sleep`, which blocks).

    :meth:`stop` ends claiming; :meth:`run` returns once the running
    handlers finished and reported. Cancelling the task that awaits
    :meth:`run` (Ctrl-C under ``asyncio.run``) cancels the running handlers
    instead; each is given back (a retry due at once) and :meth:`run`
    re-raises the cancellation.

    Args:
        queue: an :class:`AsyncQueue`, a :class:`Queue`, or a path the worker
            opens (with ``queue_options``) and closes when :meth:`run` ends.
        handlers: ``{operation_type: async handler}``.
        concurrency: most handlers running at once (1..4096).
        host_id: this host's name (default ``hostname:pid``).
        renew_every: lease renewal period in seconds (default lease / 3).
        queue_options: keyword arguments for :class:`Queue` when given a path.
    """

    def __init__(
        self,
        queue: AsyncQueue | Queue | str | os.PathLike[str],
        handlers: Mapping[int, AsyncHandler],
        *,
        concurrency: int = 10,
        host_id: str | None = None,
        renew_every: cv.Duration | None = None,
        queue_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._handlers: dict[int, AsyncHandler] = cv.handler_map(handlers, "async callable")
        self._concurrency = cv.integer(concurrency, "concurrency", 1, 4096)
        self.host_id: str = cv.host_id(host_id)
        """The host id this worker claims under."""
        self._owns_queue = not isinstance(queue, (AsyncQueue, Queue))
        if isinstance(queue, AsyncQueue):
            if queue_options:
                raise TypeError("queue_options apply only when the worker opens the queue from a path")
            self.queue: AsyncQueue = queue
            """The queue it claims from."""
        elif isinstance(queue, Queue):
            if queue_options:
                raise TypeError("queue_options apply only when the worker opens the queue from a path")
            self.queue = AsyncQueue(queue)
        else:
            self.queue = AsyncQueue(queue, **dict(queue_options or {}))
        lease_s = self.queue.sync.lease.total_seconds()
        self._renew_every = lease_s / 3 if renew_every is None else cv.duration_ms(renew_every, "renew_every") / 1000.0
        if not 0 < self._renew_every < lease_s:
            raise ValueError(f"renew_every must be more than 0 and less than the lease ({lease_s} s)")
        self._stopping = asyncio.Event()
        self._jobs: dict[int, Job] = {}
        self._stats: Counter[str] = Counter()

    @property
    def stats(self) -> dict[str, int]:
        """Counts of outcomes reported so far: completed, failed, retried,
        suspended, paused, canceled, unrecognized, released, lease_lost, errors."""
        return dict(self._stats)

    def stop(self) -> None:
        """Stops claiming; :meth:`run` returns once the running handlers ended.
        Call it from the loop's thread (or with ``loop.call_soon_threadsafe``)."""
        self._stopping.set()

    async def run(self) -> None:
        """Claims and runs operations until :meth:`stop` (see the class notes)."""
        running: set[asyncio.Task[None]] = set()
        renewer = asyncio.create_task(self._renew_loop())
        types = list(self._handlers)
        try:
            while not self._stopping.is_set():
                free = self._concurrency - len(running)
                if free == 0:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                leases = await self._claim(free, types)
                for lease in leases:
                    job = Job(lease, self._renew_every)
                    self._jobs[job.id] = job
                    task = asyncio.create_task(self._run_job(job), name=f"asyncop-job-{job.id}")
                    running.add(task)
                    task.add_done_callback(running.discard)
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        except asyncio.CancelledError:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            raise
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            if self._owns_queue:
                await self.queue.close()

    async def _claim(self, free: int, types: list[int]) -> list[Lease]:
        try:
            return await self.queue.poll(self.host_id, max=free, wait=WAIT_SLICE, operation_types=types)
        except (ClosedError, ForkedError):
            self._stopping.set()
        except AsyncopError:
            log.exception("asyncop async worker %s: poll failed", self.host_id)
            self._stats["errors"] += 1
            await asyncio.sleep(WAIT_SLICE)
        return []

    async def _run_job(self, job: Job) -> None:
        lease = job.lease
        try:
            handler = self._handlers.get(lease.operation_type)
            if handler is None:  # claimed only for its types; kept for safety
                message = f"The operation type of the async operation was not recognized. (type {lease.operation_type})"
                await self.queue.run(lease.fail, message, error_code=TYPE_NOT_RECOGNIZED)
                self._stats["unrecognized"] += 1
                return
            try:
                result = await handler(job)
            except asyncio.CancelledError:
                await self.queue.run(lease.retry, "worker stopped before the handler finished", at=timedelta(0))
                self._stats["released"] += 1
                return
            except Exception as e:  # noqa: BLE001 - mapped to an outcome
                key = await self.queue.run(_report_failure, job, e, self.host_id)
            else:
                key = await self.queue.run(_report_success, lease, result, self.host_id)
            self._stats[key] += 1
        except LeaseLostError:
            log.warning(
                "asyncop async worker %s: lost the lease of operation %d; its result was dropped",
                self.host_id,
                lease.id,
            )
            self._stats["lease_lost"] += 1
        except AsyncopError:
            log.exception("asyncop async worker %s: reporting operation %d failed", self.host_id, lease.id)
            self._stats["errors"] += 1
        finally:
            self._jobs.pop(job.id, None)
            lease.close()

    async def _renew_loop(self) -> None:
        tick = max(0.005, min(self._renew_every / 4, 0.5))
        while True:
            now = time.monotonic()
            for job in [j for j in self._jobs.values() if j._next_renew <= now]:
                job._next_renew = now + self._renew_every
                try:
                    status = await self.queue.run(job.lease.renew)
                except LeaseLostError:
                    job._request_stop("lease lost")
                except (ClosedError, ForkedError):
                    pass  # finished meanwhile
                except AsyncopError:
                    job._next_renew = now  # e.g. busy: again at the next tick
                else:
                    if status in (Status.PAUSING, Status.CANCELING):
                        job._request_stop(status)
            await asyncio.sleep(tick)


def _report_success(lease: Lease, result: Any, host_id: str) -> str:
    """Completes with the handler's return value as output (without it, logged,
    if it cannot be stored); the stats key."""
    try:
        output = _output_of(result)
    except (TypeError, ValueError) as e:
        log.error("asyncop async worker %s: operation %d output not storable (%s)", host_id, lease.id, _describe(e))
        output = None
    lease.complete(output)
    return "completed"


def _report_failure(job: Job, exc: Exception, host_id: str) -> str:
    """Reports the outcome a handler exception maps to (the :class:`Worker`
    table) and logs it; the stats key."""
    lease = job.lease
    detail = "".join(traceback.format_exception(exc)).replace("\x00", "\\0")
    if isinstance(exc, StopRequested):
        status = lease.renew()
        if status == Status.CANCELING:
            lease.acknowledge_cancel()
            return "canceled"
        if status == Status.PAUSING:
            lease.acknowledge_pause()
            return "paused"
        lease.retry(f"stopped before finishing ({job.stop_reason or 'StopRequested'})")
        return "retried"
    if isinstance(exc, SuspendError):
        lease.suspend(str(exc) or None, error_code=exc.error_code)
        return "suspended"
    if isinstance(exc, PermanentError):
        status = lease.fail(str(exc) or None, error_code=exc.error_code, detail=detail)
        key = "failed"
    elif isinstance(exc, RetryableError):
        status = lease.retry(str(exc) or None, error_code=exc.error_code, at=exc.retry_at, detail=detail)
        key = "retried"
    else:
        status = lease.retry(_describe(exc), detail=detail)
        key = "retried"
    if status == Status.FAILED:
        log.error(
            "asyncop async worker %s: operation %d (type %d) failed for good on attempt %d: %s",
            host_id,
            lease.id,
            lease.operation_type,
            lease.attempt,
            _describe(exc),
            exc_info=exc,
        )
        return "failed"
    log.warning(
        "asyncop async worker %s: operation %d (type %d) attempt %d failed (%s): %s",
        host_id,
        lease.id,
        lease.operation_type,
        lease.attempt,
        status.name,
        _describe(exc),
    )
    return key
