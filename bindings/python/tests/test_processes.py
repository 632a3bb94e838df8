"""Processes: spawn workers sharing one file while one is SIGKILLed holding a
lease; a forked child and its inherited queue."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from _support import claim, mp_worker

import asyncop
from asyncop import State, Status


@pytest.mark.both_stores
def test_spawned_workers_complete_everything_exactly_once_despite_a_sigkill(tmp_path: Path, db: str) -> None:
    n = 400
    with asyncop.Queue(db, durability="normal") as q:
        ids = q.submit_many([asyncop.OperationSpec(f"op{i}", 1) for i in range(n)])
    ctx = multiprocessing.get_context("spawn")
    start, done, held = ctx.Barrier(4), ctx.Event(), ctx.Queue()
    logs = [str(tmp_path / f"worker{i}.log") for i in range(4)]
    victim = ctx.Process(target=mp_worker, args=(db, "victim", logs[0], 1.0, start, done, held))
    survivors = [
        ctx.Process(target=mp_worker, args=(db, f"survivor-{i}", logs[i], 1.0, start, done, None)) for i in (1, 2, 3)
    ]
    procs = [victim, *survivors]
    for p in procs:
        p.start()
    try:
        held_id = held.get(timeout=120)
        os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
        victim.join(30)
        assert victim.exitcode == -signal.SIGKILL
        with asyncop.Queue(db) as q:
            deadline = time.monotonic() + 120
            while sum(c.count for c in q.counts() if c.state == State.COMPLETED) < n:
                assert time.monotonic() < deadline, q.counts()
                time.sleep(0.1)
            done.set()
            for p in survivors:
                p.join(60)
                assert p.exitcode == 0
            assert q.counts() == [asyncop.Count(State.COMPLETED, Status.SUCCEEDED, 1, n)]
            recovered = q.retrieve(held_id)
            assert (recovered.status, recovered.retry_count, recovered.lock_token) == (Status.SUCCEEDED, 1, 2)
    finally:
        done.set()
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join(10)
    completions: Counter[int] = Counter()
    for log in logs:
        if os.path.exists(log):
            completions.update(int(line) for line in Path(log).read_text().split())
    assert sorted(completions) == ids, "an operation was lost"
    assert set(completions.values()) == {1}, "an operation was completed twice"
    assert held_id in completions and Path(logs[0]).read_text().split().count(str(held_id)) == 0


def _forked_child(q: asyncop.Queue, lease: asyncop.Lease, db: str, op_id: int, conn: object) -> None:
    results: dict[str, object] = {}
    for name, call in (
        ("retrieve", lambda: q.retrieve(op_id)),
        ("submit", lambda: q.submit("x", operation_type=1)),
        ("poll", lambda: q.poll("child")),
        ("renew", lambda: lease.renew()),
    ):
        try:
            call()
            results[name] = "no error"
        except asyncop.ForkedError as e:
            results[name] = ("ForkedError", e.code)
        except Exception as e:  # noqa: BLE001
            results[name] = repr(e)
    q.close()  # a no-op for an inherited handle: the parent's database is left alone
    lease.close()
    with asyncop.Queue(db) as own:
        results["own"] = (own.retrieve(op_id).status, own.submit("from child", operation_type=1))
    conn.send(results)  # type: ignore[attr-defined]


@pytest.mark.both_stores
def test_forked_child_gets_forked_error_and_can_open_its_own(queue: asyncop.Queue, db: str) -> None:
    op_id = queue.submit("x", operation_type=1)
    lease = claim(queue)
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=_forked_child, args=(queue, lease, db, op_id, child_end))
    child.start()
    assert parent_end.poll(60)
    results = parent_end.recv()
    child.join(30)
    assert child.exitcode == 0
    forked = ("ForkedError", asyncop.ErrorCode.FORKED)
    assert results["retrieve"] == results["submit"] == results["poll"] == results["renew"] == forked
    status, child_op = results["own"]
    assert status == Status.IN_PROGRESS
    # The parent's handles are untouched by the child's close.
    assert lease.renew() is Status.IN_PROGRESS
    lease.complete()
    assert queue.retrieve(child_op).name == "from child"
    lease.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.both_stores
def test_raw_fork_child_exit_code(queue: asyncop.Queue, db: str) -> None:
    queue.submit("x", operation_type=1)
    pid = os.fork()
    if pid == 0:  # child: report through the exit code only
        code = 0
        try:
            queue.counts()
            code = 2
        except asyncop.ForkedError:
            try:
                with asyncop.Queue(db) as own:
                    code = 0 if own.counts() else 3
            except BaseException:  # noqa: BLE001
                code = 4
        except BaseException:  # noqa: BLE001
            code = 5
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert queue.counts()[0].count == 1
