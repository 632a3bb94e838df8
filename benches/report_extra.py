"""The optional inputs of BENCHMARKS.md from other benchmarks (imported by ``report.py``):
``rust-peers.json``, ``backlog.json`` and a baseline ``rust.json``, each a list of row
objects in the shared format that ``report.py``'s docstring describes, and their tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import report_targets

Row = dict[str, Any]


class InputError(RuntimeError):
    """An optional input is malformed."""


def load_rows(path: Path | None) -> list[Row] | None:
    """An optional input from another benchmark (``rust-peers.json``, ``backlog.json``, a
    baseline ``rust.json``): a list of row objects, or an object with a ``results`` list.
    None when the file is absent; a malformed file is an error."""
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None
    rows = data.get("results") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "impl" in r and "workload" in r for r in rows):
        raise InputError(f"{path}: expected a list of row objects with impl and workload")
    return rows


def table_of(
    rows: Sequence[Row],
    disk: float | None,
    table: Callable[[Sequence[str], Any], list[str]],
    fmt_num: Callable[[float], str],
) -> list[str]:
    """A table of rows in the shared format {impl, workload, durability, value, unit, runs, ops, note}."""
    out = []
    for r in rows:
        v = r.get("value")
        # Milliseconds (the backlog rows) keep three decimals below 10: a claim takes 0.05 ms.
        fmt = (lambda x: f"{x:.3f}" if x < 10 else f"{x:.1f}") if r.get("unit") == "ms" else fmt_num
        shown = "FAILED" if r.get("error") else ("n/a" if v is None else f"{fmt(float(v))} {r.get('unit', '')}".strip())
        runs = " · ".join(fmt(float(x)) for x in r.get("runs") or [] if x is not None)
        out.append(
            [
                r["impl"],
                r["workload"],
                r.get("durability", ""),
                shown,
                report_targets.fsync_fraction(r, disk) if r.get("unit", "ops/s") == "ops/s" else "",
                runs,
                r.get("ops", ""),
                r.get("error") or r.get("note", ""),
            ]
        )
    return table(["impl", "workload", "durability", "value", "× fsync", "runs", "ops", "note"], out)


def python_notes(py: dict[str, Any] | None) -> list[str]:
    """Notes naming the Python peers that could not run a workload, or failed."""
    rows: list[Row] = py["results"] if py else []
    notes = []
    for workload in dict.fromkeys(r["workload"] for r in rows):
        not_run = [r for r in rows if r["workload"] == workload and r.get("value") is None]
        if not_run:
            names = "; ".join(f"{r['impl']} ({r.get('note') or 'not supported'})" for r in not_run)
            notes.append(f"{workload}: could not run or failed: {names}.")
    return notes
