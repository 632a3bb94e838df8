#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the benchmark outputs, and prints it.

Inputs (written by ``scripts/bench``):

* ``target/bench/rust.json``: ``cargo bench --bench queue`` (asyncop's Rust API
  against the fair raw-SQL limit on the same SQLite, W4 with 1/4/8 processes,
  WAL pages per call, the disk's fsync rate, latency, peak RSS);
* ``target/bench/python.json``: ``benches/python/peers.py`` (asyncop's Python
  package against persist-queue, huey and litequeue, all on the SQLite asyncop bundles);
* ``target/bench/postgres.json`` (optional): ``benches/postgres/peers.py`` (asyncop
  on PostgreSQL against graphile-worker, pg-boss and Procrastinate), rendered by
  ``report_postgres.py`` as the "PostgreSQL" section;
* ``target/bench/rust-peers.json`` and ``target/bench/backlog.json`` (optional,
  ``--rust-peers`` / ``--backlog``), and ``--baseline`` (optional: a ``rust.json``
  of the build before issue 15, for "W2 NORMAL >= 1.8x today's build").

The optional row files are a JSON list of row objects (or an object whose
``results`` is that list), each::

    {"impl": str, "workload": str, "durability": "FULL" | "NORMAL" | ...,
     "value": number | null, "unit": "ops/s" | "ms" | ..., "runs": [number, ...],
     "ops": int, "note": str}

plus ``"error": str`` for a cell that failed (value null). The Targets table reads:

* rust-peers.json: ``workload`` "W1" / "W2" at ``durability`` "FULL", ``unit`` "ops/s",
  one ``impl`` per peer and setting (e.g. "effectum", "effectum-wal-normal",
  "apalis-sqlite", "qoxide"); the fastest one is the bound. An "asyncop-rust" row in
  the same file (the same interleaved run) is preferred to rust.json's.
* backlog.json (``impl`` "asyncop-rust", "asyncop-python" or "asyncop"; ``unit`` "ms"):
  "claim-empty", "claim-past-blocked-100k", "claim-past-filtered-100k" (one claim),
  "lock-hold-due-1M", "lock-hold-expire-1M" (the longest write-lock hold while
  1,000,000 operations fall due / expire at once), "counts-1k", "counts-1M".
* cells that a later part adds to rust.json / python.json: "W4-4p-worker" (asyncop-rust,
  4 processes with the default Worker prefetch) and "W2-worker" (asyncop-python, W2
  through the default Worker).

Output: a header (date, machine, SQLite versions (the peers' must be asyncop's),
the disk's fsync rate, Python and peer versions, the command), one table per source
(FULL ops/s also as a fraction of the fsync rate), the peak RSS, and the **Targets**
table: one row per target of issue 15 (and those met earlier that must stay met),
**met** / **missed** with the measured figure, or "not measured in this run". A
failed cell shows FAILED with its error; a missing input leaves its section empty
(and the script exits 1) but the report is written. When an input comes from a
``--quick`` run the report says so in its first line and is written to
``target/bench/BENCHMARKS.quick.md`` instead of ``BENCHMARKS.md``.

Usage, from anywhere::

    python3 benches/report.py [--rust F] [--python F] [--postgres F] [--rust-peers F]
        [--backlog F] [--baseline F] [--out F] [--command "scripts/bench"]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import report_postgres
import report_extra
import report_targets

REPO = Path(__file__).resolve().parents[1]
DURABILITIES = ("FULL", "NORMAL")
PEERS = ("persist-queue", "huey", "litequeue")
PYTHON_IMPL = "asyncop-python"
RUST_IMPL = "asyncop-rust"
RAW_IMPL = "raw-sql"

Row = dict[str, Any]


class ReportError(RuntimeError):
    """An input is missing or malformed."""


def load(path: Path, source: str) -> dict[str, Any]:
    """Reads one benchmark JSON and checks the fields the report relies on."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReportError(f"{path} is missing: run scripts/bench (it writes both inputs)") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("source") != source:
        raise ReportError(f'{path}: expected an object with "source": "{source}"')
    if not isinstance(data.get("results"), list):
        raise ReportError(f'{path}: no "results" list')
    for i, row in enumerate(data["results"]):
        for key in ("impl", "workload", "durability", "metric"):
            if key not in row:
                raise ReportError(f"{path}: results[{i}] has no {key!r}")
    return data


# -- formatting ---------------------------------------------------------------------


def fmt_num(value: float | None) -> str:
    """An ops/s figure: thousands separators, one decimal below 100."""
    if value is None:
        return "n/a"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def fmt_ms(value: float | None) -> str:
    """A latency in ms."""
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def fmt_value(row: Row) -> str:
    """The value column: ops/s, or p50/p99 in ms."""
    if row["metric"] == "latency_ms":
        return f"p50 {fmt_ms(row.get('p50'))} / p99 {fmt_ms(row.get('p99'))} ms"
    if row.get("value") is None:
        return "n/a"
    return f"{fmt_num(row['value'])} ops/s"


def fmt_runs(row: Row) -> str:
    """The runs column."""
    if row["metric"] == "latency_ms":
        p50 = " · ".join(fmt_ms(v) for v in row.get("runs_p50") or [])
        p99 = " · ".join(fmt_ms(v) for v in row.get("runs_p99") or [])
        return f"p50 {p50}; p99 {p99}" if p50 or p99 else ""
    return " · ".join(fmt_num(v) for v in row.get("runs") or [])


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def fmt_row_value(row: Row) -> str:
    """The value column, for any metric (a failed cell says so)."""
    if row.get("error"):
        return "FAILED"
    if row["metric"] == "wal_pages_per_call":
        return "n/a" if row.get("value") is None else f"{float(row['value']):.2f} pages/call"
    return fmt_value(row)


def results_table(data: dict[str, Any], disk: float | None = None) -> list[str]:
    """The table of one source's rows, in their order; FULL ops/s also as a fraction
    of the disk's fsync rate (``disk``, ops/s)."""
    rows = data["results"]
    with_note = any(r.get("note") for r in rows)
    header = ["impl", "workload", "durability", "journal_mode", "synchronous", "value", "× fsync", "runs", "ops"]
    if with_note:
        header.append("note")
    out = []
    for r in rows:
        count = r.get("samples", "") if r["metric"] == "latency_ms" else r.get("ops", "")
        if r["metric"] == "latency_ms" and count != "":
            count = f"{count} samples"
        line = [
            r["impl"],
            r["workload"],
            r["durability"],
            r.get("journal_mode", ""),
            r.get("synchronous", ""),
            fmt_row_value(r),
            report_targets.fsync_fraction(r, disk),
            fmt_runs(r),
            count if count != 0 else "",
        ]
        if with_note:
            line.append(r.get("note", ""))
        out.append(line)
    return table(header, out)


# -- the document -------------------------------------------------------------------


def machine_line(rust: dict[str, Any] | None) -> str:
    """The machine, as the Rust benchmark described it (else this one's)."""
    if rust and rust.get("machine"):
        return str(rust["machine"])
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores (described by report.py)"


def load_note(pg: dict[str, Any] | None) -> list[str]:
    """A header line when the PostgreSQL half saw a loaded machine (its samples of the
    1-minute load average above the core count): every section ran in the same window."""
    loads = (pg or {}).get("load_average_1m") or []
    if not loads or max(loads) <= (os.cpu_count() or 1):
        return []
    return [
        (
            f"- Load: the machine was shared during this run (1-minute load average up to {max(loads):.1f} on "
            f"{os.cpu_count()} cores, sampled by the PostgreSQL half): every figure is noisier than on an idle "
            "machine"
        )
    ]


def render(
    rust: dict[str, Any] | None,
    py: dict[str, Any] | None,
    command: str,
    now: dt.datetime,
    pg: dict[str, Any] | None = None,
    extra: dict[str, list[Row] | None] | None = None,
) -> str:
    """The whole report as Markdown. ``extra``: the optional row lists ``rust-peers``,
    ``backlog`` and ``baseline`` (None when absent)."""
    extra = extra or {}
    disk = report_targets.value(report_targets.find((rust or {}).get("results") or [], "disk", "fsync-4k"))
    sources = (("rust.json", rust), ("python.json", py), ("postgres.json", pg))
    quick = [name for name, d in sources if d and d.get("quick")]
    lines: list[str] = []
    if quick:
        lines.append(
            f"**SMOKE RUN (--quick), NOT THE RECORD**: {' and '.join(quick)} came from a `--quick` run "
            "(tiny op counts); the record is BENCHMARKS.md from `scripts/bench`."
        )
        lines.append("")
    lines.append("# asyncop benchmarks")
    lines.append("")
    versions = (py or {}).get("versions", {})
    peer_versions = ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("asyncop", "python-sqlite3"))
    sqlite = (rust or {}).get("sqlite_version", "unknown")
    sqlite_line = f"{sqlite} (bundled in asyncop, for the Rust API and the Python package)"
    if "python-sqlite3" in versions:
        peers_sqlite = versions["python-sqlite3"]
        same = "the same version" if peers_sqlite == sqlite else "**a different version**"
        sqlite_line += f"; {peers_sqlite} under the Python peers (Python's sqlite3 module): {same}"
    disk_line = (
        f"{fmt_num(disk)} writes+fdatasyncs of 4 KiB per second, in place, in the directory of the "
        "Rust benchmark's files (`disk fsync-4k`); every FULL figure is also given as a fraction of it (× fsync)"
        if disk
        else "not measured in this run"
    )
    lines += [
        f"- Date: {now.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_line(rust)}",
        f"- SQLite: {sqlite_line}",
        (
            f"- Python: {(py or {}).get('python', 'n/a')}; "
            f"asyncop (Python package) {versions.get('asyncop', 'n/a')}; peers: {peer_versions or 'n/a'}"
        ),
        f"- Disk: {disk_line}",
        f"- Command: `{command}`",
        *load_note(pg),
        "",
        (
            "Throughput is ops/s (higher is better), the median of 3 interleaved runs on fresh files; "
            "latency is in ms. `durability` is the level a row ran at: asyncop's setting, or for a peer the "
            "`synchronous` level it really used (2 = FULL, 1 = NORMAL, 0 = OFF). `journal_mode` is read back "
            "from each database file with a separate sqlite3 connection; `synchronous` is a per-connection "
            "setting, so a peer's is read on its own connection (the note says when a separate connection "
            "reads another level), and asyncop's is the one it sets on every connection from its durability "
            "(`NORMAL+fdatasync`: asyncop at FULL commits at NORMAL and then fdatasyncs the WAL itself, outside "
            "the write lock, before it answers: `src/store/sqlite/wal_sync.rs`)."
        ),
        "",
    ]
    lines.append("## Rust (`cargo bench --bench queue`)")
    lines.append("")
    if rust:
        lines += results_table(rust, disk)
        lines += [
            "",
            (
                "W1 submit one per call; W2 1 worker draining a pre-filled queue, one commit per job (each "
                "step completes the last job and claims the next in one transaction: asyncop complete_and_poll, "
                "raw-sql the same two statements); W3 the same with 4 threads; W2-1M W2 with 1,000,000 completed rows "
                "in the table; latency-inproc/-xproc the wait of a waiting poll in process / across processes; "
                "stop-inproc/-xproc from just before a cancel to the running handler's stop signal, the handler "
                "in process / in another process (no renewal: the lease is the default 30 s). W4-1p/-4p/-8p: the "
                "W2 drain by 1, 4 and 8 processes, unbatched; W4-4p/-8p-worker: each process claims 16 per "
                "commit (the Workers' default prefetch). W5 batched against batched: 100 completed and the next "
                "100 claimed per transaction, for both. raw-sql is the "
                "fair limit: the fastest claim statements SQLite allows (no `id IN (subquery)`), cached, and "
                "asyncop's own busy handler. wal-pages-*: WAL pages written per call (NORMAL). fsync-4k: the "
                "disk's own limit."
            ),
        ]
        info = report_targets.informational(rust["results"])
        if info:
            lines += ["", "Ratios to the fair limit (asyncop-rust / raw-sql):", "", *info]
    else:
        lines.append("No rust.json.")
    lines.append("")
    lines.append("## Python (`benches/python/peers.py`)")
    lines.append("")
    if py:
        lines += results_table(py, disk)
        lines += [
            "",
            (
                "W1 submit one per call; W2 1 worker draining a pre-filled queue (untimed prefill), claim and "
                "complete per item (asyncop: complete_and_poll, one commit per item); W3 the same with 4 threads; "
                "W2-worker the same drain by asyncop.Worker with its defaults (4 threads, prefetch 16); W5 "
                "batched: asyncop completes 100 and claims the next 100 per commit. Every run checks that every "
                "item was completed exactly once."
            ),
        ]
    else:
        lines.append("No python.json.")
    lines.append("")
    for key, title in (("rust-peers", "Rust peers (`target/bench/rust-peers.json`)"), ("backlog", "Backlog and maintenance (`target/bench/backlog.json`)")):
        lines += [f"## {title}", ""]
        rows = extra.get(key)
        lines += report_extra.table_of(rows, disk, table, fmt_num) if rows else ["Not measured in this run."]
        lines.append("")
    lines += report_postgres.render(pg, table, fmt_num)
    lines.append("## Peak RSS")
    lines.append("")
    if rust and rust.get("peak_rss_mib") is not None:
        lines.append(f"- Rust benchmark process: {float(rust['peak_rss_mib']):.1f} MiB")
        if rust.get("children_peak_rss_mib") is not None:
            lines.append(f"- Its child processes (largest): {float(rust['children_peak_rss_mib']):.1f} MiB")
    else:
        lines.append("- Not measured (no peak_rss_mib in rust.json).")
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    py_notes = report_extra.python_notes(py)
    rss = (rust or {}).get("peak_rss_mib")
    targets = report_targets.all_targets(
        (rust or {}).get("results") or [],
        (py or {}).get("results") or [],
        None if rss is None else float(rss),
        fmt_ms,
        extra.get("rust-peers"),
        extra.get("backlog"),
        extra.get("baseline"),
    )
    lines += table(["target", "measured", "required", "result"], (t.cells() for t in targets))
    met = sum(1 for t in targets if t.met)
    missed = sum(1 for t in targets if t.met is False)
    lines += ["", f"{met} of {len(targets)} targets met, {missed} missed, {len(targets) - met - missed} not measured in this run."]
    if py_notes:
        lines.append("")
        lines += [f"- {n}" for n in py_notes]
    lines.append("")
    # The analysis of the misses is prose kept beside the benchmark (it changes
    # with the code, not with each run), appended verbatim.
    notes = REPO / "benches" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Reads the inputs, writes the report and prints it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rust", type=Path, default=REPO / "target" / "bench" / "rust.json")
    parser.add_argument("--python", type=Path, default=REPO / "target" / "bench" / "python.json")
    parser.add_argument("--postgres", type=Path, default=REPO / "target" / "bench" / "postgres.json")
    parser.add_argument(
        "--out", type=Path, help="default: BENCHMARKS.md, or target/bench/BENCHMARKS.quick.md for --quick input"
    )
    parser.add_argument("--command", help="the command that produced the inputs (default: this one)")
    bench = REPO / "target" / "bench"
    parser.add_argument("--rust-peers", type=Path, default=bench / "rust-peers.json", help="optional row list")
    parser.add_argument("--backlog", type=Path, default=bench / "backlog.json", help="optional row list")
    parser.add_argument("--baseline", type=Path, help="optional: rust.json of the build before issue 15")
    args = parser.parse_args(argv)
    # A missing or broken input leaves its section empty and fails the step, but the
    # report of everything else is still written.
    status = 0
    inputs: dict[str, Any] = {}
    for key, path, source in (("rust", args.rust, "rust"), ("python", args.python, "python")):
        try:
            inputs[key] = load(path, source)
        except ReportError as exc:
            print(f"report.py: {exc}", file=sys.stderr)
            inputs[key], status = None, 1
    extra: dict[str, list[Row] | None] = {}
    for key, path in (("rust-peers", args.rust_peers), ("backlog", args.backlog), ("baseline", args.baseline)):
        try:
            extra[key] = report_extra.load_rows(path)
        except report_extra.InputError as exc:
            print(f"report.py: {exc}", file=sys.stderr)
            extra[key], status = None, 1
    try:
        # Optional: a report of the SQLite halves alone says the section is missing.
        pg = load(args.postgres, "postgres") if args.postgres.exists() else None
    except ReportError as exc:
        print(f"report.py: {exc}", file=sys.stderr)
        pg, status = None, 1
    rust, py = inputs["rust"], inputs["python"]
    quick = bool(
        (rust or {}).get("quick") or (py or {}).get("quick") or (pg or {}).get("quick") or "-quick" in args.rust.name
    )
    out = args.out or (REPO / "target" / "bench" / "BENCHMARKS.quick.md" if quick else REPO / "BENCHMARKS.md")
    command = args.command or " ".join(["benches/report.py", *(argv if argv is not None else sys.argv[1:])])
    text = render(rust, py, command, dt.datetime.now(dt.UTC), pg, extra)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    print(f"report.py: wrote {out}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
