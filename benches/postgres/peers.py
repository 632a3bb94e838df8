#!/usr/bin/env python3
"""The PostgreSQL half of asyncop's benchmark: asyncop (Rust API and Python package)
against the PostgreSQL queues users would pick instead, on one server.

Implementations, each a separate process per run (``--cell`` of the Rust bench
binary, ``py_peers.py``, ``node-peers.mjs``), each with its own defaults:

* ``asyncop-rust``: ``cargo bench --bench postgres`` built, run as ``BIN --cell``;
* ``asyncop-python``: the Python package (``.venv-bench``);
* ``procrastinate`` (PyPI, ``requirements.txt``), ``graphile-worker`` and
  ``pg-boss`` (npm, ``package.json`` + ``package-lock.json``).

Workloads (as in ``main.rs``): W1 submit one per transaction; W2 one worker drains
a pre-filled queue; W3 4 workers in one process; W4 4 worker processes; W5 the
drain batched by 100; latency-xproc submit→start p50/p99 (worker in another
process). Every run gets a fresh database (CREATE DATABASE, dropped afterwards).
Runs are interleaved (run 1 of every cell, then run 2, ...); a value is the median
of the runs. The server's ``synchronous_commit`` and ``fsync`` are read and recorded.

Failures: a peer cell that fails is reported as failed (its later runs are
skipped) and the run goes on; an asyncop cell that fails, or any exactly-once
violation (exit status 3 of a runner: a job handled twice or not at all), makes
this script exit non-zero after writing its JSON.

Usage, from the repository root with the bench venv::

    .venv-bench/bin/python benches/postgres/peers.py --url URL [--rust-bin BIN] [--quick] [--out F]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "latency-xproc")
#: Operations (latency: samples) per run, the same for every implementation.
#: Full: a run of the whole PostgreSQL half takes ~5-10 minutes on the shared
#: 2-core development machine, where a commit waits ~1 ms for its WAL fsync.
SIZES = {
    False: {"W1": 500, "W2": 500, "W3": 500, "W4": 500, "W5": 2000, "latency-xproc": 100},
    True: {"W1": 40, "W2": 40, "W3": 40, "W4": 40, "W5": 200, "latency-xproc": 15},
}
RUNS = {False: 3, True: 1}
TIMEOUT = {False: 600, True: 120}

#: What each implementation runs with, by workload ("*": every workload).
NOTES: dict[str, dict[str, str]] = {
    "asyncop-rust": {"*": "defaults: schema asyncop, pool of 4 connections", "W3": "one Queue shared by 4 threads"},
    "asyncop-python": {"*": "defaults: schema asyncop, pool of 4 connections", "W3": "one Queue shared by 4 threads"},
    "procrastinate": {
        "*": "defaults: PsycopgConnector, async task, listen_notify; drains run_worker(wait=False)",
        "W3": "one worker, concurrency=4",
    },
    "graphile-worker": {
        "*": "defaults: concurrency 1, no local queue, one completeJob per job; completed jobs deleted",
        "W3": "one runner, concurrency 4",
        "W5": "its documented batching: localQueue size 100, completeJobBatchDelay 0",
    },
    "pg-boss": {
        "*": "fetch() + complete(): work() sleeps its polling interval (default 2 s) after every fetch",
        "W5": "fetch(batchSize 100) + one complete() of the 100 ids",
        "latency-xproc": "work() at its minimum pollingIntervalSeconds 0.5 (default 2), batchSize 100",
    },
}
UNSUPPORTED = {("procrastinate", "W5"): "no batch API: a worker fetches and finishes one job per query"}


class Violation(RuntimeError):
    """An exactly-once violation, or a failed asyncop cell: the run fails."""


@dataclass
class Cell:
    """One implementation × workload, with its runs."""

    impl: str
    workload: str
    ops: int
    runs: list[dict[str, float]] = field(default_factory=list)
    failed: str = ""

    def note(self) -> str:
        """What ran, and why it failed or could not run."""
        notes = NOTES.get(self.impl, {})
        text = notes.get(self.workload) or notes.get("*", "")
        return f"{self.failed}; {text}" if self.failed else text

    def row(self, durability: str) -> dict[str, Any]:
        """The JSON row (the shape of python.json's rows)."""
        base = {"impl": self.impl, "workload": self.workload, "durability": durability, "note": self.note()}
        if self.workload == "latency-xproc":
            p50 = [r["p50"] for r in self.runs]
            p99 = [r["p99"] for r in self.runs]
            return base | {
                "metric": "latency_ms",
                "p50": statistics.median(p50) if p50 and not self.failed else None,
                "p99": statistics.median(p99) if p99 and not self.failed else None,
                "runs_p50": p50,
                "runs_p99": p99,
                "samples": self.ops,
            }
        rates = [round(r["ops_per_sec"], 1) for r in self.runs]
        ok = rates and not self.failed
        return base | {
            "metric": "ops_per_sec",
            "value": round(statistics.median(rates), 1) if ok else None,
            "runs": rates,
            "ops": self.ops if ok else 0,
        }


def command(impl: str, workload: str, url: str, n: int, rust_bin: str | None) -> list[str] | str:
    """The command of one run, or why it cannot run here."""
    if impl == "asyncop-rust":
        return [rust_bin, "--cell", workload, url, str(n)] if rust_bin else "no --rust-bin given"
    if impl in ("asyncop-python", "procrastinate"):
        return [sys.executable, str(HERE / "py_peers.py"), impl, workload, url, str(n)]
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    if not (HERE / "node_modules" / impl / "package.json").exists():
        return "not installed: run `npm ci` in benches/postgres"
    return [node, str(HERE / "node-peers.mjs"), impl, workload, url, str(n)]


def fresh_db(admin: psycopg.Connection[Any], url: str, k: int) -> tuple[str, str]:
    """Creates an empty database; returns its name and URL (``url`` with its name)."""
    name = f"asyncop_bench_py_{os.getpid()}_{k}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = url.partition("?")
    authority = base.split("://", 1)[1].split("/", 1)[0]
    return name, f"postgres://{authority}/{name}" + (f"?{query}" if query else "")


def run_once(cell: Cell, argv: list[str], timeout: float) -> dict[str, float]:
    """One run; its JSON result as ops/s or latency. Raises Violation on exit 3."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"no result within {timeout} s") from None
    if p.returncode == 3:
        raise Violation(f"{cell.impl} {cell.workload}: {p.stderr.strip()[-800:]}")
    if p.returncode != 0:
        raise RuntimeError(f"exit status {p.returncode}: {p.stderr.strip()[-400:]}")
    try:
        out: dict[str, float] = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"no JSON result: {p.stdout[-200:]!r}") from None
    if "seconds" in out:
        out = {"ops_per_sec": cell.ops / out["seconds"]}
    return out


def versions() -> dict[str, str]:
    """Installed versions of asyncop and the peers; warns when a peer is not the pinned one."""
    found: dict[str, str] = {}
    for name in ("asyncop", "procrastinate", "psycopg"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    pinned = json.loads((HERE / "package.json").read_text())["dependencies"]
    for name, want in pinned.items():
        pkg = HERE / "node_modules" / name / "package.json"
        found[name] = json.loads(pkg.read_text())["version"] if pkg.exists() else "not installed"
        if found[name] != want:
            print(f"peers.py: warning: {name} {want} is pinned, found: {found[name]}", file=sys.stderr)
    node = shutil.which("node")
    found["node"] = "none"
    if node:
        found["node"] = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return found


def main(argv: list[str] | None = None) -> int:
    """Runs every cell, writes the JSON; non-zero when asyncop failed or exactly-once broke."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("ASYNCOP_BENCH_POSTGRES"), help="postgres:// URL")
    parser.add_argument("--rust-bin", help="the built `cargo bench --bench postgres` binary")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny counts, one run")
    parser.add_argument("--out", type=Path, default=REPO / "target" / "bench" / "postgres.json")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("--url (or ASYNCOP_BENCH_POSTGRES) is required")

    impls = ["asyncop-rust", "asyncop-python", "procrastinate", "graphile-worker", "pg-boss"]
    sizes = SIZES[args.quick]
    cells = [Cell(i, w, sizes[w]) for w in WORKLOADS for i in impls]
    admin = psycopg.connect(args.url, autocommit=True)
    settings = {
        s: str((admin.execute(f"SHOW {s}").fetchone() or ("?",))[0])
        for s in ("server_version", "synchronous_commit", "fsync")
    }
    durability = f"synchronous_commit={settings['synchronous_commit']}"
    found = versions()
    print(
        f"peers.py (postgres): PostgreSQL {settings['server_version']}, {durability}, fsync={settings['fsync']}; "
        f"{', '.join(f'{k} {v}' for k, v in found.items())}",
        file=sys.stderr,
    )
    load = [os.getloadavg()[0]]
    violations: list[str] = []
    started = time.monotonic()
    k = 0
    for run in range(1, RUNS[args.quick] + 1):
        for cell in cells:
            if (cell.impl, cell.workload) in UNSUPPORTED:
                cell.failed = f"n/a: {UNSUPPORTED[(cell.impl, cell.workload)]}"
                continue
            if cell.failed:
                continue
            argv_or_why = command(cell.impl, cell.workload, args.url, cell.ops, args.rust_bin)
            if isinstance(argv_or_why, str):
                cell.failed = f"not run: {argv_or_why}"
                if cell.impl.startswith("asyncop"):
                    violations.append(f"{cell.impl} {cell.workload}: {argv_or_why}")
                continue
            k += 1
            name, url = fresh_db(admin, args.url, k)
            argv_or_why[-2] = url
            t = time.monotonic()
            try:
                out = run_once(cell, argv_or_why, TIMEOUT[args.quick])
            except Violation as exc:
                cell.failed = f"EXACTLY-ONCE VIOLATION in run {run}"
                violations.append(str(exc))
                out = None
            except RuntimeError as exc:
                cell.failed = f"failed in run {run}: {exc}"
                if cell.impl.startswith("asyncop"):
                    violations.append(f"{cell.impl} {cell.workload} failed: {exc}")
                out = None
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if out is None:
                cell.runs.clear()
                print(f"  run {run} {cell.impl:<15} {cell.workload:<13} FAILED: {cell.failed}", file=sys.stderr)
                continue
            cell.runs.append(out)
            shown = f"{out['ops_per_sec']:10.1f} ops/s" if "ops_per_sec" in out else f"p50 {out['p50']:.2f} ms"
            print(
                f"  run {run} {cell.impl:<15} {cell.workload:<13} {cell.ops:>6} {shown}  "
                f"({time.monotonic() - t:.1f} s)",
                file=sys.stderr,
            )
        load.append(os.getloadavg()[0])
    result = {
        "source": "postgres",
        "quick": bool(args.quick),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} cores",
        "load_average_1m": [round(x, 1) for x in load],
        **settings,
        "versions": found,
        "results": [c.row(durability) for c in cells],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    for v in violations:
        print(f"peers.py (postgres): FAILED: {v}", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
