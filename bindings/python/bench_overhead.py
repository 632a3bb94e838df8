#!/usr/bin/env python3
"""Per-call overhead of the Python binding versus Rust, at durability NORMAL.

Measures, on a fresh queue file each:

* submit, one operation per call (~100-byte payload, as the Rust benchmark);
* poll(max=1) + complete, one worker draining a pre-filled queue;

three ways: the Rust API (W1 and W2 at NORMAL of the Rust benchmark, read from
``target/bench/rust.json``, which ``cargo bench --bench queue`` writes; its own
operation counts), the C ABI called through raw ctypes (no wrapper logic), and
the ``asyncop`` Python API. The difference between the Rust and Python columns
is what the binding costs per call.

Usage (from the repository root, after ``pip install ./bindings/python`` or
with ASYNCOP_LIBRARY pointing at target/release/libasyncop.so)::

    python bindings/python/bench_overhead.py [ops] [--no-rust]
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Running this file puts bindings/python/ first on sys.path, where the source
# package (without a library) would shadow the pip-installed one. Prefer the
# installed package; fall back to the source tree with target/release's library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
try:
    import asyncop
except ImportError:
    subprocess.run(["cargo", "build", "--quiet", "--release", "--lib"], cwd=REPO, check=True)
    os.environ.setdefault("ASYNCOP_LIBRARY", str(REPO / "target" / "release" / "libasyncop.so"))
    sys.path.insert(0, str(HERE))
    import asyncop
from asyncop import _native  # noqa: E402

PAYLOAD = bytes([7]) * 100


def per_call_us(seconds: float, n: int) -> float:
    return seconds / n * 1e6


def python_api(path: str, n: int) -> tuple[float, float]:
    with asyncop.Queue(path, durability="normal") as q:
        started = time.perf_counter()
        for i in range(n):
            q.submit(f"op-{i}", PAYLOAD, operation_type=100)
        submit = per_call_us(time.perf_counter() - started, n)
        started = time.perf_counter()
        done = 0
        while done < n:
            for lease in q.poll("bench"):
                lease.complete()
                lease.close()
                done += 1
        drain = per_call_us(time.perf_counter() - started, n)
    return submit, drain


def raw_ctypes(path: str, n: int) -> tuple[float, float]:
    """The same calls through the bound C functions, without the wrapper."""
    lib = _native.lib
    options = ctypes.c_void_p()
    lib.asyncop_options_new(ctypes.byref(options))
    lib.asyncop_options_set_durability(options, 1)
    q = ctypes.c_void_p()
    lib.asyncop_queue_open(path.encode(), options, ctypes.byref(q))
    lib.asyncop_options_free(options)
    out_id = ctypes.c_int64()
    started = time.perf_counter()
    for i in range(n):
        lib.asyncop_queue_submit(
            q, f"op-{i}".encode(), 100, PAYLOAD, len(PAYLOAD), None, _native.TIME_NONE, None, ctypes.byref(out_id)
        )
    submit = per_call_us(time.perf_counter() - started, n)
    leases = (ctypes.c_void_p * 1)()
    count = ctypes.c_size_t()
    status = ctypes.c_int32()
    started = time.perf_counter()
    done = 0
    while done < n:
        lib.asyncop_queue_poll(q, b"bench", None, 0, 0, leases, 1, ctypes.byref(count))
        if count.value:
            lib.asyncop_lease_complete(leases[0], ctypes.byref(status))
            lib.asyncop_lease_free(leases[0])
            done += 1
    drain = per_call_us(time.perf_counter() - started, n)
    lib.asyncop_queue_close(q)
    return submit, drain


def rust() -> tuple[float, float] | None:
    """µs per submit (W1) and per poll+complete (W2) of the Rust API at NORMAL."""
    path = REPO / "target" / "bench" / "rust.json"
    try:
        report = json.loads(path.read_text())
        if report.get("quick"):
            print(f"(the Rust figures in {path} come from a --quick smoke run)", file=sys.stderr)
        results = report["results"]
        rate = {
            r["workload"]: float(r["value"])
            for r in results
            if r["impl"] == "asyncop-rust" and r["durability"] == "NORMAL" and r["metric"] == "ops_per_sec"
        }
        return 1e6 / rate["W1"], 1e6 / rate["W2"]
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError) as e:
        print(f"(no Rust figures from {path}: run `cargo bench --bench queue` first; {e!r})", file=sys.stderr)
        return None


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 5000
    print(f"{n} operations per run, durability NORMAL, 100-byte payloads; library {asyncop.library_path}")
    rows: list[tuple[str, tuple[float, float]]] = []
    if "--no-rust" not in sys.argv:
        r = rust()
        if r:
            rows.append(("Rust API (cargo bench, rust.json)", r))
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("C ABI via raw ctypes", raw_ctypes(os.path.join(tmp, "raw.db"), n)))
        rows.append(("asyncop Python API", python_api(os.path.join(tmp, "py.db"), n)))
    print(f"{'':34} {'submit µs/op':>14} {'poll+complete µs/op':>20}")
    for label, (submit, drain) in rows:
        print(f"{label:34} {submit:14.1f} {drain:20.1f}")
    if rows[0][0].startswith("Rust"):
        base = rows[0][1]
        py = rows[-1][1]
        print(
            f"{'Python overhead vs Rust':34} {py[0] - base[0]:+14.1f} {py[1] - base[1]:+20.1f}"
            f"   (x{py[0] / base[0]:.2f}, x{py[1] / base[1]:.2f})"
        )


if __name__ == "__main__":
    main()
