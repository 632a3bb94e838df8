"""Progress, output and the attempt history (issue 13, items 4 and 5): the
lease calls, the snapshot fields, Queue.attempts, and what the Worker does
with a handler's return value and exceptions (logging levels, stored traceback)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Callable

import pytest
from _support import claim

import asyncop
from asyncop import AttemptEnding, ErrorCode, State, Status

TYPE = 7

pytestmark = pytest.mark.both_stores


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_progress_is_stored_fenced_and_reset_by_a_claim(db: str) -> None:
    q = asyncop.Queue(db, durability="normal", backoff=(timedelta(milliseconds=1), timedelta(milliseconds=1)))
    op_id = q.submit("p", operation_type=TYPE)
    first = claim(q)
    assert first.progress(40, "copying") == Status.IN_PROGRESS
    op = q.retrieve(op_id)
    assert (op.progress, op.progress_text) == (40, "copying")
    assert first.progress(60, durable=True) == Status.IN_PROGRESS
    assert (q.retrieve(op_id).progress, q.retrieve(op_id).progress_text) == (60, None)
    for bad in (-1, 101):
        with pytest.raises(asyncop.InvalidArgumentError):
            first.progress(bad)
    with pytest.raises(asyncop.InvalidArgumentError):
        first.progress(1, "x" * (asyncop.PROGRESS_TEXT_MAX_CHARS + 1))
    first.retry("again")
    time.sleep(0.01)
    second = claim(q)
    assert (q.retrieve(op_id).progress, q.retrieve(op_id).progress_text) == (None, None)
    with pytest.raises(asyncop.LeaseLostError):
        first.progress(99, "stale")
    q.pause(op_id)
    assert second.progress(70) == Status.PAUSING
    q.close()


def test_output_is_stored_on_completion_and_limited(queue: asyncop.Queue) -> None:
    op_id = queue.submit("o", operation_type=TYPE)
    lease = claim(queue)
    with pytest.raises(asyncop.InvalidArgumentError):
        lease.complete(b"x" * (asyncop.OUTPUT_MAX_BYTES + 1))
    assert not lease.finished and queue.retrieve(op_id).status == Status.IN_PROGRESS
    assert lease.complete(b"\x00result") == Status.SUCCEEDED
    assert queue.retrieve(op_id).output == b"\x00result"
    other = queue.submit("none", operation_type=TYPE)
    claim(queue).complete()
    assert queue.retrieve(other).output is None


def test_attempts_keep_retry_expiry_and_failure_with_detail(db: str) -> None:
    q = asyncop.Queue(
        db,
        durability="normal",
        lease=timedelta(milliseconds=200),
        backoff=(timedelta(milliseconds=1), timedelta(milliseconds=1)),
    )
    op_id = q.submit("a", operation_type=TYPE)
    assert q.attempts(op_id) == []
    claim(q, "h1").retry("first", error_code=-5, detail="Traceback 1")
    time.sleep(0.01)
    claim(q, "h2")  # abandoned: its lease expires
    time.sleep(0.25)
    q.run_maintenance()
    claim(q, "h3").fail("fatal", detail="Traceback 3")
    kept = q.attempts(op_id)
    assert [a.ending for a in kept] == [AttemptEnding.RETRY, AttemptEnding.EXPIRED, AttemptEnding.FAILED]
    assert [a.host_id for a in kept] == ["h1", "h2", "h3"]
    assert [a.lock_token for a in kept] == [1, 2, 3]
    assert (kept[0].error_code, kept[0].message, kept[0].detail) == (-5, "first", "Traceback 1")
    assert kept[1].error_code == ErrorCode.LEASE_LOST and kept[1].detail is None
    assert kept[2].detail == "Traceback 3" and kept[2].operation_id == op_id
    assert all(a.started_on is not None and a.ended_on >= a.started_on for a in kept)
    q.delete(op_id)
    with pytest.raises(asyncop.NotFoundError):
        q.attempts(op_id)
    q.close()


def test_worker_stores_return_values_as_output(queue: asyncop.Queue) -> None:
    values: list[object] = [b"raw", "text é", None, {"n": 1, "ok": True}, [1, 2], object()]
    ids = [queue.submit(f"v{i}", str(i).encode(), operation_type=TYPE) for i in range(len(values))]

    def handler(job: asyncop.Job) -> object:
        assert job.progress(50, "half") in (Status.IN_PROGRESS, None)
        return values[int(job.payload)]

    with asyncop.Worker(queue, {TYPE: handler}, threads=1, poll_wait=0.05):
        wait_until(lambda: all(queue.retrieve(i).state == State.COMPLETED for i in ids))
    outputs = [queue.retrieve(i).output for i in ids]
    assert outputs == [b"raw", "text é".encode(), None, b'{"n": 1, "ok": true}', b"[1, 2]", None]
    assert all(queue.retrieve(i).status == Status.SUCCEEDED for i in ids)
    assert queue.retrieve(ids[0]).progress == 50


def test_worker_logs_attempts_and_stores_the_traceback(db: str, caplog: pytest.LogCaptureFixture) -> None:
    q = asyncop.Queue(
        db, durability="normal", max_attempts=2, backoff=(timedelta(milliseconds=1), timedelta(milliseconds=1))
    )
    op_id = q.submit("boom", operation_type=TYPE)
    runs = threading.Semaphore(0)

    def explode() -> None:
        raise RuntimeError("kaput")

    def handler(job: asyncop.Job) -> None:
        runs.release()
        explode()

    caplog.set_level(logging.DEBUG, logger="asyncop.worker")
    with asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05):
        wait_until(lambda: q.retrieve(op_id).state == State.COMPLETED)
    assert q.retrieve(op_id).status == Status.FAILED
    records = [r for r in caplog.records if r.name == "asyncop.worker" and r.levelno >= logging.WARNING]
    assert [r.levelno for r in records] == [logging.WARNING, logging.ERROR], records
    assert "RuntimeError: kaput" in records[0].getMessage() and records[0].exc_info is None
    assert records[1].exc_info is not None and records[1].exc_info[0] is RuntimeError
    kept = q.attempts(op_id)
    assert [a.ending for a in kept] == [AttemptEnding.RETRY, AttemptEnding.RETRY]
    for attempt in kept:
        assert attempt.message == "RuntimeError: kaput"
        assert attempt.detail is not None
        assert attempt.detail.startswith("Traceback (most recent call last):")
        assert "in explode" in attempt.detail and attempt.detail.rstrip().endswith("RuntimeError: kaput")
    q.close()


def test_worker_permanent_error_is_logged_at_error_with_detail(
    queue: asyncop.Queue, caplog: pytest.LogCaptureFixture
) -> None:
    op_id = queue.submit("perm", operation_type=TYPE)

    def handler(job: asyncop.Job) -> None:
        raise asyncop.PermanentError("no way", error_code=-3)

    caplog.set_level(logging.WARNING, logger="asyncop.worker")
    with asyncop.Worker(queue, {TYPE: handler}, threads=1, poll_wait=0.05):
        wait_until(lambda: queue.retrieve(op_id).state == State.COMPLETED)
    levels = [r.levelno for r in caplog.records if r.name == "asyncop.worker"]
    assert levels == [logging.ERROR]
    (attempt,) = queue.attempts(op_id)
    assert (attempt.ending, attempt.error_code, attempt.message) == (AttemptEnding.FAILED, -3, "no way")
    assert attempt.detail is not None and "PermanentError: no way" in attempt.detail
