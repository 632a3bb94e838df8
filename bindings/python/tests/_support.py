"""Helpers shared by the tests (importable by multiprocessing children too)."""

from __future__ import annotations

import os
from pathlib import Path

import asyncop

REPO = Path(__file__).resolve().parents[3]
HEADER = REPO / "include" / "asyncop.h"


def claim(q: asyncop.Queue, host: str = "host-1", **kwargs: object) -> asyncop.Lease:
    """Polls exactly one lease."""
    leases = q.poll(host, **kwargs)  # type: ignore[arg-type]
    assert len(leases) == 1, leases
    return leases[0]


def open_fds() -> set[str]:
    """This process's open file descriptors, by target."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return out


def mp_worker(
    db: str, host: str, log_path: str, lease_s: float, start: object, done: object, held: object | None
) -> None:
    """A worker process (start method "spawn"): claims and completes operations
    until ``done`` is set, logging each id after its complete() succeeded. The
    victim (``held`` given) completes two operations, then claims a third,
    reports its id through ``held`` and hangs holding the lease until killed."""
    import time

    q = asyncop.Queue(db, durability="normal", lease=lease_s)
    completed = 0
    start.wait(60)  # type: ignore[attr-defined]
    with open(log_path, "a") as log:
        while not done.is_set():  # type: ignore[attr-defined]
            for lease in q.poll(host, wait=0.1):
                if held is not None and completed >= 2:
                    held.put(lease.id)  # type: ignore[attr-defined]
                    time.sleep(3600)  # SIGKILL arrives here
                time.sleep(0.001)  # the "work"
                try:
                    lease.complete()
                except asyncop.LeaseLostError:
                    continue  # expired meanwhile: another host completes it
                finally:
                    lease.close()
                log.write(f"{lease.id}\n")
                log.flush()
                completed += 1
    q.close()


_schemas = 0


def postgres_url() -> str:
    """The test cluster's URL (the runner exports it), without a query string."""
    url = os.environ.get("ASYNCOP_TEST_POSTGRES")
    if not url:
        raise RuntimeError(
            "ASYNCOP_TEST_POSTGRES is not set: run bindings/python/run-tests (it starts a "
            "cluster with scripts/pg-cluster when scripts/test did not)"
        )
    return url.split("?", 1)[0]


def fresh_postgres_target(test: str = "") -> str:
    """A URL naming a schema no other test of any process uses: t<pid>_<n>_<test>."""
    global _schemas
    _schemas += 1
    clean = "".join(c if c.isalnum() else "_" for c in test.lower())[:30]
    return f"{postgres_url()}?schema=t{os.getpid()}_{_schemas}_{clean}"


def psql(sql: str) -> str:
    """Runs one statement in the test database with psql (not the library: the
    checks must not trust what they check); its output without the newline."""
    import subprocess

    out = subprocess.run(
        ["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", postgres_url(), "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()
