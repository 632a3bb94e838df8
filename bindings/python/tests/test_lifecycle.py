"""The life cycle of operations through the Python API: submit, claim, every
host outcome, lease expiry, reading and querying."""

from __future__ import annotations

import threading
import time
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone

import pytest
from _support import claim

import asyncop
from asyncop import Outcome, State, Status

# Every test here runs against SQLite and PostgreSQL (conftest.py: ``db`` / ``queue``).
pytestmark = pytest.mark.both_stores


def test_submit_and_retrieve_every_attribute(queue: asyncop.Queue) -> None:
    before = queue.now()
    op_id = queue.submit(
        "send mail", b"\x00payload\xff", operation_type=100, dependency_token="tok", correlation_id="corr-1"
    )
    assert isinstance(op_id, int) and op_id > 0
    op = queue.retrieve(op_id)
    assert isinstance(op, asyncop.Operation)
    assert (op.id, op.name, op.operation_type, op.payload) == (op_id, "send mail", 100, b"\x00payload\xff")
    assert op.state is State.READY and op.status is Status.WAITING_FOR_RESOURCES
    assert op.dependency_token == "tok" and op.correlation_id == "corr-1"
    assert op.postpone_until is None and op.host_id is None and op.lease_expires_at is None
    assert op.lock_token == 0 and op.retry_count == 0 and op.error_code is None
    assert op.message is None and op.friendly_message is None
    assert op.started_on is None and op.completed_on is None and op.execution_time_span is None
    assert op.created_on.tzinfo is timezone.utc and op.created_on >= before - timedelta(milliseconds=1)
    assert op.modified_on == op.created_on
    assert not op.is_completed
    with pytest.raises(FrozenInstanceError):
        op.name = "other"  # type: ignore[misc]


def test_unicode_text_and_empty_values_round_trip(queue: asyncop.Queue) -> None:
    op_id = queue.submit("", operation_type=1, correlation_id="")
    op = queue.retrieve(op_id)
    assert op.name == "" and op.payload == b"" and op.correlation_id == "" and op.dependency_token is None
    name = "Grüße 👋 " + "ä" * 240  # 256 characters, more bytes
    op_id = queue.submit(name, bytearray(b"ab"), operation_type=1)
    assert queue.retrieve(op_id).name == name
    assert claim(queue).name == "" and claim(queue).name == name


def test_enum_values_are_the_spec_codes() -> None:
    assert [int(s) for s in State] == [0, 1, 2, 3]
    assert {s.name: int(s) for s in Status} == {
        "WAITING_FOR_RESOURCES": 0,
        "WAITING": 10,
        "IN_PROGRESS": 20,
        "PAUSING": 21,
        "CANCELING": 22,
        "SUCCEEDED": 30,
        "FAILED": 31,
        "CANCELED": 32,
    }
    assert all(s.state == s // 10 for s in Status)
    assert [int(o) for o in Outcome] == [0, 1, 2, 3, 4]


def test_claim_renew_complete(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", b"data", operation_type=7, dependency_token="d", correlation_id="c")
    lease = claim(queue, "host-A")
    assert (lease.id, lease.operation_type, lease.name, lease.payload) == (op_id, 7, "job", b"data")
    assert (lease.lock_token, lease.attempt, lease.host_id) == (1, 1, "host-A")
    assert (lease.dependency_token, lease.correlation_id) == ("d", "c")
    assert lease.expires_at > queue.now()
    assert lease.queue is queue and not lease.finished
    running = queue.retrieve(op_id)
    assert (running.state, running.status, running.host_id) == (State.LOCKED, Status.IN_PROGRESS, "host-A")
    assert running.lease_expires_at is not None and running.started_on is not None
    assert lease.renew() is Status.IN_PROGRESS
    assert lease.complete() is Status.SUCCEEDED
    assert lease.finished
    done = queue.retrieve(op_id)
    assert (done.state, done.status) == (State.COMPLETED, Status.SUCCEEDED)
    assert done.completed_on is not None and done.execution_time_span is not None
    assert done.host_id is None and done.lease_expires_at is None and done.is_completed
    with pytest.raises(asyncop.LeaseLostError):
        lease.complete()  # one outcome only
    lease.close()


def test_fail_stores_code_and_message(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with claim(queue) as lease:
        assert lease.fail("it broke", error_code=-5) is Status.FAILED
    op = queue.retrieve(op_id)
    assert (op.status, op.error_code, op.message) == (Status.FAILED, -5, "it broke")


def test_retry_backs_off_then_budget_ends_in_failed(db: str) -> None:
    with asyncop.Queue(db, durability="normal", max_attempts=2, backoff=(0.05, 1)) as q:
        op_id = q.submit("job", operation_type=7)
        with claim(q) as lease:
            assert lease.retry("try later", error_code=3) is Status.WAITING
        op = q.retrieve(op_id)
        assert (op.state, op.retry_count, op.message, op.error_code) == (State.SUSPENDED, 1, "try later", 3)
        assert op.postpone_until is not None and op.postpone_until > op.modified_on
        time.sleep(0.1)
        with claim(q) as lease:  # promoted when due
            assert lease.attempt == 2
            assert lease.retry("again") is Status.FAILED
        assert q.retrieve(op_id).status is Status.FAILED


def test_retry_at_a_given_time(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    at = queue.now() + timedelta(hours=2)
    with claim(queue) as lease:
        lease.retry(at=at)
    assert queue.retrieve(op_id).postpone_until == at.replace(microsecond=at.microsecond // 1000 * 1000)


def test_suspend_then_resume(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with claim(queue) as lease:
        assert lease.suspend("needs a human", error_code=9) is Status.WAITING
    op = queue.retrieve(op_id)
    assert (op.state, op.postpone_until, op.retry_count) == (State.SUSPENDED, None, 0)
    assert queue.poll("h") == []
    queue.resume(op_id)
    assert queue.retrieve(op_id).state is State.READY
    assert claim(queue).id == op_id


def test_report_with_friendly_message(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with claim(queue) as lease:
        status = lease.report(Outcome.FAILED, error_code=4, message="tech", friendly_message="Sorry!")
        assert status is Status.FAILED
    op = queue.retrieve(op_id)
    assert (op.message, op.friendly_message, op.error_code) == ("tech", "Sorry!", 4)
    queue.submit("job2", operation_type=7)
    with claim(queue) as lease:
        assert lease.report(Outcome.SUCCEEDED) is Status.SUCCEEDED
        with pytest.raises(asyncop.InvalidArgumentError):
            lease.report(9)


def test_pause_while_running_then_acknowledge(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    lease = claim(queue)
    queue.pause(op_id)
    assert queue.retrieve(op_id).status is Status.PAUSING
    queue.pause(op_id)  # already pausing: no-op
    assert lease.renew() is Status.PAUSING
    assert lease.acknowledge_pause() is Status.WAITING
    op = queue.retrieve(op_id)
    assert (op.state, op.postpone_until) == (State.SUSPENDED, None)
    lease.close()


def test_cancel_while_running_then_acknowledge(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    lease = claim(queue)
    queue.cancel(op_id)
    assert lease.renew() is Status.CANCELING
    assert lease.acknowledge_cancel() is Status.CANCELED
    assert queue.retrieve(op_id).status is Status.CANCELED
    lease.close()


def test_success_under_canceling_is_recorded_as_succeeded(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with claim(queue) as lease:
        queue.cancel(op_id)
        assert lease.complete() is Status.SUCCEEDED


def test_postpone_while_running(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    lease = claim(queue)
    queue.postpone(op_id, timedelta(hours=1))
    assert queue.retrieve(op_id).status is Status.PAUSING
    assert lease.renew() is Status.PAUSING
    lease.acknowledge_pause()
    op = queue.retrieve(op_id)
    assert op.state is State.SUSPENDED and op.postpone_until is not None
    assert op.postpone_until > queue.now() + timedelta(minutes=59)
    lease.close()


def test_lease_context_manager_releases_with_the_exception_text(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with pytest.raises(ZeroDivisionError):
        with claim(queue) as lease:
            1 / 0  # noqa: B018
    assert lease.closed
    op = queue.retrieve(op_id)
    assert (op.state, op.retry_count) == (State.SUSPENDED, 1)
    assert op.message == "ZeroDivisionError: division by zero"


def test_lease_context_manager_without_outcome(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with claim(queue):
        pass
    op = queue.retrieve(op_id)
    assert (op.state, op.message) == (State.SUSPENDED, "lease released without an outcome")


def test_lease_context_manager_escapes_nul_and_surrogates_in_the_message(queue: asyncop.Queue) -> None:
    op_id = queue.submit("job", operation_type=7)
    with pytest.raises(RuntimeError):
        with claim(queue):
            raise RuntimeError("a\x00b\udc80c")
    assert queue.retrieve(op_id).message == "RuntimeError: a\\0b\\udc80c"


def test_lease_expiry_recovers_and_fences_the_old_holder(db: str) -> None:
    with asyncop.Queue(db, durability="normal", lease=0.2) as q:
        assert q.lease == timedelta(milliseconds=200)
        op_id = q.submit("job", operation_type=7)
        old = claim(q, "slow-host")
        time.sleep(0.3)
        with pytest.raises(asyncop.LeaseLostError):
            old.renew()  # lost at its expiry time, before anyone recovers it
        assert q.run_maintenance() == asyncop.Maintenance(recovered=1, poisoned=0, promoted=0)
        op = q.retrieve(op_id)
        assert (op.state, op.retry_count) == (State.READY, 1)
        new = claim(q, "fast-host")
        assert (new.lock_token, new.attempt) == (2, 2)
        with pytest.raises(asyncop.LeaseLostError):
            old.complete()
        new.complete()
        assert q.retrieve(op_id).status is Status.SUCCEEDED
        old.close()
        new.close()


def test_poll_max_types_and_wait(queue: asyncop.Queue) -> None:
    ids = [queue.submit(f"op{i}", operation_type=1 + i % 2) for i in range(5)]
    leases = queue.poll("h", max=10, operation_types=[2])
    assert [lease.id for lease in leases] == [ids[1], ids[3]]
    leases += queue.poll("h", max=2)
    assert [lease.id for lease in leases[2:]] == [ids[0], ids[2]]
    assert queue.poll("h", operation_types=[]) == []
    started = time.monotonic()
    rest = queue.poll("h", max=5, wait=timedelta(seconds=0.1))
    assert [lease.id for lease in rest] == [ids[4]]
    assert queue.poll("h", wait=0.15) == []
    assert time.monotonic() - started >= 0.14
    for lease in leases + rest:
        lease.close()


def test_poll_wait_wakes_up_when_work_arrives(queue: asyncop.Queue) -> None:
    threading.Timer(0.2, lambda: queue.submit("late", operation_type=1)).start()
    started = time.monotonic()
    leases = queue.poll("h", wait=5)
    assert len(leases) == 1 and time.monotonic() - started < 4
    leases[0].close()


def test_dependency_tokens_run_in_creation_order(queue: asyncop.Queue) -> None:
    a = queue.submit("a", operation_type=1, dependency_token="t")
    b = queue.submit("b", operation_type=1, dependency_token="t")
    c = queue.submit("c", operation_type=1)
    first = queue.poll("h", max=3)
    assert [lease.id for lease in first] == [a, c]  # b waits for a
    first[0].complete()
    assert claim(queue).id == b
    for lease in first:
        lease.close()


def test_submit_postponed(queue: asyncop.Queue) -> None:
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    a = queue.submit("a", operation_type=1, postpone_until=later)
    b = queue.submit("b", operation_type=1, postpone_until=timedelta(minutes=5))
    c = queue.submit("c", operation_type=1, postpone_until=datetime(2000, 1, 1, tzinfo=timezone.utc))
    op = queue.retrieve(a)
    assert op.state is State.SUSPENDED and abs(op.postpone_until - later) < timedelta(milliseconds=1)  # type: ignore[operator]
    assert queue.retrieve(b).state is State.SUSPENDED
    assert queue.retrieve(c).state is State.READY and queue.retrieve(c).postpone_until is None
    other_tz = datetime(2100, 1, 1, 12, tzinfo=timezone(timedelta(hours=5)))
    d = queue.submit("d", operation_type=1, postpone_until=other_tz)
    assert queue.retrieve(d).postpone_until == other_tz


def test_submit_many_with_specs_and_dicts(queue: asyncop.Queue) -> None:
    ids = queue.submit_many(
        [
            asyncop.OperationSpec("a", 1, b"pa", dependency_token="t", correlation_id="c"),
            {"name": "b", "operation_type": 2, "payload": b"pb", "postpone_until": timedelta(hours=1)},
            {"name": "c", "operation_type": 3},
        ]
    )
    assert len(ids) == 3 and ids == sorted(ids)
    a, b, c = (queue.retrieve(i) for i in ids)
    assert (a.payload, a.dependency_token, a.correlation_id) == (b"pa", "t", "c")
    assert (b.operation_type, b.state) == (2, State.SUSPENDED)
    assert c.payload == b""
    assert queue.submit_many([]) == []
    assert queue.submit_many(asyncop.OperationSpec(f"g{i}", 1) for i in range(3)) == list(
        range(ids[-1] + 1, ids[-1] + 4)
    )


def test_submit_many_is_all_or_none(queue: asyncop.Queue) -> None:
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.submit_many([asyncop.OperationSpec("ok", 1), asyncop.OperationSpec("x" * 257, 1)])
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.submit_many([asyncop.OperationSpec("ok", 1), asyncop.OperationSpec("bad type", 0)])
    with pytest.raises(TypeError):
        queue.submit_many([{"name": "a"}])
    with pytest.raises(TypeError):
        queue.submit_many([{"name": "a", "operation_type": 1, "colour": "red"}])
    with pytest.raises(TypeError):
        queue.submit_many(["a"])  # type: ignore[list-item]
    assert queue.counts() == []


def test_query_filters_and_paging(queue: asyncop.Queue) -> None:
    ids = [queue.submit(f"n{i % 3}", operation_type=1 + i % 2, dependency_token=f"t{i}") for i in range(9)]
    with claim(queue) as lease:
        lease.complete()
    assert [op.id for op in queue.query()] == ids
    assert [op.id for op in queue.query(state=State.COMPLETED)] == [ids[0]]
    assert [op.id for op in queue.query(state=0, status=0)] == ids[1:]
    assert [op.id for op in queue.query(operation_type=2)] == ids[1::2]
    assert [op.id for op in queue.query(name="n1")] == ids[1::3]
    assert [op.id for op in queue.query(dependency_token="t4")] == [ids[4]]
    assert [op.id for op in queue.query(after_id=ids[5])] == ids[6:]
    assert [op.id for op in queue.query(limit=2, offset=3)] == ids[3:5]
    assert [op.id for op in queue.query(completed_before=queue.now() + timedelta(seconds=1))] == [ids[0]]
    assert queue.query(completed_before=datetime(2000, 1, 1, tzinfo=timezone.utc)) == []
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.query(state=0, status=30)  # mismatched pair
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.query(state=7)
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.query(offset=-1)


def test_counts(queue: asyncop.Queue) -> None:
    for i in range(5):
        queue.submit("x", operation_type=1 + i % 2)
    with claim(queue) as lease:
        lease.complete()
    rows = queue.counts()
    assert rows == [
        asyncop.Count(State.READY, Status.WAITING_FOR_RESOURCES, 1, 2),
        asyncop.Count(State.READY, Status.WAITING_FOR_RESOURCES, 2, 2),
        asyncop.Count(State.COMPLETED, Status.SUCCEEDED, 1, 1),
    ]
    assert rows[0].count == 2 and rows[0].state is State.READY


def test_wait_for(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    started = time.monotonic()
    snapshot = queue.wait_for(op_id, 0.1)
    assert snapshot.state is State.READY and time.monotonic() - started >= 0.09
    lease = claim(queue)
    threading.Timer(0.2, lease.complete).start()
    done = queue.wait_for(op_id, timedelta(seconds=10))
    assert done.is_completed and done.status is Status.SUCCEEDED
    with pytest.raises(asyncop.NotFoundError):
        queue.wait_for(op_id + 100, 0.01)
    lease.close()


def test_run_maintenance_promotes_due_operations(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1, postpone_until=timedelta(milliseconds=50))
    time.sleep(0.1)
    assert queue.retrieve(op_id).state is State.SUSPENDED  # reads do not promote
    assert queue.run_maintenance().promoted == 1
    assert queue.retrieve(op_id).state is State.READY


def test_now_is_utc(queue: asyncop.Queue) -> None:
    now = queue.now()
    assert now.tzinfo is timezone.utc
    assert abs(now - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_queue_wide_settings_reach_other_handles(db: str) -> None:
    with asyncop.Queue(db, restricted_types=[5], allow_delete_any=True) as q1:
        with asyncop.Queue(db) as q2:  # keeps what the file has
            a = q2.submit("a", operation_type=5)
            with pytest.raises(asyncop.CannotCancelError):
                q2.cancel(a)
            b = q2.submit("b", operation_type=9)  # 9 is no longer restricted
            q2.cancel(b)
            q2.delete(a)  # allow_delete_any: any state
        with pytest.raises(asyncop.NotFoundError):
            q1.retrieve(a)


def test_durability_and_options_are_accepted(db: str) -> None:
    cases = [("full", 0), ("NORMAL", 1), (asyncop.Durability.FULL, 0), (asyncop.Durability.NORMAL, 1)]
    for durability, expected in cases:
        with asyncop.Queue(
            db, durability=durability, lease=timedelta(seconds=5), busy_timeout=1.5, max_attempts=3, backoff=(1, 60)
        ) as q:
            assert q.lease == timedelta(seconds=5)
            assert q.durability is asyncop.Durability(expected)
            q.submit("x", operation_type=1)
        with asyncop.Queue(db, restricted_types=()) as q:  # none restricted
            q.cancel(q.submit("x", operation_type=9))
