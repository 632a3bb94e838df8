"""Task registration (``@registry.task``) and ``python -m asyncop worker``:
submit through the decorator, run the worker command as a real process, check
the arguments each run got, the retry options, and a SIGTERM mid-run that
loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import asyncop
from asyncop import State, Status

TASKS_MODULE = """
import asyncio, json, os, time
import asyncop

tasks = asyncop.TaskRegistry(os.environ["TASKS_DB"], queue_options={"durability": "normal"})
LOG = os.environ["TASKS_LOG"]


def _log(entry):
    with open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\\n")


@tasks.task(operation_type=11)
def record(i: int, label: str, *, delay: float = 0.0) -> None:
    time.sleep(delay)
    _log(["record", i, label])


@tasks.task(operation_type=12, name="double it")
async def double(i: int) -> int:
    await asyncio.sleep(0.01)
    _log(["double", i])
    return i * 2


@tasks.task(operation_type=13, max_attempts=3, backoff=(0.01, 0.01))
def flaky(key: str) -> None:
    _log(["flaky", key])
    raise ValueError("still broken")


@tasks.task(operation_type=14, retry_for=(ConnectionError,))
def picky() -> None:
    _log(["picky"])
    raise KeyError("not a connection problem")
"""

# The same function registered on an open Queue: the `module:queue` form of the command.
QUEUE_MODULE = """
import os
import asyncop
import mytasks

queue = asyncop.Queue(os.environ["TASKS_DB"], durability="normal")
asyncop.TaskRegistry(queue).task(operation_type=11)(mytasks.record.fn)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding the task modules; the tests import them from there too."""
    (tmp_path / "mytasks.py").write_text(TASKS_MODULE)
    (tmp_path / "myqueue.py").write_text(QUEUE_MODULE)
    monkeypatch.setenv("TASKS_DB", str(tmp_path / "q.db"))
    monkeypatch.setenv("TASKS_LOG", str(tmp_path / "log.jsonl"))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("mytasks", "myqueue"):
        sys.modules.pop(name, None)
    return tmp_path


def _worker(project: Path, target: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    # The same asyncop as this test run (a source tree or the installed package).
    package_dir = str(Path(asyncop.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_dir, env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "asyncop", "worker", target, "--poll-wait", "0.1", *args]
    return subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _log(project: Path) -> list[list[object]]:
    path = project / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait_until(predicate: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited early ({proc.returncode}): {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out: {proc.communicate()}")
        time.sleep(0.02)


def _stop(proc: subprocess.Popen[str]) -> tuple[str, float]:
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return err, time.monotonic() - sent


def test_decorator_submits_named_json_payloads_and_runs_locally(project: Path) -> None:
    import mytasks

    op_id = mytasks.record.submit(1, "one", delay=0.5)
    assert mytasks.record.delay(2, label="two") == op_id + 1
    later = mytasks.record.with_options(correlation_id="batch-7", dependency_token="t").submit(3, "three")
    q = mytasks.tasks.queue
    op = q.retrieve(op_id)
    assert op.name == "mytasks.record" and op.operation_type == 11
    assert json.loads(op.payload) == {"args": [1, "one"], "kwargs": {"delay": 0.5}}
    assert q.retrieve(later).correlation_id == "batch-7" and q.retrieve(later).dependency_token == "t"
    assert q.retrieve(mytasks.double.submit(4)).name == "double it"
    mytasks.record(9, "local")  # a plain call runs here, queues nothing
    assert _log(project) == [["record", 9, "local"]]
    assert len(q.query()) == 4
    with pytest.raises(TypeError):
        mytasks.record.submit(object(), "not JSON")
    with pytest.raises(ValueError, match="registered already"):
        mytasks.tasks.task(operation_type=11)(lambda: None)


def test_a_pluggable_serializer_carries_what_json_cannot(tmp_path: Path) -> None:
    with asyncop.Queue(str(tmp_path / "q.db"), durability="normal") as q:
        tasks = asyncop.TaskRegistry(q, serializer=asyncop.PickleSerializer())
        got: list[object] = []

        @tasks.task(operation_type=5)
        def at(when: datetime) -> None:
            got.append(when)

        moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        op_id = at.submit(moment)
        with asyncop.Worker(q, tasks.handlers(), threads=1, poll_wait=0.05):
            assert q.wait_for(op_id, 30).status == Status.SUCCEEDED
        assert got == [moment]


def test_worker_command_runs_the_tasks_with_their_arguments_and_retry_options(project: Path) -> None:
    import mytasks

    records = [mytasks.record.submit(i, f"label {i}") for i in range(10)]
    doubled = mytasks.double.submit(21)
    flaky = mytasks.flaky.submit("k")
    picky = mytasks.picky.submit()
    q = mytasks.tasks.queue
    every = [*records, doubled, flaky, picky]
    proc = _worker(project, "mytasks:tasks", "--threads", "3")
    _wait_until(lambda: all(q.retrieve(i).is_completed for i in every), proc)
    err, _ = _stop(proc)

    log = _log(project)
    assert sorted(e for e in log if e[0] == "record") == sorted(["record", i, f"label {i}"] for i in range(10))
    assert ["double", 21] in log
    assert all(q.retrieve(i).status == Status.SUCCEEDED for i in records)
    assert q.retrieve(doubled).output == b"42"
    # max_attempts=3: three runs, then Failed; retry_for without KeyError: one run, Failed.
    assert log.count(["flaky", "k"]) == 3
    assert q.retrieve(flaky).status == Status.FAILED and q.retrieve(flaky).retry_count == 2
    assert log.count(["picky"]) == 1 and q.retrieve(picky).status == Status.FAILED
    assert "KeyError" in (q.retrieve(picky).message or "")
    # The logging module, at INFO: the start line, each task, the clean stop.
    assert "3 threads" in err and "task mytasks.record: operation" in err and "stopped cleanly" in err


@pytest.mark.parametrize(
    "mode", [["--threads", "2", "--prefetch", "2"], ["--asyncio", "--concurrency", "2"]], ids=["threads", "asyncio"]
)
def test_sigterm_mid_run_finishes_running_jobs_and_loses_nothing(project: Path, mode: list[str]) -> None:
    import mytasks

    n = 40
    ids = [mytasks.record.submit(i, "slow", delay=0.05) for i in range(n)]
    q = mytasks.tasks.queue
    proc = _worker(project, "mytasks:tasks", *mode)
    _wait_until(lambda: len(_log(project)) >= 6, proc)
    err, took = _stop(proc)
    assert "stopped cleanly" in err
    assert took < 10

    # Nothing half-done: no lease left, every completed run logged once, the rest still Ready.
    states = {c.state: c.count for c in q.counts()}
    assert State.LOCKED not in states, states
    ran = [e[1] for e in _log(project)]
    done = [i for i, op_id in enumerate(ids) if q.retrieve(op_id).status == Status.SUCCEEDED]
    assert sorted(ran) == done, (ran, done)
    assert 6 <= len(done) < n
    assert states.get(State.READY, 0) == n - len(done)

    # A second worker (the `module:queue` form) drains the rest: each ran exactly once.
    proc = _worker(project, "myqueue:queue", "--threads", "4")
    _wait_until(lambda: all(q.retrieve(i).is_completed for i in ids), proc)
    _stop(proc)
    assert sorted(e[1] for e in _log(project)) == list(range(n))
    assert q.counts() == [asyncop.Count(State.COMPLETED, Status.SUCCEEDED, 11, n)]


def test_worker_command_refuses_a_wrong_target(project: Path) -> None:
    proc = _worker(project, "mytasks:LOG")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "not a TaskRegistry or a Queue" in err
    proc = _worker(project, "no-colon")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "module:attr" in err


def test_async_worker_runs_the_registry_plain_and_async_tasks(tmp_path: Path) -> None:
    import asyncio

    with asyncop.Queue(str(tmp_path / "q.db"), durability="normal") as q:
        tasks = asyncop.TaskRegistry(q)
        got: list[object] = []

        @tasks.task(operation_type=1)
        async def fetch(url: str, *, tries: int) -> str:
            await asyncio.sleep(0.01)
            got.append((url, tries))
            return url.upper()

        @tasks.task(operation_type=2, max_attempts=2)
        def crunch(n: int) -> int:
            if n < 0:
                raise ValueError("negative")
            return n * n

        ids = [fetch.submit("a", tries=1), crunch.submit(7), crunch.submit(-1)]

        async def main() -> dict[str, int]:
            worker = asyncop.AsyncWorker(q, tasks.async_handlers(), concurrency=4)
            running = asyncio.create_task(worker.run())
            aq = asyncop.AsyncQueue(q)
            for op_id in ids:
                assert (await aq.wait_for(op_id, timeout=30)).is_completed
            worker.stop()
            await running
            return worker.stats

        stats = asyncio.run(main())
        assert got == [("a", 1)]
        assert [q.retrieve(i).output for i in ids[:2]] == [b"A", b"49"]
        assert q.retrieve(ids[2]).status == Status.FAILED and q.retrieve(ids[2]).retry_count == 1
        assert stats == {"completed": 2, "retried": 1, "failed": 1}
