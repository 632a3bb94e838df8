"""The "PostgreSQL" section of BENCHMARKS.md (imported by ``report.py``), from
``target/bench/postgres.json`` (``benches/postgres/peers.py``): ops/s per workload for
asyncop (Rust API, Python package) and each PostgreSQL peer, the ratios asyncop/peer,
every run with its settings, and each peer's published figure beside ours."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: The analysis of where asyncop is behind: prose kept beside the benchmark (it
#: changes with the code, not with each run), appended verbatim.
NOTES = Path(__file__).resolve().parent / "postgres" / "NOTES.md"

ASYNCOP = ("asyncop-rust", "asyncop-python")
PEERS = ("procrastinate", "graphile-worker", "pg-boss")
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "latency-xproc")
LATENCY = "latency-xproc"

#: Each peer's own published figures (none is from this machine), and the workload
#: of ours to put beside it.
PUBLISHED: dict[str, tuple[str, str, str]] = {
    "graphile-worker": (
        (
            "~183,000 jobs/s executed (4 worker instances × concurrentJobs 24, localQueue 500, "
            "completeJobBatchDelay 0); add_job→start latency avg 4.16 ms (max 13.84 ms); ~202,000 jobs/s "
            "queued by one add_jobs batch call; ~15,600 jobs/s without batching (per the design study). "
            "A fast desktop (i9-14900K), DB and workers on one machine"
        ),
        "worker.graphile.org/docs/performance (website/docs/performance.md)",
        "W5",
    ),
    "pg-boss": ("none published: its README and docs give no throughput or latency figure", "pg-boss README", "W2"),
    "procrastinate": (
        (
            "none published: CI micro-benchmarks (1,000 jobs deferred and worked) are charted on its "
            "GitHub Pages, with no jobs/s figure in the docs"
        ),
        "procrastinate docs/discussions.md, tests/benchmarks/",
        "W2",
    ),
}

WORKLOAD_TEXT = (
    "W1 submit, one per transaction; W2 one worker drains a pre-filled queue (claim + complete per job); "
    "W3 the same with 4 workers in one process; W4 with 4 worker processes; W5 the drain batched by 100 "
    "(asyncop poll(max=100) + complete_many; graphile-worker localQueue 100 + batched completion; pg-boss "
    "fetch(batchSize 100) + complete(ids)); latency-xproc submit→start in ms, the worker in another "
    "process, one submit every 20 ms (lower is better)."
)

Row = dict[str, Any]
Table = Callable[[Sequence[str], Sequence[Sequence[Any]]], list[str]]


def find(rows: Sequence[Row], impl: str, workload: str) -> Row | None:
    """The row of ``impl`` / ``workload``."""
    return next((r for r in rows if r["impl"] == impl and r["workload"] == workload), None)


def figure(row: Row | None) -> float | None:
    """ops/s, or the p50 of a latency row; None when the cell did not run."""
    if row is None:
        return None
    value = row.get("p50") if row["metric"] == "latency_ms" else row.get("value")
    return None if value is None else float(value)


def shown(row: Row | None, fmt_num: Callable[[float | None], str]) -> str:
    """A cell of the matrix: the value, or why there is none."""
    v = figure(row)
    if v is not None:
        return f"p50 {v:.1f} / p99 {float(row['p99']):.1f} ms" if row and row["metric"] == "latency_ms" else fmt_num(v)
    note = (row or {}).get("note", "")
    for prefix in ("n/a", "not run"):
        if note.startswith(prefix):
            return prefix
    return "failed" if note else "—"


def ratio(ours: Row | None, peer: Row | None) -> float | None:
    """How many times ahead asyncop is: ops/s ours / peer's, or p50 peer's / ours."""
    a, b = figure(ours), figure(peer)
    if a is None or b is None or a == 0 or b == 0:
        return None
    return b / a if ours and ours["metric"] == "latency_ms" else a / b


def render(pg: dict[str, Any] | None, table: Table, fmt_num: Callable[[float | None], str]) -> list[str]:
    """The section's lines."""
    lines = ["## PostgreSQL (`benches/postgres/peers.py`)", ""]
    if not pg:
        return [*lines, "No postgres.json (run `scripts/bench`).", ""]
    rows: list[Row] = pg["results"]
    v = pg.get("versions", {})
    loads = pg.get("load_average_1m") or []
    lines += [
        (
            f"- Server: PostgreSQL {pg.get('server_version', '?')}, `synchronous_commit = "
            f"{pg.get('synchronous_commit', '?')}`, `fsync = {pg.get('fsync', '?')}` (the cluster's defaults, "
            "scripts/pg-cluster), on this machine over TCP to 127.0.0.1; a fresh database for every run"
        ),
        (
            f"- Versions: asyncop {v.get('asyncop', '?')}; procrastinate {v.get('procrastinate', '?')} "
            f"(psycopg {v.get('psycopg', '?')}); graphile-worker {v.get('graphile-worker', '?')} and pg-boss "
            f"{v.get('pg-boss', '?')} on Node {v.get('node', '?')}"
        ),
        "- Command: `scripts/bench` (this section: `benches/postgres/peers.py`, with the `postgres` bench binary)",
    ]
    if loads:
        cores = str(pg.get("machine", "")).rsplit(", ", 1)[-1]
        noisy = max(loads) > 2
        lines.append(
            f"- Load average (1 min) at the start and after each round: {' · '.join(f'{x:.1f}' for x in loads)} "
            f"on {cores}"
            + (
                ": **the machine was shared and noisy** (other builds and tests ran at the same time); the runs "
                "are interleaved so that the noise falls on every implementation alike, but single figures "
                "move by ±30% or more between runs"
                if noisy
                else ""
            )
        )
    lines += ["", "ops/s (higher is better), the median of the runs; latency in ms (lower is better).", ""]
    header = ["workload", *ASYNCOP, *PEERS]
    matrix = [[w, *(shown(find(rows, i, w), fmt_num) for i in (*ASYNCOP, *PEERS))] for w in WORKLOADS]
    lines += table(header, matrix)
    lines += ["", WORKLOAD_TEXT, "", "### asyncop / peer", ""]
    lines.append(
        "Times ahead (> 1: asyncop is ahead; for latency the peer's p50 over asyncop's). Rust↔Node and "
        "Python↔Procrastinate are the like-for-like pairs; both asyncop rows are shown against every peer."
    )
    lines.append("")
    pairs = [(o, p) for p in PEERS for o in ASYNCOP]
    ahead = total = 0
    ratio_rows = []
    for w in WORKLOADS:
        cells = []
        for o, p in pairs:
            r = ratio(find(rows, o, w), find(rows, p, w))
            if r is None:
                cells.append("—")
                continue
            total += 1
            ahead += r >= 1
            cells.append(f"{r:.2f}×" if r >= 1 else f"**{r:.2f}×**")
        ratio_rows.append([w, *cells])
    short = {"asyncop-rust": "rust", "asyncop-python": "python"}
    lines += table(["workload", *(f"{short[o]} / {p}" for o, p in pairs)], ratio_rows)
    lines += [
        "",
        (
            f"asyncop ahead in {ahead} of {total} comparisons (bold: behind). Target (issue 12): ahead of every "
            "peer on every workload it can run."
        ),
        "",
        "### Every run",
        "",
    ]
    detail = []
    for w in WORKLOADS:
        for i in (*ASYNCOP, *PEERS):
            row = find(rows, i, w)
            if row is None:
                continue
            if row["metric"] == "latency_ms":
                pairs_ms = zip(row.get("runs_p50", []), row.get("runs_p99", []))
                runs = " · ".join(f"{a:.1f}/{b:.1f}" for a, b in pairs_ms)
                count = f"{row.get('samples', '')} samples"
            else:
                runs = " · ".join(fmt_num(x) for x in row.get("runs", []))
                count = row.get("ops") or ""
            detail.append([i, w, shown(row, fmt_num), runs, count, row.get("note", "")])
    lines += table(["impl", "workload", "value", "runs", "ops", "settings / note"], detail)
    lines += ["", "### Published figures beside ours", ""]
    published = []
    for p in PEERS:
        text, source, w = PUBLISHED[p]
        here = shown(find(rows, p, w), fmt_num)
        ours = shown(find(rows, "asyncop-rust", w), fmt_num)
        published.append([p, text, source, f"{w}: {p} {here}, asyncop-rust {ours}"])
    lines += table(["peer", "published", "source", "measured here (ops/s)"], published)
    lines += [
        "",
        (
            "Published figures come from other machines and setups (batched, many workers, fast desktops); "
            "only the side-by-side rows above compare like with like."
        ),
        "",
    ]
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    return lines
