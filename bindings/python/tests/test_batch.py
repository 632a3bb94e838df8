"""Queue.complete_many: many leases completed in one call (asyncop_lease_complete_many)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from ctypes import c_int32, c_void_p
from pathlib import Path

import pytest

import asyncop
from asyncop import ErrorCode, State, Status
from asyncop._native import lib


def _is_done(q: asyncop.Queue, op_id: int) -> bool:
    op = q.retrieve(op_id)
    return (op.state, op.status) == (State.COMPLETED, Status.SUCCEEDED)


def _is_running(q: asyncop.Queue, op_id: int) -> bool:
    op = q.retrieve(op_id)
    return (op.state, op.status) == (State.LOCKED, Status.IN_PROGRESS)


@pytest.mark.both_stores
def test_completes_every_lease_in_one_call(queue: asyncop.Queue) -> None:
    ids = queue.submit_many([{"name": f"op {i}", "operation_type": 1} for i in range(50)])
    leases = queue.poll("host-1", max=50)
    assert [lease.id for lease in leases] == ids
    assert queue.complete_many(leases) == [None] * 50
    assert all(_is_done(queue, op_id) for op_id in ids)
    assert all(lease.finished and not lease.closed for lease in leases)
    with pytest.raises(asyncop.LeaseLostError):
        leases[0].complete()
    for lease in leases:
        lease.close()


@pytest.mark.both_stores
def test_a_lease_completed_before_gets_its_error_and_the_others_complete(queue: asyncop.Queue) -> None:
    ids = [queue.submit(f"op {i}", operation_type=1) for i in range(5)]
    leases = queue.poll("host-1", max=5)
    assert leases[2].complete() is Status.SUCCEEDED
    results = queue.complete_many(leases)
    assert [r is None for r in results] == [True, True, False, True, True]
    err = results[2]
    assert isinstance(err, asyncop.LeaseLostError)
    assert err.code == ErrorCode.LEASE_LOST and err.hresult == 0
    assert err.message.startswith(f"leases[2] (operation {ids[2]}, lock token 1) was not completed: ")
    assert "1 of 5 leases could not complete; first (index 2): lease lost on asyncoperation" in err.message
    assert all(_is_done(queue, op_id) for op_id in ids)
    assert all(lease.finished for lease in leases)

    # Again: every lease is lost now, which is still a per-lease answer, not a raise.
    again = queue.complete_many(leases)
    assert all(isinstance(e, asyncop.LeaseLostError) for e in again)
    assert "5 of 5 leases could not complete; first (index 0)" in str(again[0])
    assert str(again[1]) == f"leases[1] (operation {ids[1]}, lock token 1) was not completed (ASYNCOP_ERR_LEASE_LOST)"
    for lease in leases:
        lease.close()


@pytest.mark.both_stores
def test_a_lease_listed_twice_completes_once(queue: asyncop.Queue) -> None:
    op_id = queue.submit("twice", operation_type=1)
    (lease,) = queue.poll("host-1")
    first, second = queue.complete_many([lease, lease])
    assert first is None and isinstance(second, asyncop.LeaseLostError)
    assert _is_done(queue, op_id)
    lease.close()


@pytest.mark.both_stores
def test_empty_batches(queue: asyncop.Queue) -> None:
    assert queue.complete_many([]) == []
    assert queue.complete_many(()) == []
    assert lib.asyncop_lease_complete_many(None, 0, None) == 0


def test_null_array_with_a_count_is_null_arg() -> None:
    codes = (c_int32 * 2)(-7, -7)
    with pytest.raises(asyncop.InvalidArgumentError) as info:
        lib.asyncop_lease_complete_many(None, 2, codes)
    assert info.value.code == ErrorCode.NULL_ARG
    assert list(codes) == [ErrorCode.NULL_ARG] * 2  # every entry says so
    with pytest.raises(asyncop.InvalidArgumentError):
        lib.asyncop_lease_complete_many(None, 1, None)


@pytest.mark.both_stores
def test_leases_of_another_queue_are_refused_before_any_call(queue: asyncop.Queue, db: str) -> None:
    a = queue.submit("a", operation_type=1)
    b = queue.submit("b", operation_type=1)
    with asyncop.Queue(db, durability="normal") as other:
        (mine,) = queue.poll("host-1")
        (theirs,) = other.poll("host-2")
        with pytest.raises(asyncop.InvalidArgumentError, match=r"leases\[1\] .* another Queue") as info:
            queue.complete_many([mine, theirs])
        assert isinstance(info.value, ValueError) and info.value.code == ErrorCode.INVALID_ARG
        # The library refuses the same batch too, when it gets one.
        codes = (c_int32 * 2)()
        handles = (c_void_p * 2)(mine._handle(), theirs._handle())
        with pytest.raises(asyncop.InvalidArgumentError, match="another queue handle"):
            lib.asyncop_lease_complete_many(handles, 2, codes)
        assert list(codes) == [ErrorCode.INVALID_ARG] * 2
        assert _is_running(queue, a) and _is_running(queue, b)
        assert not mine.finished and not theirs.finished
        assert other.complete_many([theirs]) == [None]
        assert queue.complete_many([mine]) == [None]
        assert _is_done(queue, a) and _is_done(queue, b)
        mine.close()
        theirs.close()


@pytest.mark.both_stores
def test_a_closed_lease_fails_the_whole_call(queue: asyncop.Queue) -> None:
    a = queue.submit("a", operation_type=1)
    b = queue.submit("b", operation_type=1)
    kept, freed = queue.poll("host-1", max=2)
    raw = freed._handle()
    freed.close()
    with pytest.raises(asyncop.ClosedError):
        queue.complete_many([kept, freed])
    # The library's own check, with the freed raw handle.
    codes = (c_int32 * 2)()
    with pytest.raises(asyncop.ClosedError, match=r"leases\[1\]: .*no lease was completed"):
        lib.asyncop_lease_complete_many((c_void_p * 2)(kept._handle(), raw), 2, codes)
    assert list(codes) == [ErrorCode.CLOSED_HANDLE] * 2
    assert _is_running(queue, a) and _is_running(queue, b)
    assert not kept.finished
    kept.close()


def test_wrong_types_raise_type_error(queue: asyncop.Queue) -> None:
    queue.submit("a", operation_type=1)
    (lease,) = queue.poll("host-1")
    with pytest.raises(TypeError, match="Lease objects, not int"):
        queue.complete_many([lease, lease.id])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        queue.complete_many("abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        queue.complete_many(None)  # type: ignore[arg-type]
    assert not lease.finished
    lease.close()


@pytest.mark.both_stores
def test_a_closed_queue_raises_closed_error(db: str) -> None:
    q = asyncop.Queue(db, durability="normal")
    q.submit("a", operation_type=1)
    (lease,) = q.poll("host-1")
    q.close()
    with pytest.raises(asyncop.ClosedError):
        q.complete_many([lease])
    with pytest.raises(asyncop.ClosedError):
        q.complete_many([])
    lease.close()


# Holds the write lock from another process: POSIX locks do not exclude two
# connections of one process that use two copies of SQLite (Python's and the
# one inside libasyncop), so an in-process sqlite3 connection would not block.
_HOLD_WRITE_LOCK = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
"""


def test_busy_raises_and_completes_nothing(db: str) -> None:
    with asyncop.Queue(db, durability="normal", busy_timeout=0.05) as q:
        ids = [q.submit(f"op {i}", operation_type=1) for i in range(3)]
        leases = q.poll("host-1", max=3)
        blocker = subprocess.Popen(
            [sys.executable, "-c", _HOLD_WRITE_LOCK, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert blocker.stdout is not None and blocker.stdout.readline() == "locked\n"
            with pytest.raises(asyncop.BusyError):
                q.complete_many(leases)
        finally:
            blocker.communicate("\n", timeout=30)
        assert blocker.returncode == 0
        assert not any(lease.finished for lease in leases)
        assert all(_is_running(q, op_id) for op_id in ids)
        assert q.complete_many(leases) == [None] * 3
        for lease in leases:
            lease.close()


@pytest.mark.both_stores
def test_completed_leases_leave_their_with_block_without_a_retry(
    queue: asyncop.Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue.submit("a", operation_type=1)
    queue.submit("b", operation_type=1)
    leases = queue.poll("host-1", max=2)
    retried: list[int] = []
    original = asyncop.Lease.retry

    def spy(self: asyncop.Lease, *args: object, **kwargs: object) -> Status:
        retried.append(self.id)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncop.Lease, "retry", spy)
    with leases[0], leases[1]:
        assert queue.complete_many(leases) == [None, None]
    assert retried == []
    assert all(lease.closed for lease in leases)


@pytest.mark.both_stores
def test_a_worker_free_loop_drains_1000_operations_exactly_once(db: str) -> None:
    with asyncop.Queue(db, durability="normal") as q:
        ids = q.submit_many([{"name": f"job {i}", "operation_type": 7} for i in range(1000)])
        completed: Counter[int] = Counter()
        calls = 0
        while True:
            leases = q.poll("drainer", max=100)
            if not leases:
                break
            calls += 1
            assert len(leases) <= 100
            results = q.complete_many(leases)
            assert results == [None] * len(leases)
            completed.update(lease.id for lease in leases)
            for lease in leases:
                lease.close()
        assert calls == 10
        assert sorted(completed) == ids and set(completed.values()) == {1}
        done = q.query(state=State.COMPLETED, status=Status.SUCCEEDED)
        assert sorted(op.id for op in done) == ids
        assert all(op.lock_token == 1 and op.retry_count == 0 for op in done)
