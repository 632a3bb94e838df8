"""Handle lifetime: close, double close, garbage collection, interpreter exit,
closing while other threads call. No crash, no leaked handle or descriptor,
no ResourceWarning."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import weakref
from pathlib import Path

import pytest
from _support import claim, open_fds

import asyncop
from asyncop import _native

E = asyncop.ErrorCode


def test_collected_lease_frees_its_handle(queue: asyncop.Queue) -> None:
    queue.submit("x", operation_type=1)
    lease = claim(queue)
    raw = lease._h
    gone = weakref.ref(lease)
    del lease
    gc.collect()
    assert gone() is None
    assert _native.lib.asyncop_lease_free(raw) == E.CLOSED_HANDLE  # freed exactly once already


def test_collected_queue_closes_its_handle_and_files(tmp_path: Path) -> None:
    baseline = open_fds()
    q = asyncop.Queue(tmp_path / "q.db")
    q.submit("x", operation_type=1)
    raw = q._h
    assert {p for p in open_fds() - baseline if "q.db" in p}
    del q
    gc.collect()
    assert _native.lib.asyncop_queue_close(raw) == E.CLOSED_HANDLE
    assert not {p for p in open_fds() - baseline if "q.db" in p}


def test_closing_twice_and_close_then_collect(tmp_path: Path) -> None:
    q = asyncop.Queue(tmp_path / "q.db")
    raw = q._h
    q.close()
    q.close()
    assert q._finalizer is not None and not q._finalizer.alive
    del q
    gc.collect()
    assert _native.lib.asyncop_queue_close(raw) == E.CLOSED_HANDLE


def test_a_lease_keeps_its_queue_alive(tmp_path: Path) -> None:
    q = asyncop.Queue(tmp_path / "q.db")
    op_id = q.submit("x", operation_type=1)
    lease = claim(q)
    raw_queue = q._h
    del q
    gc.collect()
    assert lease.complete() is asyncop.Status.SUCCEEDED  # the queue is still open
    assert lease.queue.retrieve(op_id).is_completed
    del lease
    gc.collect()
    assert _native.lib.asyncop_queue_close(raw_queue) == E.CLOSED_HANDLE  # closed with its last lease


def test_collect_leases_then_close_queue_without_warnings(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q = asyncop.Queue(tmp_path / "q.db")
        q.submit_many([asyncop.OperationSpec(f"op{i}", 1) for i in range(20)])
        leases = q.poll("h", max=20)
        raws = [lease._h for lease in leases]
        for lease in leases[:10]:
            lease.complete()
        del leases, lease
        gc.collect()
        q.close()
        del q
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert all(_native.lib.asyncop_lease_free(raw) == E.CLOSED_HANDLE for raw in raws)


def test_reference_cycles_are_collected(tmp_path: Path) -> None:
    q = asyncop.Queue(tmp_path / "q.db")
    q.cycle = q  # type: ignore[attr-defined]
    raw = q._h
    del q
    gc.collect()
    assert _native.lib.asyncop_queue_close(raw) == E.CLOSED_HANDLE


def test_many_unclosed_queues_do_not_leak_descriptors(tmp_path: Path) -> None:
    baseline = len(open_fds())
    for i in range(100):
        q = asyncop.Queue(tmp_path / f"q{i % 3}.db", durability="normal")
        q.submit("x", operation_type=1)
        claim(q)  # dropped unfinished
    del q
    gc.collect()
    assert len(open_fds()) <= baseline + 2


def test_snapshots_lists_and_counts_are_freed(queue: asyncop.Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every handle the Python API takes is released before the call returns."""
    taken: list[int] = []
    freed: list[int] = []
    lib = _native.lib
    for name in ("asyncop_operation_free", "asyncop_operation_list_free", "asyncop_counts_free", "asyncop_spec_free"):
        real = getattr(lib, name)
        monkeypatch.setattr(lib, name, (lambda real: lambda h: (freed.append(h), real(h))[1])(real), raising=True)
    real_get = lib.asyncop_operation_list_get

    def tracking_get(list_h, i, out):  # type: ignore[no-untyped-def]
        real_get(list_h, i, out)
        taken.append(out._obj.value)

    monkeypatch.setattr(lib, "asyncop_operation_list_get", tracking_get)
    queue.submit_many([asyncop.OperationSpec(f"op{i}", 1) for i in range(3)])
    assert len(queue.query()) == 3
    queue.retrieve(1)
    queue.counts()
    assert set(taken) <= set(freed) and len(taken) == 3
    assert len(freed) == 3 + 1 + 1 + 1 + 3  # snapshots, list, retrieve, counts, specs


def test_interpreter_exit_with_open_objects(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    code = textwrap.dedent(
        f"""
        import asyncop
        q = asyncop.Queue({str(db)!r}, lease=0.2)
        q.submit("x", operation_type=1)
        lease = q.poll("exiting-host")[0]
        keep = [q, lease]
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert (r.returncode, r.stderr) == (0, "")
    with asyncop.Queue(db) as q:
        op = q.retrieve(1)
        assert op.state is asyncop.State.LOCKED  # freeing a lease does not end it
        lease = q.poll("next-host", wait=5)[0]  # it expires and is claimed again
        assert lease.attempt == 2
        lease.complete()
        lease.close()


def _hammer(q: asyncop.Queue, start: threading.Barrier, errors: list[BaseException]) -> None:
    start.wait()
    try:
        for i in range(200):
            q.submit(f"x{i}", operation_type=1)
            for lease in q.poll("h"):
                lease.complete()
                lease.close()
    except asyncop.ClosedError:
        pass
    except BaseException as e:  # noqa: BLE001
        errors.append(e)


def _close_later(q: asyncop.Queue, start: threading.Barrier, delay: float) -> None:
    start.wait()
    time.sleep(delay)
    q.close()


def test_close_while_other_threads_call(tmp_path: Path) -> None:
    for round_ in range(5):
        q = asyncop.Queue(tmp_path / "q.db", durability="normal")
        errors: list[BaseException] = []
        start = threading.Barrier(5)
        threads = [threading.Thread(target=_hammer, args=(q, start, errors)) for _ in range(3)]
        threads += [threading.Thread(target=_close_later, args=(q, start, 0.005 * round_)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and q.closed


def test_closed_lease_never_reaches_c(queue: asyncop.Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    queue.submit("x", operation_type=1)
    lease = claim(queue)
    lease.close()
    monkeypatch.setattr(asyncop._queue, "lib", None)
    for call in (
        lease.renew,
        lease.complete,
        lambda: lease.fail(None, error_code="bad"),  # type: ignore[arg-type]
        lambda: lease.retry(at="bad"),  # type: ignore[arg-type]
        lease.suspend,
        lease.acknowledge_pause,
        lease.acknowledge_cancel,
        lambda: lease.report(asyncop.Outcome.SUCCEEDED),
    ):
        with pytest.raises(asyncop.ClosedError):
            call()
