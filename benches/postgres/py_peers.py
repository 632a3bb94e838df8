#!/usr/bin/env python3
"""The Python cells of the PostgreSQL benchmark: asyncop's Python package and
Procrastinate (pinned in ``benches/postgres/requirements.txt``), one cell per call
on a fresh database, as ``node-peers.mjs`` does for the Node peers::

    python py_peers.py IMPL WORKLOAD URL N    -> one JSON line: {"seconds": s} or {"p50": ms, "p99": ms}
    python py_peers.py IMPL child-w4 URL      (a W4 worker process: "ready", waits for "go")
    python py_peers.py IMPL child-latency URL N

IMPL is ``asyncop-python`` or ``procrastinate``; the workloads are those of
``benches/postgres/main.rs``. Items carry their index in the payload, and every
drain checks that each index was handled exactly once and that the database
counts every job completed; a violation exits with status 3 (``peers.py`` then
fails the run), any other failure with 1.

asyncop runs with its defaults (schema ``asyncop``, a pool of 4 connections; one
``Queue`` shared by W3's threads). Procrastinate runs with its defaults too: a
``PsycopgConnector`` (psycopg 3 async pool), an ``async`` task, workers with
``listen_notify`` on and ``wait=False`` for the drains (a worker stops once it
has caught up with the queue); W3 is one worker with ``concurrency=4``. It has
no batch fetch, so W5 is not supported (``peers.py`` records n/a).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

THREADS = 4
PROCESSES = 4
BATCH = 100
# One submit every 20 ms: every implementation keeps up, so the figure is its
# wake-up latency rather than the backlog of a worker slower than the submitter.
LATENCY_GAP = 0.020
OPERATION_TYPE = 1
PAD = b"." * 92


class ExactlyOnce(RuntimeError):
    """A job was handled twice or not at all."""


def payload(i: int, stamp: int = 0) -> bytes:
    """Item ``i`` with the submit's wall-clock stamp (ns; latency only): ~100 bytes."""
    return b"%08d %020d " % (i, stamp) + PAD


def parse(data: bytes) -> tuple[int, int]:
    """(index, stamp) of a :func:`payload`."""
    return int(data[:8]), int(data[9:29])


def check_handled(handled: Sequence[int], n: int) -> None:
    """Fails unless ``handled`` holds each of 0..n-1 exactly once."""
    if len(handled) != n or sorted(handled) != list(range(n)):
        dup = len(handled) - len(set(handled))
        missing = n - len(set(handled) & set(range(n)))
        raise ExactlyOnce(f"{len(handled)} handled for {n} jobs ({dup} duplicates, {missing} missing)")


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """Nearest-rank p50 and p99."""
    s = sorted(samples_ms)

    def rank(p: float) -> float:
        return s[min(len(s), max(1, math.ceil(p * len(s)))) - 1]

    return {"p50": rank(0.50), "p99": rank(0.99)}


def spawn_child(args: list[str]) -> subprocess.Popen[str]:
    """This script as a child worker, talking over its stdin/stdout."""
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )


def expect_ready(child: subprocess.Popen[str]) -> None:
    """Waits for the child's "ready" line."""
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise RuntimeError(f"a child did not say ready (status {child.wait()})")


def results(child: subprocess.Popen[str]) -> list[list[float]]:
    """A child's result lines, up to "end"; checks that it exits cleanly."""
    assert child.stdout is not None
    rows = []
    for line in child.stdout:
        if line.strip() == "end":
            break
        rows.append([float(x) for x in line.split()])
    if child.wait() != 0:
        raise RuntimeError(f"a child failed with status {child.returncode}")
    return rows


def run_w4(impl: str, url: str, n: int) -> float:
    """4 worker processes drain the pre-filled queue; returns seconds."""
    children = [spawn_child([impl, "child-w4", url]) for _ in range(PROCESSES)]
    try:
        for c in children:
            expect_ready(c)
        started = time.perf_counter()
        for c in children:
            assert c.stdin is not None
            c.stdin.write("go\n")
            c.stdin.flush()
        rows = [r for c in children for r in results(c)]
        seconds = time.perf_counter() - started
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()
    check_handled([int(r[0]) for r in rows], n)
    return seconds


def run_latency(impl: str, url: str, n: int, submit: Callable[[int, int], None]) -> dict[str, float]:
    """A worker process waits for jobs; this one submits one every ``LATENCY_GAP``."""
    child = spawn_child([impl, "child-latency", url, str(n)])
    try:
        expect_ready(child)
        time.sleep(0.2)
        for i in range(n):
            submit(i, time.time_ns())
            time.sleep(LATENCY_GAP)
        rows = results(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    check_handled([int(r[0]) for r in rows], n)
    return percentiles([r[1] for r in rows])


# -- asyncop-python -----------------------------------------------------------------------


def asyncop_cell(workload: str, url: str, n: int) -> dict[str, float]:
    """One asyncop-python cell."""
    import asyncop

    q = asyncop.Queue(url)
    try:
        if workload == "W1":
            started = time.perf_counter()
            for i in range(n):
                q.submit("bench", payload(i), operation_type=OPERATION_TYPE)
            seconds = time.perf_counter() - started
            asyncop_check(q, n, done=False)
            return {"seconds": seconds}
        if workload == "latency-xproc":

            def submit(i: int, stamp: int) -> None:
                q.submit("bench", payload(i, stamp), operation_type=OPERATION_TYPE)

            out = run_latency("asyncop-python", url, n, submit)
            asyncop_check(q, n)
            return out
        for s in range(0, n, 1000):
            chunk = range(s, min(n, s + 1000))
            q.submit_many([{"name": "bench", "operation_type": OPERATION_TYPE, "payload": payload(i)} for i in chunk])
        if workload == "W4":
            seconds = run_w4("asyncop-python", url, n)
        else:
            handled: list[int] = []
            workers = THREADS if workload == "W3" else 1
            batch = BATCH if workload == "W5" else 1
            errors: list[BaseException] = []

            def work(w: int) -> None:
                try:
                    asyncop_drain(q, f"host-{w}", batch, handled)
                except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - started
            if errors:
                raise errors[0]
            check_handled(handled, n)
        asyncop_check(q, n)
        return {"seconds": seconds}
    finally:
        q.close()


def asyncop_drain(q: Any, host: str, batch: int, handled: list[int]) -> None:
    """poll + complete (W5: complete_many) until a poll finds nothing."""
    while leases := q.poll(host, max=batch):
        if batch == 1:
            leases[0].complete()
        else:
            errors = q.complete_many(leases)
            if any(e is not None for e in errors):
                raise RuntimeError(f"complete_many: {[e for e in errors if e is not None][:3]}")
        for lease in leases:
            if lease.lock_token != 1:
                raise ExactlyOnce(f"operation {lease.id} claimed again (lock token {lease.lock_token})")
            handled.append(parse(lease.payload)[0])
            lease.close()


def asyncop_check(q: Any, n: int, done: bool = True) -> None:
    """The queue counts ``n`` operations, all Succeeded (``done``) or all waiting."""
    import asyncop

    want = asyncop.Status.SUCCEEDED if done else asyncop.Status.WAITING_FOR_RESOURCES
    counts = {c.status: c.count for c in q.counts()}
    if counts != {want: n}:
        raise ExactlyOnce(f"counts {counts}, expected {n} {want.name}")


def asyncop_child(kind: str, url: str, n: int) -> list[str]:
    """A W4 or latency worker process of asyncop-python."""
    import asyncop

    q = asyncop.Queue(url)
    print("ready", flush=True)
    rows: list[str] = []
    if kind == "child-w4":
        sys.stdin.readline()
        handled: list[int] = []
        asyncop_drain(q, f"host-{id(q)}", 1, handled)
        rows = [str(i) for i in handled]
    else:
        while len(rows) < n:
            leases = q.poll("host-latency", max=1, wait=10)
            if not leases:
                raise RuntimeError("no work within 10 s: submitter gone?")
            for lease in leases:
                i, stamp = parse(lease.payload)
                rows.append(f"{i} {(time.time_ns() - stamp) / 1e6:.4f}")
                lease.complete()
                lease.close()
    q.close()
    return rows


# -- Procrastinate --------------------------------------------------------------------------


def procrastinate_app(url: str, handled: list[Any], n: int = 0, done: asyncio.Event | None = None) -> Any:
    """An App with the one task, which records (index, submit→start ms)."""
    import procrastinate

    # Quiet its warning that the App lives in the main module (harmless here).
    logging.getLogger("procrastinate").setLevel(logging.ERROR)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="bench")
    async def bench(i: int, stamp: int = 0, pad: str = "") -> None:
        handled.append((i, (time.time_ns() - stamp) / 1e6))
        if done is not None and len(handled) >= n:
            done.set()

    return app


def procrastinate_pad() -> str:
    """A text pad that makes the JSON arguments ~100 bytes."""
    return "." * 70


async def procrastinate_cell(workload: str, url: str, n: int) -> dict[str, float]:
    """One Procrastinate cell."""
    handled: list[tuple[int, float]] = []
    app = procrastinate_app(url, handled)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        task = app.tasks["bench"]
        pad = procrastinate_pad()
        if workload == "W1":
            started = time.perf_counter()
            for i in range(n):
                await task.defer_async(i=i, pad=pad)
            seconds = time.perf_counter() - started
            await procrastinate_check(app, n, "todo")
            return {"seconds": seconds}
        if workload == "latency-xproc":
            loop = asyncio.get_running_loop()

            def submit(i: int, t: int) -> None:
                asyncio.run_coroutine_threadsafe(task.defer_async(i=i, stamp=t, pad=pad), loop).result()

            out = await asyncio.to_thread(run_latency, "procrastinate", url, n, submit)
            await procrastinate_check(app, n, "succeeded")
            return out
        for s in range(0, n, 1000):
            await task.batch_defer_async(*({"i": i, "pad": pad} for i in range(s, min(n, s + 1000))))
        if workload == "W4":
            seconds = await asyncio.to_thread(run_w4, "procrastinate", url, n)
        elif workload in ("W2", "W3"):
            started = time.perf_counter()
            await app.run_worker_async(
                concurrency=THREADS if workload == "W3" else 1, wait=False, install_signal_handlers=False
            )
            seconds = time.perf_counter() - started
            check_handled([i for i, _ in handled], n)
        else:
            raise RuntimeError(f"procrastinate: no {workload}")
        await procrastinate_check(app, n, "succeeded")
        return {"seconds": seconds}


async def procrastinate_check(app: Any, n: int, status: str) -> None:
    """Every job of the run has ``status``."""
    async with app.connector.pool.connection() as conn:
        cur = await conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
        counts = dict(await cur.fetchall())
    if counts != {status: n}:
        raise ExactlyOnce(f"procrastinate_jobs by status {counts}, expected {n} {status}")


async def procrastinate_child(kind: str, url: str, n: int) -> list[str]:
    """A W4 or latency worker process of Procrastinate."""
    handled: list[tuple[int, float]] = []
    done = asyncio.Event()
    app = procrastinate_app(url, handled, n, done)
    async with app.open_async():
        print("ready", flush=True)
        if kind == "child-w4":
            await asyncio.to_thread(sys.stdin.readline)
            await app.run_worker_async(wait=False, install_signal_handlers=False)
        else:
            worker = asyncio.create_task(app.run_worker_async(install_signal_handlers=False))
            await asyncio.wait_for(done.wait(), timeout=120)
            worker.cancel()  # a graceful stop: the job in hand finishes first
            try:
                await worker
            except asyncio.CancelledError:
                pass
    return [f"{i} {ms:.4f}" for i, ms in handled]


def main(argv: Sequence[str]) -> int:
    """Runs one cell or one child; prints its JSON line or its rows."""
    impl, workload, url, *rest = argv
    n = int(rest[0]) if rest else 0
    if workload.startswith("child-"):
        if impl == "asyncop-python":
            rows = asyncop_child(workload, url, n)
        else:
            rows = asyncio.run(procrastinate_child(workload, url, n))
        sys.stdout.write("".join(f"{r}\n" for r in rows) + "end\n")
        return 0
    if impl == "asyncop-python":
        out = asyncop_cell(workload, url, n)
    elif impl == "procrastinate":
        out = asyncio.run(procrastinate_cell(workload, url, n))
    else:
        raise SystemExit(f"unknown implementation {impl}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ExactlyOnce as exc:
        print(f"py_peers: EXACTLY-ONCE VIOLATION: {exc}", file=sys.stderr)
        sys.exit(3)
