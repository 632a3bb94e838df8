#!/usr/bin/env python3
"""asyncop's Python package against three SQLite-backed Python queues.

Peers, pinned in ``benches/python/requirements.txt`` and each used with its own
defaults through its public API (read from the installed sources):

* persist-queue ``persistqueue.SQLiteAckQueue``: ``put`` / ``get`` / ``ack``;
* huey ``huey.storage.SqliteStorage``: ``enqueue`` / ``dequeue``. There is no
  separate ack: ``dequeue`` deletes the row, so it is claim and complete in one
  call (and one commit), and an item dequeued by a process that then crashes is
  lost;
* litequeue ``LiteQueue``: ``put`` / ``pop`` / ``done``.

asyncop runs twice, at ``durability='full'`` and ``'normal'``, so that every peer
row can be compared with asyncop at the peer's own ``synchronous`` level.

Workloads (fresh database files in a temporary directory for every run, ~100-byte
payloads carrying the item's index, so that every claim can be checked):

* W1: submit one item per call;
* W2: submit -> claim -> complete: one worker drains a pre-filled queue;
* W3: the same drain with 4 threads (a peer object that cannot be shared across
  threads gets one object per thread on the same file);
* W5: the drain batched: asyncop ``poll(max=100)`` + ``complete_many``; the peers
  have no batch API ("n/a").

The prefill of W2/W3/W5 is untimed: asyncop uses ``submit_many``; a peer uses its
own ``put``/``enqueue`` with its writing connection switched to
``synchronous=OFF`` for the prefill only (then set back, and checked). After the
prefill a separate connection checkpoints the WAL, so every timed drain starts
from the same place: all items in the main database file, an empty WAL.

Each cell (implementation x workload) runs 3 times, interleaved (run 1 of every
cell, then run 2 of all, then run 3); the value is the median in ops/s.
Op counts depend on the synchronous level (a FULL commit waits for an fsync):
cells compared with each other always use the same counts.

After each run the database file is read back with a separate ``sqlite3``
connection: the items left and completed are counted (the run fails loudly
unless every item was completed exactly once; the drains also check that the
claimed indices are exactly 0..n-1), and ``PRAGMA journal_mode`` is read (WAL is
stored in the file). ``PRAGMA synchronous`` is a per-connection setting, not
stored in the file: a separate connection only shows its own default, so the
recorded level is read on the peer's own writing connection(s) just before they
are closed, and the note says when a separate connection reads another value.
asyncop's connections are internal: its level is the one it sets on each of them
(``PRAGMA synchronous`` from the durability, ``src/store/mod.rs``).

Usage, from the repository root with the bench venv (``scripts/bench`` makes it)::

    .venv-bench/bin/python benches/python/peers.py [--quick] [--out target/bench/python.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import asyncop
from huey.storage import SqliteStorage  # type: ignore[import-untyped]
from litequeue import LiteQueue  # type: ignore[import-untyped]
from persistqueue import SQLiteAckQueue
from persistqueue.exceptions import Empty

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"

RUNS = 3
THREADS = 4
BATCH = 100
PAYLOAD_SIZE = 100
OPERATION_TYPE = 1
WORKLOADS = ("W1", "W2", "W3", "W5")
SYNC_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

#: Ops per run, by run kind and synchronous level. A FULL commit waits for an
#: fsync (0.3-3 ms on the project's shared 2-core machine, varying with the
#: other users of the disk), a NORMAL one does not. Every FULL cell of a full run
#: has at least 3,000 operations, so that its median is stable.
OPS: dict[bool, dict[str, dict[str, int]]] = {
    False: {
        "FULL": {"W1": 3000, "W2": 3000, "W3": 3000, "W5": 6000},
        "NORMAL": {"W1": 8000, "W2": 8000, "W3": 8000, "W5": 20000},
    },
    True: {
        "FULL": {"W1": 50, "W2": 50, "W3": 50, "W5": 500},
        "NORMAL": {"W1": 500, "W2": 500, "W3": 500, "W5": 2000},
    },
}


class BenchError(RuntimeError):
    """A run did not do what it claims: its cell is reported as failed."""


def payload(i: int) -> bytes:
    """The ~100-byte payload of item ``i``: its index, then padding."""
    return b"%08d" % i + b"." * (PAYLOAD_SIZE - 8)


def payload_text(i: int) -> str:
    """:func:`payload` as text, for a peer whose API takes ``str``."""
    return payload(i).decode("ascii")


def index_of(data: bytes | str) -> int:
    """The item index carried by a payload."""
    return int(data[:8])


def sync_name(level: int) -> str:
    """``PRAGMA synchronous`` number -> name (2 -> "FULL")."""
    return SYNC_NAMES.get(level, str(level))


def pragma(conn: sqlite3.Connection, name: str) -> Any:
    """The value of ``PRAGMA name`` on ``conn``."""
    row = conn.execute(f"PRAGMA {name}").fetchone()
    return row[0]


@contextmanager
def unsynced(conns: Sequence[sqlite3.Connection]) -> Iterator[None]:
    """Runs the block (an untimed prefill) with ``synchronous=OFF`` on ``conns``,
    then restores each connection's level and checks it is back."""
    levels = [pragma(c, "synchronous") for c in conns]
    for conn in conns:
        conn.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        for conn, level in zip(conns, levels):
            conn.execute(f"PRAGMA synchronous = {int(level)}")
            if pragma(conn, "synchronous") != level:
                raise BenchError(f"could not restore synchronous={level} after the prefill")


def checkpoint(db: Path) -> None:
    """Moves the WAL into the database file from a separate connection (untimed)."""
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


@dataclass
class Claim:
    """One claimed item: its index (from the payload) and what completes it."""

    index: int
    token: Any


@dataclass
class Observed:
    """What one run measured and read back."""

    seconds: float
    ops: int
    journal_mode: str
    synchronous: str
    note: str = ""


class Impl:
    """One implementation under test. Subclasses wrap a queue library's API.

    ``open`` returns a handle; ``handles_for_threads`` gives the per-thread
    handles for W3 (the same object when the library shares one across threads).
    """

    name: str = ""
    #: Why W5 cannot run, or "" when it can.
    batch_unsupported: str = ""
    #: Notes for the rows of this implementation, by workload.
    notes: ClassVar[dict[str, str]] = {}

    def db_file(self, directory: Path) -> Path:
        """The database file this implementation writes in ``directory``."""
        raise NotImplementedError

    def open(self, directory: Path, threaded: bool = False) -> Any:
        """Opens a queue on a fresh file in ``directory`` (``threaded``: for W3)."""
        raise NotImplementedError

    def handles_for_threads(self, handle: Any, directory: Path) -> list[Any]:
        """The handle of each W3 thread (by default the one shared handle)."""
        return [handle] * THREADS

    def submit(self, h: Any, i: int) -> None:
        """Submits item ``i`` (one call, one commit)."""
        raise NotImplementedError

    def prefill(self, h: Any, n: int) -> None:
        """Untimed: puts items 0..n-1 in the queue."""
        raise NotImplementedError

    def claim(self, h: Any, worker: int) -> Claim | None:
        """Claims the next item, or None when nothing is left."""
        raise NotImplementedError

    def complete(self, h: Any, token: Any) -> None:
        """Completes a claimed item."""
        raise NotImplementedError

    def drain_batched(self, h: Any) -> list[int]:
        """W5: drains the queue in batches; returns the claimed indices."""
        raise NotImplementedError

    def writer_sync(self, handles: Sequence[Any]) -> tuple[str, str]:
        """(journal_mode, synchronous) as the open handles write: read on their own
        connections (call before closing)."""
        raise NotImplementedError

    def counts(self, handles: Sequence[Any], db: Path) -> tuple[int, int]:
        """(left, completed) after the run: items not completed, items completed.
        Called after the handles are closed unless overridden to need them open."""
        raise NotImplementedError

    counts_while_open: bool = False

    def close(self, h: Any) -> None:
        """Closes one handle."""
        h.close()

    def expected_level(self) -> str:
        """The synchronous level this implementation runs at (probed on a scratch file)."""
        directory = Path(tempfile.mkdtemp(prefix="asyncop-bench-probe-"))
        try:
            h = self.open(directory)
            try:
                return self.writer_sync([h])[1]
            finally:
                self.close(h)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def complete_batch(q: asyncop.Queue, leases: Sequence[asyncop.Lease]) -> list[asyncop.AsyncopError | None]:
    """Completes ``leases`` as Succeeded: ``Queue.complete_many`` (one transaction)
    where the package has it, else ``lease.complete()`` one by one (see
    :data:`HAS_COMPLETE_MANY`). An entry is None for a lease that completed."""
    complete_many = getattr(q, "complete_many", None)
    if complete_many is not None:
        return list(complete_many(leases))
    results: list[asyncop.AsyncopError | None] = []
    for lease in leases:
        try:
            lease.complete()
            results.append(None)
        except asyncop.AsyncopError as exc:
            results.append(exc)
    return results


#: False when the installed package has no ``Queue.complete_many``: W5 then
#: completes lease by lease, and its row is labelled "(loop)".
HAS_COMPLETE_MANY = hasattr(asyncop.Queue, "complete_many")


class AsyncopPython(Impl):
    """asyncop's Python package: one ``Queue`` shared by every thread."""

    name = "asyncop-python"

    def __init__(self, durability: str) -> None:
        self.durability = durability  # "full" or "normal"
        self.level = durability.upper()

    def db_file(self, directory: Path) -> Path:
        return directory / "asyncop.db"

    def open(self, directory: Path, threaded: bool = False) -> asyncop.Queue:
        return asyncop.Queue(self.db_file(directory), durability=self.durability)

    def submit(self, h: asyncop.Queue, i: int) -> None:
        h.submit("bench", payload(i), operation_type=OPERATION_TYPE)

    def prefill(self, h: asyncop.Queue, n: int) -> None:
        for start in range(0, n, 1000):
            h.submit_many(
                [
                    {"name": "bench", "operation_type": OPERATION_TYPE, "payload": payload(i)}
                    for i in range(start, min(n, start + 1000))
                ]
            )

    def claim(self, h: asyncop.Queue, worker: int) -> Claim | None:
        leases = h.poll(f"host-{worker}", max=1)
        if not leases:
            return None
        lease = leases[0]
        return Claim(index_of(lease.payload), lease)

    def complete(self, h: asyncop.Queue, token: asyncop.Lease) -> None:
        token.complete()
        token.close()

    def drain_batched(self, h: asyncop.Queue) -> list[int]:
        seen: list[int] = []
        while True:
            leases = h.poll("host-0", max=BATCH)
            if not leases:
                return seen
            errors = complete_batch(h, leases)
            failed = [(lease.id, err) for lease, err in zip(leases, errors) if err is not None]
            if failed or len(errors) != len(leases):
                raise BenchError(f"complete_many: {len(failed)} of {len(leases)} leases failed: {failed[:3]}")
            for lease in leases:
                seen.append(index_of(lease.payload))
                lease.close()

    def writer_sync(self, handles: Sequence[asyncop.Queue]) -> tuple[str, str]:
        # The connections are internal: asyncop sets PRAGMA synchronous from the
        # durability on each one it opens (src/store/mod.rs); the journal mode is
        # read back from the file by the caller.
        return "", self.level

    counts_while_open = True

    def counts(self, handles: Sequence[asyncop.Queue], db: Path) -> tuple[int, int]:
        left = completed = 0
        for c in handles[0].counts():
            if c.state == asyncop.State.COMPLETED and c.status == asyncop.Status.SUCCEEDED:
                completed += c.count
            elif c.state == asyncop.State.COMPLETED:
                raise BenchError(f"asyncop: {c.count} operations ended {c.status.name}")
            else:
                left += c.count
        return left, completed

    def expected_level(self) -> str:
        return self.level


class RustApi(Impl):
    """asyncop's Rust API, for the Python layer's cost per call: one run of the Rust
    benchmark's W1 or W2 cell (``--child cell``, a fresh file, the same payload size)
    as a child process, interleaved with this benchmark's own cells."""

    name = "asyncop-rust"
    batch_unsupported = "not run here: the Rust API's batched drain is in rust.json"
    notes: ClassVar[dict[str, str]] = {
        "W1": "the Rust benchmark's W1 cell, run by peers.py between its own cells",
        "W2": "the Rust benchmark's W2 cell, run by peers.py between its own cells",
    }

    def __init__(self, binary: Path, durability: str) -> None:
        self.binary = binary
        self.level = durability.upper()

    def expected_level(self) -> str:
        return self.level

    def run(self, workload: str, n: int) -> Observed:
        """One run of the Rust cell; its own checks (exactly-once) run in the child."""
        done = subprocess.run(
            [str(self.binary), "--child", "cell", workload, self.level, str(n)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"the Rust cell failed: {done.stderr.strip()[-500:]}")
        seconds, journal_mode, level = done.stdout.split()
        return Observed(float(seconds), n, journal_mode, level)


class PersistQueue(Impl):
    """persist-queue's ``SQLiteAckQueue``: put / get / ack. Rows stay, marked acked."""

    name = "persist-queue"
    batch_unsupported = "no batch API: SQLiteAckQueue has put/get/ack of one item only"
    _scan = (
        "get scans from the first row past every acked one (acked rows stay): its cost grows with the completed rows"
    )
    notes: ClassVar[dict[str, str]] = {
        "W2": _scan,
        "W3": "one queue with multithreading=True, its documented way to share a queue across threads "
        f"(W1/W2: the default, multithreading=False); {_scan}",
    }

    def db_file(self, directory: Path) -> Path:
        return directory / "persist-queue" / "data.db"

    def open(self, directory: Path, threaded: bool = False) -> SQLiteAckQueue:
        # Defaults (auto_commit=True, pickle serializer, timeout=10); a queue object
        # may be used from several threads only with multithreading=True.
        if threaded:
            return SQLiteAckQueue(str(directory / "persist-queue"), multithreading=True)
        return SQLiteAckQueue(str(directory / "persist-queue"))

    def submit(self, h: SQLiteAckQueue, i: int) -> None:
        h.put(payload(i))

    def prefill(self, h: SQLiteAckQueue, n: int) -> None:
        with unsynced(self._conns(h)[:1]):
            for i in range(n):
                h.put(payload(i))

    @staticmethod
    def _conns(h: SQLiteAckQueue) -> list[sqlite3.Connection]:
        """The queue's writing connection, then its reading one (the same one
        unless multithreading=True)."""
        putter, getter = h._putter, h._getter
        assert putter is not None and getter is not None
        return [putter, getter]

    def claim(self, h: SQLiteAckQueue, worker: int) -> Claim | None:
        try:
            item = h.get(block=False)
        except Empty:
            return None
        return Claim(index_of(item), item)

    def complete(self, h: SQLiteAckQueue, token: Any) -> None:
        if h.ack(token) is None:
            raise BenchError("persist-queue: ack found no unacked item")

    def writer_sync(self, handles: Sequence[SQLiteAckQueue]) -> tuple[str, str]:
        return _conns_sync([c for h in handles for c in self._conns(h)])

    def counts(self, handles: Sequence[Any], db: Path) -> tuple[int, int]:
        # AckStatus: inited 0, ready 1, unack 2, acked 5, ack_failed 9.
        with closing(sqlite3.connect(db)) as conn:
            left = conn.execute("SELECT COUNT(*) FROM ack_queue_default WHERE status IN (0, 1, 2)").fetchone()[0]
            done = conn.execute("SELECT COUNT(*) FROM ack_queue_default WHERE status = 5").fetchone()[0]
            other = conn.execute("SELECT COUNT(*) FROM ack_queue_default WHERE status NOT IN (0, 1, 2, 5)").fetchone()[
                0
            ]
        if other:
            raise BenchError(f"persist-queue: {other} items in an unexpected status")
        return left, done


class Huey(Impl):
    """huey's ``SqliteStorage``: enqueue / dequeue; one storage shared by every thread
    (it guards its one connection with a lock, as huey's threaded consumer uses it)."""

    name = "huey"
    batch_unsupported = "no batch API: SqliteStorage has enqueue/dequeue of one item only"
    notes: ClassVar[dict[str, str]] = {
        w: "dequeue deletes the row: claim and complete are one call and one commit (no ack)" for w in ("W2", "W3")
    }

    def db_file(self, directory: Path) -> Path:
        return directory / "huey.db"

    def open(self, directory: Path, threaded: bool = False) -> SqliteStorage:
        return SqliteStorage(name="bench", filename=str(self.db_file(directory)))

    def submit(self, h: SqliteStorage, i: int) -> None:
        h.enqueue(payload(i))

    def prefill(self, h: SqliteStorage, n: int) -> None:
        with unsynced([h.conn]):
            for i in range(n):
                h.enqueue(payload(i))

    def claim(self, h: SqliteStorage, worker: int) -> Claim | None:
        data = h.dequeue()
        if data is None:
            return None
        return Claim(index_of(bytes(data)), None)

    def complete(self, h: SqliteStorage, token: Any) -> None:
        pass  # dequeue deleted the row already

    def writer_sync(self, handles: Sequence[SqliteStorage]) -> tuple[str, str]:
        return _conns_sync([h.conn for h in handles])

    def counts(self, handles: Sequence[Any], db: Path) -> tuple[int, int]:
        # Completed items are gone: "completed" is what the workers dequeued,
        # checked by the caller; here only what is left is counted.
        with closing(sqlite3.connect(db)) as conn:
            left = conn.execute("SELECT COUNT(*) FROM task").fetchone()[0]
        return left, -1


class Litequeue(Impl):
    """litequeue's ``LiteQueue``: put / pop / done. Its connection cannot be shared by
    threads (``pop`` runs BEGIN IMMEDIATE on it with no lock), so each W3 thread
    opens its own LiteQueue on the same file."""

    name = "litequeue"
    batch_unsupported = "no batch API: LiteQueue has put/pop/done of one message only"
    _sort = "pop sorts every READY row (ORDER BY message_id over the status index): its cost grows with the backlog"
    notes: ClassVar[dict[str, str]] = {
        "W2": _sort,
        "W3": f"one LiteQueue per thread on the same file (its connection has no lock for sharing); {_sort}",
    }

    def db_file(self, directory: Path) -> Path:
        return directory / "litequeue.db"

    def open(self, directory: Path, threaded: bool = False) -> LiteQueue:
        return LiteQueue(str(self.db_file(directory)))

    def handles_for_threads(self, handle: LiteQueue, directory: Path) -> list[LiteQueue]:
        return [handle] + [LiteQueue(str(self.db_file(directory))) for _ in range(THREADS - 1)]

    def submit(self, h: LiteQueue, i: int) -> None:
        h.put(payload_text(i))  # data is TEXT

    def prefill(self, h: LiteQueue, n: int) -> None:
        with unsynced([h.conn]):
            for i in range(n):
                h.put(payload_text(i))

    def claim(self, h: LiteQueue, worker: int) -> Claim | None:
        message = h.pop()
        if message is None:
            return None
        return Claim(index_of(message.data), message.message_id)

    def complete(self, h: LiteQueue, token: Any) -> None:
        h.done(token)

    def writer_sync(self, handles: Sequence[LiteQueue]) -> tuple[str, str]:
        return _conns_sync([h.conn for h in handles])

    def counts(self, handles: Sequence[Any], db: Path) -> tuple[int, int]:
        # MessageStatus: READY 0, LOCKED 1, DONE 2, FAILED 3.
        with closing(sqlite3.connect(db)) as conn:
            left = conn.execute("SELECT COUNT(*) FROM Queue WHERE status IN (0, 1)").fetchone()[0]
            done = conn.execute("SELECT COUNT(*) FROM Queue WHERE status = 2").fetchone()[0]
            failed = conn.execute("SELECT COUNT(*) FROM Queue WHERE status = 3").fetchone()[0]
        if failed:
            raise BenchError(f"litequeue: {failed} messages FAILED")
        return left, done


def _conns_sync(conns: Sequence[sqlite3.Connection]) -> tuple[str, str]:
    """(journal_mode, synchronous) of connections that must all agree."""
    modes = {str(pragma(c, "journal_mode")).lower() for c in conns}
    levels = {sync_name(int(pragma(c, "synchronous"))) for c in conns}
    if len(modes) != 1 or len(levels) != 1:
        raise BenchError(f"connections disagree: journal_mode {modes}, synchronous {levels}")
    return modes.pop(), levels.pop()


def read_back(db: Path) -> tuple[str, str]:
    """(journal_mode, synchronous) as a separate sqlite3 connection reads them from
    ``db``. The journal mode is the file's (WAL is stored in it); synchronous is
    this connection's own default, not a property of the file."""
    with closing(sqlite3.connect(db)) as conn:
        return str(pragma(conn, "journal_mode")).lower(), sync_name(int(pragma(conn, "synchronous")))


def check_drained(impl: Impl, n: int, seen: Sequence[int], left: int, completed: int) -> None:
    """Fails unless items 0..n-1 were each claimed exactly once and all completed."""
    if len(seen) != n or sorted(seen) != list(range(n)):
        dup = len(seen) - len(set(seen))
        raise BenchError(f"{impl.name}: {len(seen)} claims for {n} items ({dup} duplicates)")
    if left != 0:
        raise BenchError(f"{impl.name}: {left} items left in the queue after the drain")
    if completed != -1 and completed != n:
        raise BenchError(f"{impl.name}: {completed} items completed, expected {n}")


def run_cell(impl: Impl, workload: str, n: int, root: Path) -> Observed:
    """One timed run of ``workload`` with ``n`` items, on fresh files under ``root``."""
    directory = Path(tempfile.mkdtemp(prefix=f"{impl.name}-{workload}-", dir=root))
    db = impl.db_file(directory)
    threaded = workload == "W3"
    h = impl.open(directory, threaded=threaded)
    handles = [h]
    seen: list[int] = []
    try:
        if workload == "W1":
            started = time.perf_counter()
            for i in range(n):
                impl.submit(h, i)
            seconds = time.perf_counter() - started
        else:
            if threaded:
                handles = impl.handles_for_threads(h, directory)
                unique = list({id(x): x for x in handles}.values())
            else:
                unique = handles
            impl.prefill(h, n)
            checkpoint(db)
            gc.collect()
            if workload == "W2":
                started = time.perf_counter()
                while (claim := impl.claim(h, 0)) is not None:
                    impl.complete(h, claim.token)
                    seen.append(claim.index)
                seconds = time.perf_counter() - started
            elif workload == "W3":
                seconds, seen = drain_threads(impl, handles)
            else:
                started = time.perf_counter()
                seen = impl.drain_batched(h)
                seconds = time.perf_counter() - started
            handles = unique
        own_mode, level = impl.writer_sync(handles)
        if impl.counts_while_open:
            left, completed = impl.counts(handles, db)
    finally:
        for x in handles:
            impl.close(x)
    if not impl.counts_while_open:
        left, completed = impl.counts(handles, db)
    if workload == "W1":
        if left != n or completed not in (0, -1):
            raise BenchError(f"{impl.name} W1: {left} items in the queue, {completed} completed; expected {n}, 0")
    else:
        check_drained(impl, n, seen, left, completed)
    journal_mode, separate_level = read_back(db)
    if own_mode and own_mode != journal_mode:
        raise BenchError(f"{impl.name}: its connection says journal_mode={own_mode}, the file {journal_mode}")
    note = ""
    if separate_level != level and not isinstance(impl, AsyncopPython):
        note = f"synchronous read on {impl.name}'s own connection (a separate connection reads {separate_level})"
    shutil.rmtree(directory, ignore_errors=True)
    return Observed(seconds, n, journal_mode, level, note)


def drain_threads(impl: Impl, handles: Sequence[Any]) -> tuple[float, list[int]]:
    """W3: ``THREADS`` workers claim and complete until the queue is empty.
    Returns (seconds from the common start to the last join, claimed indices)."""
    barrier = threading.Barrier(THREADS + 1)
    seen: list[list[int]] = [[] for _ in range(THREADS)]
    errors: list[Exception] = []

    def work(worker: int) -> None:
        h = handles[worker]
        mine = seen[worker]
        try:
            barrier.wait()
            while (claim := impl.claim(h, worker)) is not None:
                impl.complete(h, claim.token)
                mine.append(claim.index)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,), name=f"bench-{w}") for w in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise BenchError(f"{impl.name} W3: a worker thread failed: {errors[0]!r}") from errors[0]
    return seconds, [i for part in seen for i in part]


@dataclass
class Cell:
    """One row of the results: an implementation and a workload, with its runs."""

    impl: Impl
    workload: str
    level: str
    ops: int
    unsupported: str = ""
    observed: list[Observed] = field(default_factory=list)
    #: For an unsupported cell: the journal mode the implementation ran with elsewhere.
    journal_mode_hint: str = ""

    def row(self) -> dict[str, Any]:
        """The JSON row."""
        notes = [self.impl.notes[self.workload]] if self.workload in self.impl.notes else []
        if self.unsupported:
            return {
                "impl": self.impl.name,
                "workload": self.workload,
                "durability": self.level,
                "journal_mode": self.journal_mode_hint,
                "synchronous": self.level,
                "metric": "ops_per_sec",
                "value": None,
                "runs": [],
                "ops": 0,
                "note": self.unsupported,
                # A cell that ran and failed (not one the peer cannot run at all).
                **({"error": self.unsupported} if self.unsupported.startswith("FAILED") else {}),
            }
        modes = {o.journal_mode for o in self.observed}
        levels = {o.synchronous for o in self.observed}
        if len(modes) != 1 or len(levels) != 1:
            raise BenchError(f"{self.impl.name} {self.workload}: runs disagree: {modes} {levels}")
        level = levels.pop()
        if level != self.level:
            raise BenchError(f"{self.impl.name} {self.workload}: ran at {level}, probed {self.level}")
        runs = [round(o.ops / o.seconds, 1) for o in self.observed]
        notes += sorted({o.note for o in self.observed if o.note})
        if isinstance(self.impl, AsyncopPython) and self.workload == "W5" and not HAS_COMPLETE_MANY:
            notes.insert(0, "(loop) Queue.complete_many is missing: lease.complete() per lease")
        return {
            "impl": self.impl.name,
            "workload": self.workload,
            "durability": level,
            "journal_mode": modes.pop(),
            "synchronous": level,
            "metric": "ops_per_sec",
            "value": round(statistics.median(runs), 1),
            "runs": runs,
            "ops": self.ops,
            "note": "; ".join(notes),
        }


def versions() -> dict[str, str]:
    """Installed versions of asyncop and the peers (warns when a peer is not the
    pinned one), and the SQLite under Python's sqlite3 module ("python-sqlite3")."""
    found = {name: metadata.version(name) for name in ("asyncop", "persist-queue", "huey", "litequeue")}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, pinned = (s.strip() for s in line.split("==", 1))
            if found.get(name) != pinned:
                print(f"peers.py: warning: {name} {found.get(name)} is installed, {pinned} is pinned", file=sys.stderr)
    # The peers run on Python's sqlite3 module; asyncop on its own bundled SQLite.
    found["python-sqlite3"] = sqlite3.sqlite_version
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Runs every cell, prints a summary and writes the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny op counts (< 20 s)")
    parser.add_argument("--out", type=Path, default=REPO / "target" / "bench" / "python.json", help="JSON output")
    parser.add_argument(
        "--rust-bin",
        type=Path,
        help="the Rust queue benchmark's binary: its W1/W2 NORMAL cells then run interleaved with these "
        "(asyncop-rust rows), for the Python layer's cost per call",
    )
    args = parser.parse_args(argv)

    impls: list[Impl] = [AsyncopPython("full"), AsyncopPython("normal"), PersistQueue(), Huey(), Litequeue()]
    cells: list[Cell] = []
    for impl in impls:
        level = impl.expected_level()
        ops_for = OPS[args.quick]["FULL" if level in ("FULL", "EXTRA") else "NORMAL"]
        for workload in WORKLOADS:
            unsupported = impl.batch_unsupported if workload == "W5" else ""
            cells.append(Cell(impl, workload, level, ops_for[workload], unsupported))
    if args.rust_bin:
        rust = RustApi(args.rust_bin, "normal")
        for workload in ("W1", "W2"):
            cells.append(Cell(rust, workload, "NORMAL", OPS[args.quick]["NORMAL"][workload]))
    found = versions()
    print(
        f"peers.py: Python {platform.python_version()}; "
        f"{', '.join(f'{k} {v}' for k, v in found.items())}; complete_many: "
        f"{'yes' if HAS_COMPLETE_MANY else 'no (loop)'}",
        file=sys.stderr,
    )

    started = time.monotonic()
    asyncop_failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="asyncop-bench-") as tmp:
        root = Path(tmp)
        for run in range(1, RUNS + 1):
            for cell in cells:
                if cell.unsupported:
                    continue
                try:
                    if isinstance(cell.impl, RustApi):
                        observed = cell.impl.run(cell.workload, cell.ops)
                    else:
                        observed = run_cell(cell.impl, cell.workload, cell.ops, root)
                except Exception as exc:  # noqa: BLE001 - reported in the cell
                    # A cell that fails (litequeue's W3 threads starving past sqlite3's
                    # 5 s busy timeout, or anything else) is reported as failed in its
                    # cell, and the rest of the run and the JSON go on. asyncop must
                    # never fail a cell: if it does, the script exits non-zero at the end.
                    if isinstance(cell.impl, AsyncopPython | RustApi):
                        asyncop_failed.append(f"{cell.impl.name} {cell.workload}: {exc}")
                    cell.unsupported = f"FAILED in run {run}: {exc}"
                    cell.observed.clear()
                    print(f"  run {run}/{RUNS} {cell.impl.name:<15} {cell.workload} FAILED: {exc}", file=sys.stderr)
                    continue
                cell.observed.append(observed)
                print(
                    f"  run {run}/{RUNS} {cell.impl.name:<15} {cell.workload} {observed.synchronous:<6} "
                    f"{observed.ops:>6} ops {observed.ops / observed.seconds:>10.1f} ops/s",
                    file=sys.stderr,
                )
    for cell in cells:
        if cell.unsupported:
            cell.journal_mode_hint = next(
                (c.observed[0].journal_mode for c in cells if c.impl is cell.impl and c.observed), ""
            )

    rows = []
    for cell in cells:
        try:
            rows.append(cell.row())
        except BenchError as exc:  # runs that disagree: the cell failed, the JSON goes on
            if isinstance(cell.impl, AsyncopPython | RustApi):
                asyncop_failed.append(f"{cell.impl.name} {cell.workload}: {exc}")
            cell.unsupported = f"FAILED: {exc}"
            rows.append(cell.row())
    result = {
        "source": "python",
        "python": platform.python_version(),
        "versions": found,
        "quick": bool(args.quick),
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    print(f"\n{'impl':<15} {'wl':<3} {'sync':<6} {'journal':<7} {'ops/s':>10}  runs")
    for r in rows:
        value = "n/a" if r["value"] is None else f"{r['value']:.1f}"
        runs = " ".join(f"{v:.1f}" for v in r["runs"])
        print(f"{r['impl']:<15} {r['workload']:<3} {r['synchronous']:<6} {r['journal_mode']:<7} {value:>10}  {runs}")
        if r["note"]:
            print(f"{'':<15}     note: {r['note']}")
    print(f"\nwrote {args.out} in {time.monotonic() - started:.1f} s{' (--quick: a smoke run)' if args.quick else ''}")
    if asyncop_failed:
        print(f"peers.py: asyncop cells FAILED: {'; '.join(asyncop_failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"peers.py: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
