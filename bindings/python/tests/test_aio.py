"""AsyncQueue and AsyncWorker: a waiting poll leaves the event loop free
(a 10 ms ticker keeps ticking), cancellation and Ctrl-C end a wait, async
handlers complete, fail and retry like the threaded worker's."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import asyncop
from asyncop import State, Status

TYPE = 7


async def _ticker(ticks: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.01)
        ticks.append(time.monotonic())


@pytest.mark.both_stores
def test_a_waiting_poll_leaves_the_loop_ticking(db: str) -> None:
    async def main() -> tuple[list[asyncop.Lease], float, int]:
        async with asyncop.AsyncQueue(db, durability="normal") as q:
            ticks: list[float] = []
            stop = asyncio.Event()
            ticker = asyncio.create_task(_ticker(ticks, stop))
            await asyncio.sleep(0.05)
            before = len(ticks)
            t0 = time.monotonic()
            leases = await q.poll("host-1", wait=0.3)
            waited = time.monotonic() - t0
            during = len(ticks) - before
            stop.set()
            await ticker
            return leases, waited, during

    leases, waited, during = asyncio.run(main())
    assert leases == []
    assert 0.28 <= waited < 1.5
    # 300 ms at 10 ms a tick: 30 if the loop never blocked; a blocked loop gives 0 or 1.
    print(f"ticks during a 300 ms poll: {during}")
    assert during >= 15, during


@pytest.mark.both_stores
def test_poll_returns_work_submitted_while_it_waits_and_wait_for_sees_it_complete(db: str) -> None:
    async def main() -> tuple[int, asyncop.Operation, float]:
        async with asyncop.AsyncQueue(db, durability="normal") as q:

            async def host() -> int:
                leases = await q.poll("host-1", wait=10)
                assert len(leases) == 1
                with leases[0] as lease:
                    await q.run(lease.complete, b"done")
                    return lease.id

            hosting = asyncio.create_task(host())
            await asyncio.sleep(0.1)
            t0 = time.monotonic()
            op_id = await q.submit("op", b"x", operation_type=TYPE)
            op = await q.wait_for(op_id, timeout=10)
            elapsed = time.monotonic() - t0
            assert await hosting == op_id
            return op_id, op, elapsed

    op_id, op, elapsed = asyncio.run(main())
    assert op.id == op_id and op.state == State.COMPLETED and op.status == Status.SUCCEEDED
    assert elapsed < 5


def test_wait_for_times_out_with_the_latest_snapshot(tmp_path: Path) -> None:
    async def main() -> asyncop.Operation:
        async with asyncop.AsyncQueue(str(tmp_path / "q.db"), durability="normal") as q:
            op_id = await q.submit("op", operation_type=TYPE)
            return await q.wait_for(op_id, timeout=0.5)

    t0 = time.monotonic()
    op = asyncio.run(main())
    assert not op.is_completed and op.state == State.READY
    assert 0.45 <= time.monotonic() - t0 < 3


def test_cancelling_a_waiting_poll_returns_at_once(tmp_path: Path) -> None:
    async def main() -> float:
        async with asyncop.AsyncQueue(str(tmp_path / "q.db"), durability="normal") as q:
            task = asyncio.create_task(q.poll("host-1", wait=60))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - t0

    assert asyncio.run(main()) < 0.1


def test_leases_a_cancelled_poll_claimed_are_given_back(tmp_path: Path) -> None:
    async def main() -> tuple[asyncop.Queue, int]:
        q = asyncop.AsyncQueue(str(tmp_path / "q.db"), durability="normal", lease=60)
        op_id = await q.submit("op", operation_type=TYPE)
        # The poll's thread claims, then holds its result until the task is cancelled: the
        # cancel surely lands after the claim and before the task could resume (how soon a
        # finished executor call resumes its task differs between CPython versions).
        claimed, cancelled = threading.Event(), threading.Event()
        real_poll = q.sync.poll

        def poll_then_hold(*args: Any, **kwargs: Any) -> list[asyncop.Lease]:
            leases = real_poll(*args, **kwargs)
            claimed.set()
            cancelled.wait(10)
            return leases

        q.sync.poll = poll_then_hold  # type: ignore[method-assign]
        task = asyncio.create_task(q.poll("host-1", wait=60))
        assert await asyncio.to_thread(claimed.wait, 10)
        assert q.sync.retrieve(op_id).state == State.LOCKED
        task.cancel()
        cancelled.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        del q.sync.poll
        return q.sync, op_id

    q, op_id = asyncio.run(main())
    # Given back at once, not held for the 60 s lease.
    leases = q.poll("host-2", wait=5)
    assert [lease.id for lease in leases] == [op_id]
    assert [a.message for a in q.attempts(op_id)] == ["poll cancelled before its leases were used"]
    leases[0].complete()
    q.close()


def test_ctrl_c_interrupts_a_waiting_poll_in_a_real_process(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys, time
        import asyncop

        async def main():
            async with asyncop.AsyncQueue({str(tmp_path / "q.db")!r}, durability="normal") as q:
                print("waiting", flush=True)
                await q.poll("host-1", wait=60)
            print("poll returned", flush=True)

        t0 = time.monotonic()
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            print(f"interrupted after {{time.monotonic() - t0:.2f}} s", flush=True)
            sys.exit(42)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "waiting"
    time.sleep(0.5)  # inside the waiting poll
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == 42, (out, err)
    assert "interrupted after" in out and "poll returned" not in out
    assert took < 3, took


@pytest.mark.both_stores
def test_async_worker_runs_async_handlers_without_blocking_the_loop(db: str) -> None:
    n = 30
    seen: list[bytes] = []

    async def handler(job: asyncop.Job) -> str:
        await asyncio.sleep(0.05)  # concurrently: 30 x 50 ms in well under 1.5 s with concurrency 10
        seen.append(job.payload)
        if job.payload == b"bad":
            raise asyncop.PermanentError("refused", error_code=5)
        return f"ok {job.payload.decode()}"

    async def main() -> tuple[asyncop.Queue, list[int], int, dict[str, int]]:
        q = asyncop.Queue(db, durability="normal")
        ids = q.submit_many([asyncop.OperationSpec(f"op{i}", TYPE, str(i).encode()) for i in range(n)])
        bad = q.submit("bad", b"bad", operation_type=TYPE)
        worker = asyncop.AsyncWorker(q, {TYPE: handler}, concurrency=10)
        ticks: list[float] = []
        stop = asyncio.Event()
        ticker = asyncio.create_task(_ticker(ticks, stop))
        running = asyncio.create_task(worker.run())
        aq = asyncop.AsyncQueue(q)
        for op_id in ids + [bad]:
            assert (await aq.wait_for(op_id, timeout=30)).is_completed
        worker.stop()
        await running
        stop.set()
        await ticker
        return q, ids, bad, worker.stats

    t0 = time.monotonic()
    q, ids, bad, stats = asyncio.run(main())
    assert time.monotonic() - t0 < 20
    assert stats == {"completed": n, "failed": 1}
    assert sorted(seen) == sorted([str(i).encode() for i in range(n)] + [b"bad"])
    assert q.retrieve(ids[3]).output == b"ok 3"
    failed = q.retrieve(bad)
    assert failed.status == Status.FAILED and failed.error_code == 5
    q.close()


def test_async_worker_retries_a_raising_handler_and_cancellation_gives_jobs_back(tmp_path: Path) -> None:
    db = str(tmp_path / "q.db")
    started = asyncio.Event()

    async def flaky(job: asyncop.Job) -> None:
        if job.attempt == 1:
            raise RuntimeError("first attempt fails")

    async def slow(job: asyncop.Job) -> None:
        started.set()
        await asyncio.sleep(60)

    async def main() -> tuple[int, int, dict[str, int]]:
        q = asyncop.Queue(db, durability="normal", backoff=(0.01, 0.01))
        flaky_id = q.submit("flaky", operation_type=TYPE)
        worker = asyncop.AsyncWorker(q, {TYPE: flaky, TYPE + 1: slow})
        running = asyncio.create_task(worker.run())
        aq = asyncop.AsyncQueue(q)
        assert (await aq.wait_for(flaky_id, timeout=30)).status == Status.SUCCEEDED
        slow_id = q.submit("slow", operation_type=TYPE + 1)
        await asyncio.wait_for(started.wait(), 30)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        return flaky_id, slow_id, worker.stats

    flaky_id, slow_id, stats = asyncio.run(main())
    assert stats == {"retried": 1, "completed": 1, "released": 1}
    with asyncop.Queue(db) as q:
        assert q.retrieve(flaky_id).retry_count == 1
        assert [a.message for a in q.attempts(flaky_id)] == ["RuntimeError: first attempt fails"]
        # Given back, claimable at once: no lease left behind.
        assert q.retrieve(slow_id).state in (State.READY, State.SUSPENDED)
        assert len(q.poll("host-2", wait=5)) == 1
