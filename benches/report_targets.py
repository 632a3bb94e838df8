"""The "Targets" table of BENCHMARKS.md (imported by ``report.py``): one row per target of
issue 15 ("Targets (ratios in one interleaved run)") plus the targets met earlier that must
stay met, each with the measured figure, the bound and **met** / **missed**, or "not
measured in this run" when an input is missing.

Inputs: the ``results`` rows of ``rust.json`` and ``python.json`` and the row lists of the
optional ``rust-peers.json``, ``backlog.json`` and ``--baseline`` (see ``report.py``'s
docstring for their format and the workload names read from each).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]

RUST = "asyncop-rust"
PYTHON = "asyncop-python"
RAW = "raw-sql"
DISK = "disk"
FSYNC = "fsync-4k"
NOT_MEASURED = "not measured in this run"


@dataclass
class Target:
    """One row of the Targets table."""

    target: str
    measured: str
    required: str
    met: bool | None  # None: not measured in this run

    def cells(self) -> list[str]:
        """The table cells."""
        if self.met is None:
            return [self.target, self.measured, self.required, NOT_MEASURED]
        return [self.target, self.measured, self.required, "**met**" if self.met else "**missed**"]


def find(rows: Sequence[Row], impl: str, workload: str, durability: str | None = None) -> Row | None:
    """The row of ``impl`` / ``workload`` (at ``durability``) that has a value, if any."""
    for r in rows:
        if r.get("impl") == impl and r.get("workload") == workload:
            if durability is None or r.get("durability") == durability:
                return r
    return None


def value(row: Row | None) -> float | None:
    """A row's value (None when missing or failed)."""
    if row is None or row.get("value") is None:
        return None
    return float(row["value"])


def missing_text(names: Sequence[str], rows: Sequence[Row | None]) -> str:
    """Which inputs are missing, and why when a row says (a failed cell)."""
    parts = []
    for name, row in zip(names, rows):
        if value(row) is None:
            why = (row or {}).get("error") or (row or {}).get("note")
            parts.append(f"{name} ({why})" if why else name)
    return "no data: " + ", ".join(parts)


def fmt(v: float) -> str:
    """A figure with thousands separators, one decimal below 100."""
    return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"


def ratio(label: str, num: Row | None, den: Row | None, minimum: float, names: tuple[str, str]) -> Target:
    """``num / den >= minimum``, both ops/s."""
    required = f"≥ {minimum:g}×"
    a, b = value(num), value(den)
    if a is None or b is None or b == 0:
        return Target(label, missing_text(names, (num, den)), required, None)
    r = a / b
    return Target(label, f"{r:.2f}× ({fmt(a)} / {fmt(b)} ops/s)", required, r >= minimum)


def at_most(label: str, row: Row | None, bound: float, unit: str, name: str) -> Target:
    """``value <= bound``."""
    required = f"≤ {bound:g} {unit}"
    v = value(row)
    if v is None:
        return Target(label, missing_text([name], [row]), required, None)
    return Target(label, f"{v:.2f} {unit} = {v / bound:.2f}× the bound", required, v <= bound)


def fastest(rows: Sequence[Row], workload: str, durability: str, exclude: Sequence[str]) -> Row | None:
    """The fastest row of ``workload`` at ``durability`` among the impls not excluded."""
    ran = [
        r
        for r in rows
        if r.get("workload") == workload
        and r.get("durability") == durability
        and r.get("impl") not in exclude
        and value(r) is not None
    ]
    return max(ran, key=lambda r: float(r["value"]), default=None)


def vs_rust_peers(rust: Sequence[Row], peers: Sequence[Row] | None) -> list[Target]:
    """W2 FULL >= 1.3x and W1 FULL >= 1.1x the fastest Rust peer. When rust-peers.json
    has asyncop-rust rows of its own (the same interleaved run), those are used."""
    out = []
    for workload, minimum in (("W2", 1.3), ("W1", 1.1)):
        label = f"{workload} FULL ≥ {minimum:g}× the fastest Rust peer"
        if peers is None:
            out.append(Target(label, "no data: rust-peers.json", f"≥ {minimum:g}×", None))
            continue
        best = fastest(peers, workload, "FULL", (RUST, PYTHON, RAW))
        mine = find(peers, RUST, workload, "FULL") or find(rust, RUST, workload, "FULL")
        name = best["impl"] if best else "the fastest Rust peer"
        t = ratio(label, mine, best, minimum, (f"{RUST} {workload} FULL", f"{name} {workload} FULL"))
        if best:
            t.target += f" ({name})"
        out.append(t)
    return out


def issue15_rust(rust: Sequence[Row], peers: Sequence[Row] | None, baseline: Sequence[Row] | None) -> list[Target]:
    """The targets of issue 15 that the Rust benchmark (and the Rust peers) measure."""
    w2_full, raw_w2_full = find(rust, RUST, "W2", "FULL"), find(rust, RAW, "W2", "FULL")
    out = [ratio("W2 FULL ≥ 1.0× the fair raw-SQL W2 FULL", w2_full, raw_w2_full, 1.0, ("W2 FULL", "raw W2 FULL"))]
    out += vs_rust_peers(rust, peers)
    out.append(
        ratio(
            "W1 FULL ≥ 0.8× the disk's fsync rate (4 KiB write + fdatasync, same directory)",
            find(rust, RUST, "W1", "FULL"),
            find(rust, DISK, FSYNC),
            0.8,
            ("W1 FULL", "disk fsync-4k"),
        )
    )
    out.append(
        ratio(
            "W3 (4 threads) FULL ≥ 2.5× raw W2 FULL",
            find(rust, RUST, "W3", "FULL"),
            raw_w2_full,
            2.5,
            ("W3 FULL", "raw W2 FULL"),
        )
    )
    for step, bound in (("submit", 3.2), ("claim", 4.2), ("complete", 4.1)):
        out.append(
            at_most(
                f"WAL pages per {step}",
                find(rust, RUST, f"wal-pages-{step}"),
                bound,
                "pages",
                f"wal-pages-{step}",
            )
        )
    label = "W2 NORMAL ≥ 1.8× today's build (the build before issue 15)"
    if baseline is None:
        out.append(Target(label, "no data: no --baseline rust.json of that build", "≥ 1.8×", None))
    else:
        t = ratio(label, find(rust, RUST, "W2", "NORMAL"), find(baseline, RUST, "W2", "NORMAL"), 1.8, ("W2", "base"))
        t.measured += " (baseline from a separate run, not interleaved)"
        out.append(t)
    for d in ("FULL", "NORMAL"):
        one = find(rust, RUST, "W4-1p", d)
        out.append(ratio(f"4 processes ≥ 1.15× one process, unbatched, {d}", find(rust, RUST, "W4-4p", d), one, 1.15, ("W4-4p", "W4-1p")))
        out.append(ratio(f"8 processes ≥ 1.4× one process, unbatched, {d}", find(rust, RUST, "W4-8p", d), one, 1.4, ("W4-8p", "W4-1p")))
        out.append(
            ratio(
                f"4 processes with the default Worker prefetch ≥ 4× one process, unbatched, {d}",
                find(rust, RUST, "W4-4p-worker", d),
                one,
                4.0,
                ("W4-4p-worker", "W4-1p"),
            )
        )
    return out


def per_call_overhead(rust: Sequence[Row], py: Sequence[Row]) -> list[Target]:
    """Python's cost per call over the Rust API at NORMAL, from the W1 (submit) and W2
    (claim + complete: two calls per operation) cells: python.json's asyncop-rust rows
    (run by peers.py between its own cells) when present, else rust.json's."""
    out = []
    for workload, calls, what in (("W1", 1, "submit"), ("W2", 2, "claim, complete")):
        label = f"Python per-call overhead over the Rust API, NORMAL, {what} ({workload})"
        p = find(py, PYTHON, workload, "NORMAL")
        # The Rust cell that peers.py ran interleaved with its own, else rust.json's.
        interleaved = find(py, RUST, workload, "NORMAL")
        r = interleaved if value(interleaved) is not None else find(rust, RUST, workload, "NORMAL")
        how = "interleaved in one run" if r is interleaved else "separate runs"
        a, b = value(p), value(r)
        if not a or not b:
            out.append(Target(label, missing_text((f"python {workload}", f"rust {workload}"), (p, r)), "≤ 6 µs", None))
            continue
        us = (1e6 / a - 1e6 / b) / calls
        out.append(
            Target(
                label,
                f"{us:.1f} µs per call ({1e6 / a:.1f} vs {1e6 / b:.1f} µs per operation, {how})",
                "≤ 6 µs",
                us <= 6,
            )
        )
    return out


def issue15_python(rust: Sequence[Row], py: Sequence[Row]) -> list[Target]:
    """The Python targets of issue 15."""
    huey = find(py, "huey", "W2", "FULL") or find(py, "huey", "W2")
    level = f"huey W2 {huey['durability']}" if huey else "huey W2"
    out = [ratio("Python W2 FULL ≥ 1.0× huey, unbatched", find(py, PYTHON, "W2", "FULL"), huey, 1.0, ("W2 FULL", level))]
    out.append(
        ratio(
            "Python W2 FULL with the default Worker ≥ 5× huey",
            find(py, PYTHON, "W2-worker", "FULL"),
            huey,
            5.0,
            ("asyncop-python W2-worker FULL", level),
        )
    )
    return out + per_call_overhead(rust, py)


def issue15_backlog(backlog: Sequence[Row] | None) -> list[Target]:
    """Claims past a backlog, bounded maintenance and counts (``backlog.json``)."""
    rows = backlog or []
    src = "backlog.json" if backlog is not None else "no backlog.json"

    def get(workload: str) -> Row | None:
        return find(rows, RUST, workload) or find(rows, PYTHON, workload) or find(rows, "asyncop", workload)

    out = []
    empty = get("claim-empty")
    for kind in ("blocked", "filtered"):
        label = f"A claim past 100,000 {kind} operations within 1.5× of a claim on an empty queue"
        past = get(f"claim-past-{kind}-100k")
        a, b = value(past), value(empty)
        if a is None or b is None or b == 0:
            out.append(Target(label, f"{missing_text((f'claim-past-{kind}-100k', 'claim-empty'), (past, empty))} ({src})", "≤ 1.5×", None))
        else:
            out.append(Target(label, f"{a / b:.2f}× ({a:.3f} / {b:.3f} ms)", "≤ 1.5×", a / b <= 1.5))
    for kind, what in (("due", "fall due"), ("expire", "expire")):
        out.append(
            at_most(
                f"Longest write-lock hold while 1,000,000 operations {what} at once",
                get(f"lock-hold-{kind}-1M"),
                20,
                "ms",
                f"lock-hold-{kind}-1M ({src})",
            )
        )
    big, small = get("counts-1M"), get("counts-1k")
    a, b = value(big), value(small)
    label = "counts() at 1,000,000 rows within 2× of counts() at 1,000"
    if a is None or b is None or b == 0:
        out.append(Target(label, f"{missing_text(('counts-1M', 'counts-1k'), (big, small))} ({src})", "≤ 2×", None))
    else:
        out.append(Target(label, f"{a / b:.2f}× ({a:.3f} / {b:.3f} ms)", "≤ 2×", a / b <= 2))
    return out


def kept_targets(rust: Sequence[Row], rss: float | None, fmt_ms: Callable[[Any], str]) -> list[Target]:
    """Targets met before issue 15 that must stay met: waiting-poll latency, the cancel
    signal, W2 with 1,000,000 rows, peak RSS."""
    out = []
    for workload, limit, key in (
        ("latency-inproc", 1.0, "p50"),
        ("latency-xproc", 5.0, "p50"),
        ("stop-inproc", 50.0, "p99"),
        ("stop-xproc", 250.0, "p99"),
    ):
        for d in ("FULL", "NORMAL"):
            r = find(rust, RUST, workload, d)
            label = f"(kept) {workload} {d}: {key}"
            required = f"{key} < {limit:g} ms"
            if r is None or r.get(key) is None:
                out.append(Target(label, missing_text([f"{workload} {d}"], [r]), required, None))
            else:
                v = float(r[key])
                out.append(Target(label, f"{key} {fmt_ms(v)} ms = {v / limit:.2f}× the limit", required, v < limit))
    for d in ("FULL", "NORMAL"):
        out.append(
            ratio(
                f"(kept) W2 with 1,000,000 completed rows, {d}: W2-1M / W2",
                find(rust, RUST, "W2-1M", d),
                find(rust, RUST, "W2", d),
                0.9,
                (f"W2-1M {d}", f"W2 {d}"),
            )
        )
    if rss is None:
        out.append(Target("(kept) Peak RSS of the Rust benchmark", "no data: peak_rss_mib", "< 30 MiB", None))
    else:
        out.append(Target("(kept) Peak RSS of the Rust benchmark", f"{rss:.1f} MiB", "< 30 MiB", rss < 30))
    return out


def all_targets(
    rust: Sequence[Row],
    py: Sequence[Row],
    rss: float | None,
    fmt_ms: Callable[[Any], str],
    peers: Sequence[Row] | None = None,
    backlog: Sequence[Row] | None = None,
    baseline: Sequence[Row] | None = None,
) -> list[Target]:
    """Every row of the Targets table, in the order of the issue's list."""
    return (
        issue15_rust(rust, peers, baseline)
        + issue15_python(rust, py)
        + issue15_backlog(backlog)
        + kept_targets(rust, rss, fmt_ms)
    )


def fsync_fraction(row: Row, disk: float | None) -> str:
    """A FULL ops/s figure as a fraction of the disk's fsync rate ("" otherwise)."""
    v = value(row)
    if disk is None or not disk or v is None or row.get("durability") != "FULL" or row.get("metric", "ops_per_sec") != "ops_per_sec":
        return ""
    if row.get("impl") == DISK:
        return "1.00×"
    return f"{v / disk:.2f}×"


def informational(rust: Sequence[Row]) -> list[str]:
    """Ratios that are no target but that the issue asks to see: batched against batched,
    and asyncop against the fair limit at NORMAL."""
    lines = []
    for workload in ("W1", "W2", "W3", "W5"):
        for d in ("FULL", "NORMAL"):
            a, b = value(find(rust, RUST, workload, d)), value(find(rust, RAW, workload, d))
            if a is not None and b:
                lines.append(f"- {workload} {d}: asyncop-rust / raw-sql = {a / b:.2f}× ({fmt(a)} / {fmt(b)} ops/s)")
    return lines
