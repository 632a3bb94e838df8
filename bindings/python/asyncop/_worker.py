"""Worker: runs handler functions for claimed operations on a pool of threads.

What a handler receives (Job) and the exceptions it raises live in ``_job.py``;
how one job runs and ends in ``_worker_jobs.py``."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from . import _convert as cv
from ._codes import POLL_MAX
from ._errors import AsyncopError, BusyError, ClosedError, ForkedError, LeaseLostError
from ._job import Handler, Job, PermanentError, RetryableError, StopRequested, SuspendError
from ._types import Status
from ._queue import Queue
from ._stop_relay import StopRelay
from ._worker_jobs import _JobRuns

#: The default :class:`Worker` ``prefetch``: jobs one thread claims at once.
DEFAULT_PREFETCH = 16

__all__ = ["Worker", "Job", "Handler", "StopRequested", "RetryableError", "PermanentError", "SuspendError"]

log = logging.getLogger("asyncop.worker")


class Worker(_JobRuns):
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

    **One commit per job.** A thread completes each success (a handler that
    returned None) in the same transaction as its next claim
    (:meth:`Queue.complete_and_poll`), and claims up to ``prefetch`` jobs at
    once, so several completions and the next claim share one commit. Failed,
    retried, suspended and stopped jobs, and successes with an output, are
    written at once. Prefetched jobs wait their turn on their thread; their
    leases are renewed like running ones, and one paused or canceled (or whose
    lease was lost) before it started is acknowledged without running. A crash
    between a success and the thread's next claim loses that completion: the
    lease expires and the job runs again (at-least-once, as always).
    ``prefetch=1`` claims one job at a time (still completing it with the next
    claim); use it for long jobs, so that one thread does not hold work that
    another idle thread could run.

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
        prefetch: jobs one thread claims at once (1..256, default
            ``DEFAULT_PREFETCH``).
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
        prefetch: int = DEFAULT_PREFETCH,
    ) -> None:
        self._handlers: dict[int, Handler] = cv.handler_map(handlers, "callable")
        self._threads_wanted = cv.integer(threads, "threads", 1, 1024)
        self.host_id: str = cv.host_id(host_id)
        """The host id this worker claims under."""
        self._poll_wait = cv.duration_ms(poll_wait, "poll_wait") / 1000.0
        self._claim_unhandled = cv.flag(claim_unhandled, "claim_unhandled")
        self._prefetch = cv.integer(prefetch, "prefetch", 1, min(256, POLL_MAX))
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
        # Claimed jobs not started yet, shared by the threads (any idle thread
        # takes the next), and whether a thread is in a waiting claim.
        self._queued: deque[Job] = deque()
        self._turns = threading.Condition(self._lock)
        self._claim_waiting = False

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
        Prefetched jobs that had not started yet are run first (they are
        claimed already), and the successes still waiting for a claim are
        completed, so a clean stop leaves no lease behind.

        If ``timeout`` seconds pass first, the running handlers are asked to
        stop (their :attr:`Job.stop_requested` is set, reason "shutdown"; a
        handler that then raises StopRequested is released for a retry), the
        prefetched jobs not started yet are given back without running (a
        retry due at once; the attempt counts), their leases keep being
        renewed meanwhile, and False is returned: call stop() again to wait for
        them.
        """
        self._stopping.set()
        with self._turns:
            self._turns.notify_all()
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
        done: list[Job] = []  # this thread's successes, completed with its next claim
        try:
            while True:
                job = self._next_job(done, types)
                if job is None:
                    return
                if self._run(job, relay):
                    done.append(job)
        finally:
            self._flush(done)

    def _next_job(self, done: list[Job], types: list[int] | None) -> Job | None:
        """The next job to run: a claimed one not started yet, else the first
        of a new claim (which also completes ``done``; the rest of the batch
        goes to the shared queue). A thread that just finished a job claims at
        once without waiting (so busy threads claim side by side, and their
        commits can share a sync); when that finds nothing, one thread at a
        time waits in the library for work and the others wait here until it
        hands some out. None: stop (the worker stops and nothing is queued, or
        the queue is gone)."""
        fresh = True
        while True:
            with self._turns:
                if self._queued:
                    return self._queued.popleft()
                if self._stopping.is_set():
                    return None
                waits = not fresh
                if waits:
                    if self._claim_waiting:
                        self._turns.wait(self._poll_wait)
                        continue
                    self._claim_waiting = True
            try:
                claimed = self._claim(done, types, self._poll_wait if waits else None)
            finally:
                if waits:
                    with self._turns:
                        self._claim_waiting = False
                        self._turns.notify_all()
            if claimed is None:
                return None
            if claimed:
                with self._turns:
                    self._queued.extend(claimed[1:])
                    self._turns.notify_all()
                return claimed[0]
            fresh = False

    def _claim(self, done: list[Job], types: list[int] | None, wait: float | None) -> list[Job] | None:
        """Completes ``done`` and claims the next jobs in one transaction;
        None when the queue is closed. On a failure nothing was written:
        ``done`` is kept (still renewed) for the next try."""
        try:
            results, leases = self.queue.complete_and_poll(
                [job.lease for job in done],
                self.host_id,
                max=self._prefetch,
                wait=wait,
                operation_types=types,
            )
        except (ClosedError, ForkedError):
            return None
        except BusyError:
            return []
        except Exception:  # noqa: BLE001 - keep the thread alive, say why, back off
            log.exception("asyncop worker %s: poll failed", self.host_id)
            self._count("errors")
            self._stopping.wait(self._poll_wait)
            return []
        self._settle(done, results)
        jobs = [Job(lease, self._renew_every) for lease in leases]
        for job in jobs[1:]:
            job._prefetched = True
            try:
                job.lease.stop_requested()  # watch it while it waits its turn
            except AsyncopError:
                pass  # checked again before it starts
        with self._lock:
            for job in jobs:
                self._active[job.id] = job
        return jobs

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
