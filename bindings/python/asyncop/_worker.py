"""Worker: runs handler functions for claimed operations on a pool of threads.

What a handler receives (Job) and the exceptions it raises live in ``_job.py``."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from . import _convert as cv
from ._errors import (
    TYPE_NOT_RECOGNIZED,
    AsyncopError,
    BusyError,
    ClosedError,
    ForkedError,
    InvalidArgumentError,
    LeaseLostError,
)
from ._job import Handler, Job, PermanentError, RetryableError, StopRequested, SuspendError
from ._lease import Lease, _describe
from ._queue import Queue
from ._stop_relay import StopRelay
from ._types import Status

__all__ = ["Worker", "Job", "Handler", "StopRequested", "RetryableError", "PermanentError", "SuspendError"]

log = logging.getLogger("asyncop.worker")


class Worker:
    """Runs one handler function per operation type on a pool of threads.

    Each thread polls the queue, runs the handler for the claimed operation and
    reports the outcome; one more thread renews the leases of running handlers
    every ``renew_every`` seconds (default a third of the queue's lease).

    A pause, postpone or cancel of a running operation (or the loss of its
    lease) sets :attr:`Job.stop_requested` at once: the library learns it
    through the same change signal that wakes a waiting poll (within about a
    millisecond in one process, a few milliseconds from another process), not
    at the next renewal; a handler in :meth:`Job.sleep`, :meth:`Job.checkpoint`
    or :meth:`Job.should_stop` then stops. Each handler thread has a companion
    thread that blocks in the library (without the GIL) for this.

    Outcomes, by how the handler ends:

    ==============================  =============================================
    returns a value                 ``complete(output)`` → 3/30 Succeeded, the
                                    value stored as the operation's output:
                                    bytes as is, str as UTF-8, None nothing,
                                    anything else as JSON (``json.dumps``)
    raises PermanentError           ``fail(message, error_code)`` → 3/31 Failed
    raises SuspendError             ``suspend(message, error_code)`` → 1/10
    raises RetryableError           ``retry(message, error_code, retry_at)``
    raises any other Exception      ``retry("Type: text")``: retryable by default
    raises StopRequested            on a pause request ``acknowledge_pause()``;
                                    on a cancel request ``acknowledge_cancel()``;
                                    otherwise ``retry()``
    no handler for the type         ``fail(error_code=0x80044303)``
                                    (AsyncOperationTypeIsNotRecognized, §6.5)
    ==============================  =============================================

    A handler exception is logged (logger ``asyncop.worker``): a failed attempt
    that will be retried at WARNING (one line), a final failure (a
    PermanentError, or a retry with the budget spent) at ERROR with the
    traceback; the traceback is stored as the attempt's ``detail`` in
    :meth:`Queue.attempts`. An output that cannot be stored (not JSON
    serialisable, or over ``OUTPUT_MAX_BYTES``) is logged at ERROR and the
    operation completes without it.

    By default the worker claims only the types it has handlers for, so other
    types stay Ready for other hosts. With ``claim_unhandled=True`` it claims
    every type and fails the ones it cannot run with 0x80044303.

    **The GIL and leases.** Renewal runs on a Python thread, so it needs the
    GIL. A handler that holds the GIL longer than the lease (a long pure-Python
    loop does release it every few milliseconds, but a C extension call that
    does not release it blocks every other thread) starves the renewal thread:
    the lease expires, another host may claim and run the operation, and this
    handler's outcome then raises :class:`LeaseLostError` inside the worker,
    which logs it and drops the result (the fencing token guarantees it cannot
    overwrite the other attempt). Keep GIL-holding calls shorter than the lease,
    or give such queues a longer ``lease``.

    Args:
        queue_or_path: a :class:`Queue`, or a path the worker opens (with
            ``queue_options``) and closes on :meth:`stop`.
        handlers: ``{operation_type: handler}``.
        threads: number of handler threads.
        host_id: this host's name (default ``hostname:pid``).
        poll_wait: how long one poll waits for work (seconds); it bounds how
            quickly :meth:`stop` is noticed by idle threads.
        renew_every: lease renewal period in seconds (default lease / 3).
        claim_unhandled: also claim types without a handler (to fail them).
        queue_options: keyword arguments for :class:`Queue` when given a path.
    """

    def __init__(
        self,
        queue_or_path: Queue | str | os.PathLike[str],
        handlers: Mapping[int, Handler],
        *,
        threads: int = 4,
        host_id: str | None = None,
        poll_wait: cv.Duration = 1.0,
        renew_every: cv.Duration | None = None,
        claim_unhandled: bool = False,
        queue_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(handlers, Mapping):
            raise TypeError(f"handlers must be a mapping of operation type to callable, not {type(handlers).__name__}")
        self._handlers: dict[int, Handler] = {}
        for op_type, handler in handlers.items():
            if not callable(handler):
                raise TypeError(f"the handler for type {op_type!r} is not callable")
            self._handlers[cv.i32(op_type, "operation type")] = handler
        self._threads_wanted = cv.integer(threads, "threads", 1, 1024)
        self.host_id: str = f"{socket.gethostname()}:{os.getpid()}" if host_id is None else host_id
        """The host id this worker claims under."""
        cv.text(self.host_id, "host_id")
        self._poll_wait = cv.duration_ms(poll_wait, "poll_wait") / 1000.0
        self._claim_unhandled = cv.flag(claim_unhandled, "claim_unhandled")
        if isinstance(queue_or_path, Queue):
            if queue_options:
                raise TypeError("queue_options apply only when the worker opens the queue from a path")
            self.queue: Queue = queue_or_path
            self._owns_queue = False
        else:
            self.queue = Queue(queue_or_path, **dict(queue_options or {}))
            self._owns_queue = True
        lease_s = self.queue.lease.total_seconds()
        self._renew_every = lease_s / 3 if renew_every is None else cv.duration_ms(renew_every, "renew_every") / 1000.0
        if not 0 < self._renew_every < lease_s:
            raise ValueError(f"renew_every must be more than 0 and less than the lease ({lease_s} s)")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake_renewer = threading.Event()
        self._active: dict[int, Job] = {}
        self._threads: list[threading.Thread] = []
        self._renewer: threading.Thread | None = None
        self._relays: list[StopRelay] = []
        self._stats: Counter[str] = Counter()

    # -- control --------------------------------------------------------------------

    def start(self) -> None:
        """Starts the handler threads and the renewal thread (once)."""
        if self._threads:
            raise RuntimeError("this worker was started already")
        self.queue._handle()  # ClosedError now rather than in every thread
        self._renewer = threading.Thread(target=self._renew_loop, name=f"asyncop-renew-{self.host_id}", daemon=True)
        self._renewer.start()
        for i in range(self._threads_wanted):
            relay = StopRelay(f"asyncop-stop-{i}")
            self._relays.append(relay)
            t = threading.Thread(target=self._work_loop, args=(relay,), name=f"asyncop-worker-{i}", daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stops polling, lets in-flight handlers finish, and returns True once
        every thread has ended (then closes the queue if the worker opened it).

        If ``timeout`` seconds pass first, the running handlers are asked to
        stop (their :attr:`Job.stop_requested` is set, reason "shutdown"; a
        handler that then raises StopRequested is released for a retry), their
        leases keep being renewed, and False is returned: call stop() again to
        wait for them.
        """
        self._stopping.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            with self._lock:
                jobs = list(self._active.values())
            for job in jobs:
                job._request_stop("shutdown")
            return False
        self._wake_renewer.set()
        if self._renewer is not None:
            self._renewer.join()
        for relay in self._relays:
            relay.close()
        if self._owns_queue:
            self.queue.close()
        return True

    def run_forever(self) -> None:
        """Starts the worker and blocks until SIGTERM (or Ctrl-C), then stops
        cleanly: in-flight handlers finish and report, and the call returns.
        The signal handler is installed only when called from the main thread
        (Python delivers signals there); the previous handler is restored."""
        previous: Any = None
        installed = threading.current_thread() is threading.main_thread()
        if installed:
            previous = signal.signal(signal.SIGTERM, lambda signum, frame: self._stopping.set())
        try:
            self.start()
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            try:
                self.stop()
            finally:
                if installed:
                    signal.signal(signal.SIGTERM, previous)

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def stats(self) -> dict[str, int]:
        """Counts of outcomes reported so far: completed, failed, retried,
        suspended, paused, canceled, unrecognized, lease_lost, errors."""
        with self._lock:
            return dict(self._stats)

    def _count(self, key: str) -> None:
        with self._lock:
            self._stats[key] += 1

    # -- threads --------------------------------------------------------------------

    def _work_loop(self, relay: StopRelay) -> None:
        types = None if self._claim_unhandled else list(self._handlers)
        while not self._stopping.is_set():
            try:
                leases = self.queue.poll(self.host_id, max=1, wait=self._poll_wait, operation_types=types)
            except (ClosedError, ForkedError):
                return  # the queue is gone for this process
            except BusyError:
                continue
            except Exception:  # noqa: BLE001 - keep the thread alive, say why, back off
                log.exception("asyncop worker %s: poll failed", self.host_id)
                self._count("errors")
                self._stopping.wait(self._poll_wait)
                continue
            for lease in leases:
                self._run(lease, relay)

    def _run(self, lease: Lease, relay: StopRelay) -> None:
        job = Job(lease, self._renew_every)
        with self._lock:
            self._active[lease.id] = job
        try:
            handler = self._handlers.get(lease.operation_type)
            if handler is None:
                lease.fail(
                    f"The operation type of the async operation was not recognized. (type {lease.operation_type})",
                    error_code=TYPE_NOT_RECOGNIZED,
                )
                self._count("unrecognized")
                return
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
                self._complete(lease, result)
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
            with self._lock:
                self._active.pop(lease.id, None)
            lease.close()

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

    def _complete(self, lease: Lease, result: Any) -> None:
        """Completes with the handler's return value as output, or without one
        if it cannot be stored (logged at ERROR)."""
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
                return
            except InvalidArgumentError as e:
                log.error(
                    "asyncop worker %s: operation %d: its output was refused (%s); completed without it",
                    self.host_id,
                    lease.id,
                    e,
                )
        lease.complete()

    def _stop_at_safe_point(self, job: Job) -> None:
        status = job.lease.renew()  # the latest request wins (a pause may have become a cancel)
        if status == Status.CANCELING:
            job.lease.acknowledge_cancel()
            self._count("canceled")
        elif status == Status.PAUSING:
            job.lease.acknowledge_pause()
            self._count("paused")
        else:
            job.lease.retry(f"stopped before finishing ({job.stop_reason or 'StopRequested'})")
            self._count("retried")

    def _renew_loop(self) -> None:
        tick = max(0.005, min(self._renew_every / 4, 0.5))
        while True:
            with self._lock:
                if self._stopping.is_set() and not self._active and not any(t.is_alive() for t in self._threads):
                    return
                now = time.monotonic()
                due = [job for job in self._active.values() if job._next_renew <= now]
            for job in due:
                job._next_renew = now + self._renew_every
                try:
                    status = job.lease.renew()
                except LeaseLostError:
                    job._request_stop("lease lost")
                except (ClosedError, ForkedError):
                    pass  # finished meanwhile, or the queue was closed
                except BusyError:
                    job._next_renew = now  # try again at the next tick
                except AsyncopError:
                    log.exception("asyncop worker %s: renewing operation %d failed", self.host_id, job.id)
                else:
                    if status in (Status.PAUSING, Status.CANCELING):
                        job._request_stop(status)
            self._wake_renewer.wait(tick)


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
