#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the two benchmark outputs, and prints it.

Inputs (written by ``scripts/bench``):

* ``target/bench/rust.json``: ``cargo bench --bench queue`` (asyncop's Rust API
  against raw SQL on the same schema, latency, peak RSS);
* ``target/bench/python.json``: ``benches/python/peers.py`` (asyncop's Python
  package against persist-queue, huey and litequeue);
* ``target/bench/postgres.json`` (optional): ``benches/postgres/peers.py`` (asyncop
  on PostgreSQL against graphile-worker, pg-boss and Procrastinate), rendered by
  ``report_postgres.py`` as the "PostgreSQL" section.

Output: a header (date, machine, SQLite and Python versions, peer versions, the
command), one table per source, the peak RSS, and the **Targets** table, each
row **met** or **missed** with the measured ratio. When either input comes from
a ``--quick`` run the report says so in its first line and is written to
``target/bench/BENCHMARKS.quick.md`` instead of ``BENCHMARKS.md``.

Usage, from anywhere::

    python3 benches/report.py [--rust F] [--python F] [--postgres F] [--out F] [--command "scripts/bench"]
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


def results_table(data: dict[str, Any]) -> list[str]:
    """The table of one source's rows, in their order."""
    rows = data["results"]
    with_note = any(r.get("note") for r in rows)
    header = ["impl", "workload", "durability", "journal_mode", "synchronous", "value", "runs", "ops"]
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
            fmt_value(r),
            fmt_runs(r),
            count if count != 0 else "",
        ]
        if with_note:
            line.append(r.get("note", ""))
        out.append(line)
    return table(header, out)


# -- targets ------------------------------------------------------------------------


@dataclass
class Target:
    """One row of the Targets table."""

    target: str
    measured: str
    required: str
    met: bool | None  # None: not measured

    def cells(self) -> list[str]:
        """The table cells; an unmeasured target counts as missed."""
        result = "**met**" if self.met else "**missed**"
        if self.met is None:
            result += " (not measured)"
        return [self.target, self.measured, self.required, result]


def find(rows: Sequence[Row], impl: str, workload: str, durability: str | None = None) -> Row | None:
    """The row of ``impl`` / ``workload`` (at ``durability``), if any."""
    for r in rows:
        if r["impl"] == impl and r["workload"] == workload and (durability is None or r["durability"] == durability):
            return r
    return None


def value(row: Row | None) -> float | None:
    """A row's ops/s value (None when missing or not supported)."""
    if row is None or row.get("value") is None:
        return None
    return float(row["value"])


def ratio_target(label: str, num: Row | None, den: Row | None, minimum: float, num_name: str, den_name: str) -> Target:
    """``num / den >= minimum``."""
    required = f"≥ {minimum:g}×"
    a, b = value(num), value(den)
    if a is None or b is None or b == 0:
        missing = [name for name, v in ((num_name, a), (den_name, b)) if v is None]
        return Target(label, "no data: " + ", ".join(missing or [den_name + " = 0"]), required, None)
    ratio = a / b
    return Target(label, f"{ratio:.2f}× ({fmt_num(a)} / {fmt_num(b)} ops/s)", required, ratio >= minimum)


def rust_targets(rust: dict[str, Any] | None) -> list[Target]:
    """The targets measured by the Rust benchmark."""
    rows: list[Row] = rust["results"] if rust else []
    out: list[Target] = []
    for workload in ("W1", "W2"):
        for d in DURABILITIES:
            out.append(
                ratio_target(
                    f"Rust API, 1 thread, unbatched, {workload} {d}: asyncop-rust / raw-sql",
                    find(rows, RUST_IMPL, workload, d),
                    find(rows, RAW_IMPL, workload, d),
                    0.9,
                    f"asyncop-rust {workload} {d}",
                    f"raw-sql {workload} {d}",
                )
            )
    out.append(
        ratio_target(
            "4 threads at FULL, group commit: asyncop-rust W3 FULL / raw-sql W2 FULL (1 thread)",
            find(rows, RUST_IMPL, "W3", "FULL"),
            find(rows, RAW_IMPL, "W2", "FULL"),
            3,
            "asyncop-rust W3 FULL",
            "raw-sql W2 FULL",
        )
    )
    for d in DURABILITIES:
        out.append(
            ratio_target(
                f"Batched, {d}: asyncop-rust W5 / raw-sql W2 (the unbatched limit)",
                find(rows, RUST_IMPL, "W5", d),
                find(rows, RAW_IMPL, "W2", d),
                5,
                f"asyncop-rust W5 {d}",
                f"raw-sql W2 {d}",
            )
        )
    for workload, limit in (("latency-inproc", 1.0), ("latency-xproc", 5.0)):
        where = "in process" if workload == "latency-inproc" else "across processes"
        for d in DURABILITIES:
            r = find(rows, RUST_IMPL, workload, d)
            label = f"Waiting-poll latency {where}, {d}: p50 ({workload})"
            required = f"p50 < {limit:g} ms"
            if r is None or r.get("p50") is None:
                out.append(Target(label, f"no data: asyncop-rust {workload} {d}", required, None))
            else:
                p50 = float(r["p50"])
                out.append(
                    Target(
                        label,
                        f"p50 {fmt_ms(p50)} ms = {p50 / limit:.2f}× the limit (p99 {fmt_ms(r.get('p99'))} ms)",
                        required,
                        p50 < limit,
                    )
                )
    for d in DURABILITIES:
        out.append(
            ratio_target(
                f"W2 with 1,000,000 completed rows, {d}: asyncop-rust W2-1M / W2 (empty table)",
                find(rows, RUST_IMPL, "W2-1M", d),
                find(rows, RUST_IMPL, "W2", d),
                0.9,
                f"asyncop-rust W2-1M {d}",
                f"asyncop-rust W2 {d}",
            )
        )
    # Issue 13: a cancel reaches the running handler within 50 ms in one process, 250 ms across.
    for workload, limit in (("stop-inproc", 50.0), ("stop-xproc", 250.0)):
        where = "in process" if workload == "stop-inproc" else "across processes"
        for d in DURABILITIES:
            r = find(rows, RUST_IMPL, workload, d)
            label = f"Cancel → running handler's stop signal {where}, {d}: p99 ({workload})"
            required = f"p99 < {limit:g} ms"
            if r is None or r.get("p99") is None:
                out.append(Target(label, f"no data: asyncop-rust {workload} {d}", required, None))
            else:
                p99 = float(r["p99"])
                out.append(
                    Target(
                        label,
                        f"p99 {fmt_ms(p99)} ms = {p99 / limit:.2f}× the limit (p50 {fmt_ms(r.get('p50'))} ms)",
                        required,
                        p99 < limit,
                    )
                )
    rss = rust.get("peak_rss_mib") if rust else None
    if rss is None:
        out.append(Target("Peak RSS of the Rust benchmark", "no data: peak_rss_mib", "< 30 MiB", None))
    else:
        rss = float(rss)
        out.append(
            Target(
                "Peak RSS of the Rust benchmark (peak_rss_mib)",
                f"{rss:.1f} MiB = {rss / 30:.2f}× the limit",
                "< 30 MiB",
                rss < 30,
            )
        )
    return out


def python_targets(py: dict[str, Any] | None) -> tuple[list[Target], list[str]]:
    """asyncop-python >= 2x the fastest peer, per workload and synchronous level at
    which at least one peer ran; plus notes naming the peers that could not run."""
    rows: list[Row] = py["results"] if py else []
    workloads = list(dict.fromkeys(r["workload"] for r in rows if r["impl"] in PEERS))
    out: list[Target] = []
    notes: list[str] = []
    for workload in workloads:
        peer_rows = [r for r in rows if r["impl"] in PEERS and r["workload"] == workload]
        not_run = [r for r in peer_rows if r.get("value") is None]
        ran = [r for r in peer_rows if r.get("value") is not None]
        levels = [
            d
            for d in dict.fromkeys([*DURABILITIES, *(r["durability"] for r in ran)])
            if any(r["durability"] == d for r in ran)
        ]
        for d in levels:
            best = max((r for r in ran if r["durability"] == d), key=lambda r: float(r["value"]))
            mine = find(rows, PYTHON_IMPL, workload, d)
            t = ratio_target(
                f"Python package vs fastest peer, {workload} {d}: asyncop-python / {best['impl']}",
                mine,
                best,
                2,
                f"asyncop-python {workload} {d}",
                f"{best['impl']} {workload} {d}",
            )
            out.append(t)
        if not_run:
            names = "; ".join(f"{r['impl']} ({r.get('note') or 'not supported'})" for r in not_run)
            if levels:
                notes.append(f"{workload}: peers that could not run it: {names}.")
            else:
                notes.append(f"{workload}: no peer could run it, so there is no target row: {names}.")
    if not rows:
        out.append(Target("Python package vs fastest peer", "no data: python.json", "≥ 2×", None))
    return out, notes


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
) -> str:
    """The whole report as Markdown."""
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
        sqlite_line += f"; {versions['python-sqlite3']} under the Python peers (Python's sqlite3 module)"
    lines += [
        f"- Date: {now.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_line(rust)}",
        f"- SQLite: {sqlite_line}",
        (
            f"- Python: {(py or {}).get('python', 'n/a')}; "
            f"asyncop (Python package) {versions.get('asyncop', 'n/a')}; peers: {peer_versions or 'n/a'}"
        ),
        f"- Command: `{command}`",
        *load_note(pg),
        "",
        (
            "Throughput is ops/s (higher is better), the median of 3 interleaved runs on fresh files; "
            "latency is in ms. `durability` is the level a row ran at: asyncop's setting, or for a peer the "
            "`synchronous` level it really used (2 = FULL, 1 = NORMAL, 0 = OFF). `journal_mode` is read back "
            "from each database file with a separate sqlite3 connection; `synchronous` is a per-connection "
            "setting, so a peer's is read on its own connection (the note says when a separate connection "
            "reads another level), and asyncop's is the one it sets on every connection from its durability."
        ),
        "",
    ]
    lines.append("## Rust (`cargo bench --bench queue`)")
    lines.append("")
    if rust:
        lines += results_table(rust)
        lines += [
            "",
            (
                "W1 submit one per call; W2 submit→claim→complete, 1 worker draining a pre-filled queue; "
                "W3 the same with 4 threads; W4 processes; W5 batched; W2-1M W2 with 1,000,000 completed rows "
                "in the table; latency-inproc/-xproc the wait of a waiting poll in process / across processes; "
                "stop-inproc/-xproc from just before a cancel to the running handler's stop signal, the handler "
                "in process / in another process (no renewal: the lease is the default 30 s)."
            ),
        ]
    else:
        lines.append("No rust.json.")
    lines.append("")
    lines.append("## Python (`benches/python/peers.py`)")
    lines.append("")
    if py:
        lines += results_table(py)
        lines += [
            "",
            (
                "W1 submit one per call; W2 submit→claim→complete, 1 worker draining a pre-filled queue "
                "(untimed prefill); W3 the same with 4 threads; W5 batched: asyncop poll(max=100) + "
                "complete_many. Every run checks that every item was completed exactly once."
            ),
        ]
    else:
        lines.append("No python.json.")
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
    py_targets, py_notes = python_targets(py)
    targets = rust_targets(rust) + py_targets
    lines += table(["target", "measured", "required", "result"], (t.cells() for t in targets))
    met = sum(1 for t in targets if t.met)
    lines += ["", f"{met} of {len(targets)} targets met."]
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
    args = parser.parse_args(argv)
    try:
        rust = load(args.rust, "rust")
        py = load(args.python, "python")
        # Optional: a report of the SQLite halves alone says the section is missing.
        pg = load(args.postgres, "postgres") if args.postgres.exists() else None
    except ReportError as exc:
        print(f"report.py: {exc}", file=sys.stderr)
        return 1
    quick = bool(rust.get("quick") or py.get("quick") or (pg and pg.get("quick")))
    out = args.out or (REPO / "target" / "bench" / "BENCHMARKS.quick.md" if quick else REPO / "BENCHMARKS.md")
    command = args.command or " ".join(["benches/report.py", *(argv if argv is not None else sys.argv[1:])])
    text = render(rust, py, command, dt.datetime.now(dt.UTC), pg)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    print(f"report.py: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
