"""Worker: threads, exactly-once completion, exception mapping, background
renewal, pause/cancel at a safe point, clean shutdown."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Callable

import pytest

import asyncop
from asyncop import State, Status

TYPE = 7

# Every test here runs against SQLite and PostgreSQL (conftest.py: ``db`` / ``queue``).
pytestmark = pytest.mark.both_stores


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_several_threads_complete_thousands_exactly_once(queue: asyncop.Queue, store: str) -> None:
    # A server round trip per commit: a few hundred prove the same on PostgreSQL.
    n = 3000 if store == "sqlite" else 400
    ids = queue.submit_many([asyncop.OperationSpec(f"op{i}", TYPE, i.to_bytes(4, "big")) for i in range(n)])
    runs: Counter[int] = Counter()
    threads_seen: set[str] = set()
    lock = threading.Lock()

    def handler(job: asyncop.Job) -> None:
        assert int.from_bytes(job.payload, "big") == job.id - ids[0]
        with lock:
            runs[job.id] += 1
            threads_seen.add(threading.current_thread().name)

    worker = asyncop.Worker(queue, {TYPE: handler}, threads=4, poll_wait=0.05)
    worker.start()
    wait_until(lambda: sum(c.count for c in queue.counts() if c.state == State.COMPLETED) == n, 120)
    assert worker.stop(timeout=30)
    assert sorted(runs) == ids and set(runs.values()) == {1}
    assert worker.stats == {"completed": n}
    assert queue.counts() == [asyncop.Count(State.COMPLETED, Status.SUCCEEDED, TYPE, n)]
    assert len(threads_seen) > 1
    assert not queue.closed  # a queue given to the worker stays open


def test_exception_mapping(queue: asyncop.Queue) -> None:
    def handler(job: asyncop.Job) -> str:
        kind = job.name
        if kind == "ok":
            return "ignored"
        if kind == "permanent":
            raise asyncop.PermanentError("bad input", error_code=42)
        if kind == "suspend":
            raise asyncop.SuspendError("needs a human", error_code=43)
        if kind == "retryable":
            raise asyncop.RetryableError("later", error_code=44, retry_at=time_in_an_hour)
        raise KeyError("boom")

    time_in_an_hour = queue.now() + timedelta(hours=1)
    ids = {
        name: queue.submit(name, operation_type=TYPE) for name in ("ok", "permanent", "suspend", "retryable", "other")
    }
    with asyncop.Worker(queue, {TYPE: handler}, threads=2, poll_wait=0.05) as worker:
        wait_until(lambda: sum(worker.stats.values()) == 5)
    ops = {name: queue.retrieve(i) for name, i in ids.items()}
    assert ops["ok"].status is Status.SUCCEEDED
    assert (ops["permanent"].status, ops["permanent"].error_code, ops["permanent"].message) == (
        Status.FAILED,
        42,
        "bad input",
    )
    assert (ops["suspend"].state, ops["suspend"].postpone_until, ops["suspend"].error_code) == (
        State.SUSPENDED,
        None,
        43,
    )
    retry = ops["retryable"]
    assert (retry.state, retry.retry_count, retry.error_code, retry.message) == (State.SUSPENDED, 1, 44, "later")
    assert retry.postpone_until is not None and abs(retry.postpone_until - time_in_an_hour) < timedelta(seconds=1)
    other = ops["other"]
    assert (other.state, other.retry_count, other.message) == (State.SUSPENDED, 1, "KeyError: 'boom'")
    assert worker.stats == {"completed": 1, "failed": 1, "suspended": 1, "retried": 2}


def test_unhandled_types_stay_ready_unless_claimed(queue: asyncop.Queue) -> None:
    unknown = queue.submit("unknown type", operation_type=555)
    known = queue.submit("known", operation_type=TYPE)
    with asyncop.Worker(queue, {TYPE: lambda job: None}, poll_wait=0.05) as worker:
        wait_until(lambda: queue.retrieve(known).is_completed)
    assert queue.retrieve(unknown).state is State.READY  # left for a host that can run it
    with asyncop.Worker(queue, {TYPE: lambda job: None}, poll_wait=0.05, claim_unhandled=True) as worker:
        wait_until(lambda: queue.retrieve(unknown).is_completed)
    op = queue.retrieve(unknown)
    assert (op.status, op.error_code) == (Status.FAILED, -2147204349)
    assert op.error_code == asyncop.TYPE_NOT_RECOGNIZED == asyncop.ErrorCode.TYPE_NOT_RECOGNIZED
    assert worker.stats == {"unrecognized": 1}


def test_background_renewal_keeps_a_long_handler_alive(db: str) -> None:
    with asyncop.Queue(db, durability="normal", lease=0.6) as q:
        op_id = q.submit("slow", operation_type=TYPE)
        with asyncop.Worker(q, {TYPE: lambda job: time.sleep(2.0)}, threads=1, poll_wait=0.05) as worker:
            wait_until(lambda: q.retrieve(op_id).is_completed)
        op = q.retrieve(op_id)
        assert (op.status, op.lock_token, op.retry_count) == (Status.SUCCEEDED, 1, 0)
        assert worker.stats == {"completed": 1}


def test_a_handler_holding_the_gil_loses_its_lease(db: str, caplog: pytest.LogCaptureFixture) -> None:
    """Documented behaviour: the renewal thread cannot run while a handler holds
    the GIL past the lease; its outcome raises LeaseLostError (logged, result
    dropped) and the operation is retried."""
    libc = ctypes.PyDLL(None)  # PyDLL: calls keep holding the GIL
    attempts: list[int] = []

    def handler(job: asyncop.Job) -> None:
        attempts.append(job.attempt)
        if job.attempt == 1:
            libc.usleep(1_200_000)

    with asyncop.Queue(db, durability="normal", lease=0.4) as q:
        op_id = q.submit("gil", operation_type=TYPE)
        with caplog.at_level(logging.WARNING, logger="asyncop.worker"):
            with asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05) as worker:
                wait_until(lambda: q.retrieve(op_id).is_completed)
        op = q.retrieve(op_id)
        assert (op.status, op.lock_token, op.retry_count) == (Status.SUCCEEDED, 2, 1)
        assert attempts == [1, 2]
        assert worker.stats == {"lease_lost": 1, "completed": 1}
        assert "lost the lease" in caplog.text


def test_pause_and_cancel_stop_at_a_safe_point(db: str) -> None:
    started = {"pause": threading.Event(), "cancel": threading.Event()}

    def handler(job: asyncop.Job) -> None:
        started[job.name].set()
        for _ in range(1000):
            job.checkpoint()
            job.sleep(0.01)
        raise AssertionError("not stopped")

    with asyncop.Queue(db, durability="normal", lease=0.3) as q:
        p = q.submit("pause", operation_type=TYPE)
        c = q.submit("cancel", operation_type=TYPE)
        with asyncop.Worker(q, {TYPE: handler}, threads=2, poll_wait=0.05) as worker:
            assert started["pause"].wait(10) and started["cancel"].wait(10)
            q.pause(p)
            q.cancel(c)
            wait_until(lambda: worker.stats.get("paused") == 1 and worker.stats.get("canceled") == 1)
        assert q.retrieve(p).state is State.SUSPENDED and q.retrieve(p).postpone_until is None
        assert q.retrieve(c).status is Status.CANCELED
        assert worker.stats == {"paused": 1, "canceled": 1}


def test_a_handler_finishing_despite_a_request_reports_success(db: str) -> None:
    release = threading.Event()
    with asyncop.Queue(db, durability="normal", lease=0.3) as q:
        op_id = q.submit("x", operation_type=TYPE)
        with asyncop.Worker(q, {TYPE: lambda job: release.wait(10)}, threads=1, poll_wait=0.05):
            wait_until(lambda: q.retrieve(op_id).state is State.LOCKED)
            q.cancel(op_id)
            time.sleep(0.3)  # the renewal sees Canceling
            release.set()
            wait_until(lambda: q.retrieve(op_id).is_completed)
        assert q.retrieve(op_id).status is Status.SUCCEEDED


def test_stop_finishes_in_flight_work(db: str) -> None:
    running = threading.Event()
    with asyncop.Queue(db, durability="normal") as q:
        op_id = q.submit("x", operation_type=TYPE)
        q.submit("not started", operation_type=TYPE, dependency_token="t")
        q.submit("not started either", operation_type=TYPE, dependency_token="t")

        def handler(job: asyncop.Job) -> None:
            running.set()
            time.sleep(0.5)

        worker = asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05)
        worker.start()
        assert running.wait(10)
        assert worker.stop() is True
        assert q.retrieve(op_id).status is Status.SUCCEEDED
        assert worker.stats["completed"] >= 1


def test_stop_timeout_asks_handlers_to_stop(db: str) -> None:
    running = threading.Event()

    def handler(job: asyncop.Job) -> None:
        running.set()
        while not job.sleep(0.01):
            pass
        job.checkpoint()

    worker = asyncop.Worker(db, {TYPE: handler}, threads=1, poll_wait=0.05, queue_options={"durability": "normal"})
    op_id = worker.queue.submit("x", operation_type=TYPE)
    worker.start()
    assert running.wait(10)
    assert worker.stop(timeout=0.1) is False  # still running: asked to stop
    assert worker.stop(timeout=10) is True
    assert worker.queue.closed  # opened from a path: closed by stop()
    with asyncop.Queue(db) as q:
        op = q.retrieve(op_id)
        assert (op.state, op.retry_count) == (State.SUSPENDED, 1)
        assert op.message is not None and "shutdown" in op.message


def test_worker_arguments(queue: asyncop.Queue) -> None:
    with pytest.raises(TypeError):
        asyncop.Worker(queue, [lambda job: None])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        asyncop.Worker(queue, {TYPE: "not callable"})  # type: ignore[dict-item]
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Worker(queue, {2**40: lambda job: None})
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Worker(queue, {}, threads=0)
    with pytest.raises(ValueError):
        asyncop.Worker(queue, {}, renew_every=60)  # not shorter than the 30 s lease
    with pytest.raises(TypeError):
        asyncop.Worker(queue, {}, queue_options={"lease": 1})
    worker = asyncop.Worker(queue, {})
    worker.start()
    with pytest.raises(RuntimeError):
        worker.start()
    assert worker.stop(5)


def test_run_forever_stops_cleanly_on_sigterm(tmp_path: Path, db: str) -> None:
    started = tmp_path / "started"
    with asyncop.Queue(db) as q:
        first = q.submit("in flight", operation_type=TYPE)
    script = textwrap.dedent(
        f"""
        import time, asyncop
        def handler(job):
            open({str(started)!r}, "w").close()
            time.sleep(1.0)   # in flight when SIGTERM arrives: must still complete
        w = asyncop.Worker({str(db)!r}, {{{TYPE}: handler}}, threads=2, poll_wait=0.1)
        w.run_forever()
        print("stopped", w.stats)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(started.exists, 60)
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped {'completed': 1}" in out
    with asyncop.Queue(db) as q:
        assert q.retrieve(first).status is Status.SUCCEEDED


def test_closing_the_queue_under_a_worker_ends_its_threads(db: str) -> None:
    q = asyncop.Queue(db, durability="normal")
    worker = asyncop.Worker(q, {TYPE: lambda job: None}, threads=3, poll_wait=5)
    worker.start()
    time.sleep(0.2)  # every thread is waiting inside poll
    started = time.monotonic()
    q.close()  # wakes the waiting polls with ClosedError
    assert worker.stop(timeout=10) is True
    assert time.monotonic() - started < 4
