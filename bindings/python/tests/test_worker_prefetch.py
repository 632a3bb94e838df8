"""Worker, one commit per job: successes are completed with the thread's next
claim (Queue.complete_and_poll), threads claim ``prefetch`` jobs at once;
prefetched jobs are renewed while they wait, a pause or cancel before they
start is honoured without running them, and stop() runs or gives them back."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Callable

import pytest

import asyncop
from asyncop import State, Status

TYPE = 7

pytestmark = pytest.mark.both_stores


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


class CountingQueue(asyncop.Queue):
    """Counts the worker's write calls that carry completions: each is one commit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_lock = threading.Lock()
        self.commits_with_completions = 0
        self.completions = 0
        self.claim_calls = 0

    def _counted(self, n: int) -> None:
        with self.count_lock:
            self.commits_with_completions += 1 if n else 0
            self.completions += n

    def complete_and_poll(self, leases: Sequence[asyncop.Lease], host_id: str, **kwargs: Any) -> Any:
        result = super().complete_and_poll(leases, host_id, **kwargs)
        with self.count_lock:
            self.claim_calls += 1
        self._counted(sum(1 for e in result[0] if e is None))
        return result

    def complete_many(self, leases: Sequence[asyncop.Lease]) -> Any:
        result = super().complete_many(leases)
        self._counted(sum(1 for e in result if e is None))
        return result


@pytest.mark.parametrize("threads", [1, 4])
@pytest.mark.parametrize("prefetch", [1, None])
def test_the_worker_drains_every_job_exactly_once(db: str, store: str, threads: int, prefetch: int | None) -> None:
    n = 300 if store == "sqlite" else 60
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def handler(job: asyncop.Job) -> None:
        with lock:
            ran[job.id] += 1

    options = {} if prefetch is None else {"prefetch": prefetch}
    with CountingQueue(db, durability="normal") as q:
        ids = q.submit_many([asyncop.OperationSpec(f"j{i}", TYPE) for i in range(n)])
        with asyncop.Worker(q, {TYPE: handler}, threads=threads, poll_wait=0.05, **options) as worker:
            wait_until(lambda: worker.stats.get("completed", 0) == n)
        assert sorted(ran) == ids and set(ran.values()) == {1}
        assert q.counts() == [asyncop.Count(State.COMPLETED, Status.SUCCEEDED, TYPE, n)]
        assert worker.stats == {"completed": n}
        # Every success was completed inside a claim's transaction.
        assert q.completions == n
        assert q.commits_with_completions < n if prefetch is None else q.commits_with_completions <= n
        if prefetch is None and threads == 1:
            # One thread, default prefetch: a commit per batch, not per job.
            batches = -(-n // asyncop.DEFAULT_PREFETCH)
            assert q.commits_with_completions <= batches + 1
            assert q.claim_calls <= batches + 2


def test_successes_share_commits_and_outputs_and_failures_are_written_at_once(db: str) -> None:
    n = 32

    def handler(job: asyncop.Job) -> Any:
        if job.name.startswith("out"):
            return {"n": job.name}
        if job.name.startswith("bad"):
            raise asyncop.PermanentError("no")
        return None

    names = [f"ok{i}" for i in range(n)] + ["out1", "out2", "bad1"]
    with CountingQueue(db, durability="normal") as q:
        q.submit_many([asyncop.OperationSpec(name, TYPE) for name in names])
        with asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05, prefetch=8) as worker:
            wait_until(lambda: worker.stats.get("completed", 0) == n + 2 and worker.stats.get("failed") == 1)
        assert q.completions == n  # the two with an output were completed at once, with it
        assert q.commits_with_completions <= n // 8 + 2
        outputs = [op.output for op in q.query(state=State.COMPLETED) if op.name.startswith("out")]
        assert sorted(outputs) == [b'{"n": "out1"}', b'{"n": "out2"}']


def test_a_prefetched_job_paused_or_canceled_before_it_starts_never_runs(db: str) -> None:
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def handler(job: asyncop.Job) -> None:
        ran.append(job.name)
        if job.name == "a":
            started.set()
            release.wait(10)

    with asyncop.Queue(db, durability="normal", lease=0.3) as q:
        a, b, c, d = (q.submit(name, operation_type=TYPE) for name in "abcd")
        with asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05, prefetch=4) as worker:
            assert started.wait(10)
            assert all(q.retrieve(i).state is State.LOCKED for i in (b, c, d)), "b, c, d were prefetched"
            q.pause(b)
            q.cancel(c)
            time.sleep(0.5)  # longer than the lease: the prefetched leases are renewed meanwhile
            release.set()
            wait_until(lambda: worker.stats.get("completed") == 2)
        assert ran == ["a", "d"]
        assert worker.stats == {"completed": 2, "paused": 1, "canceled": 1}
        assert q.retrieve(b).state is State.SUSPENDED and q.retrieve(b).postpone_until is None
        assert q.retrieve(c).status is Status.CANCELED
        for i in (a, d):
            op = q.retrieve(i)
            assert (op.status, op.retry_count, op.lock_token) == (Status.SUCCEEDED, 0, 1), "claimed once, never lost"


def test_stop_runs_the_prefetched_jobs_and_claims_no_more(db: str) -> None:
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def handler(job: asyncop.Job) -> None:
        ran.append(job.name)
        if job.name == "a":
            started.set()
            release.wait(10)

    with asyncop.Queue(db, durability="normal", lease=0.3) as q:
        ids = [q.submit(name, operation_type=TYPE) for name in "abcd"]
        # One thread: a second one could be in a waiting poll when stop() is called,
        # and an in-flight poll may still claim (as before prefetch).
        worker = asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05, prefetch=4)
        worker.start()
        assert started.wait(10)
        stopped: list[bool] = []
        stopper = threading.Thread(target=lambda: stopped.append(worker.stop()))
        stopper.start()
        wait_until(lambda: worker._stopping.is_set())
        late = q.submit("late", operation_type=TYPE)
        time.sleep(0.5)  # past the lease: prefetched jobs are still renewed
        release.set()
        stopper.join(30)
        assert stopped == [True]
        assert sorted(ran) == ["a", "b", "c", "d"]
        assert worker.stats == {"completed": 4}
        for i in ids:
            op = q.retrieve(i)
            assert (op.status, op.retry_count) == (Status.SUCCEEDED, 0)
        assert q.retrieve(late).state is State.READY


def test_a_stop_past_its_timeout_gives_back_the_prefetched_jobs(db: str) -> None:
    started = threading.Event()
    ran: list[str] = []

    def handler(job: asyncop.Job) -> None:
        ran.append(job.name)
        started.set()
        job.sleep(10)
        job.checkpoint()

    with asyncop.Queue(db, durability="normal", lease=0.3) as q:
        a, b, c = (q.submit(name, operation_type=TYPE) for name in "abc")
        worker = asyncop.Worker(q, {TYPE: handler}, threads=1, poll_wait=0.05, prefetch=4)
        worker.start()
        assert started.wait(10)
        assert worker.stop(timeout=0.1) is False
        assert worker.stop() is True
        assert ran == ["a"]
        assert worker.stats == {"retried": 1, "released": 2}
        for i in (b, c):
            op = q.retrieve(i)
            assert op.state is not State.LOCKED and op.retry_count == 1
        # Given back due at once: the next claim takes them.
        leases = q.poll("next", max=3)
        assert sorted(lease.id for lease in leases) == [b, c]
        for lease in leases:
            lease.complete()
