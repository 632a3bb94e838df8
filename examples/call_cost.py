"""CPU per call of the three W2 calls through the Python package: submit,
poll (one lease) and complete, and per job of the benchmark's W2 drain (each
step one complete_and_poll, as benches/python/peers.py drains), at durability
"normal". The same sequence as examples/call_cost.rs (through the Rust API):
the difference is the Python layer's cost per call (per job for the drain: two
calls, claim and complete).

Run: ASYNCOP_LIBRARY=target/release/libasyncop.so PYTHONPATH=bindings/python \
     python3 examples/call_cost.py [n] [rounds] [--profile]
"""

import os
import shutil
import sys
import tempfile
import time

import asyncop


def per_call(n, f):
    start = time.process_time()
    for i in range(n):
        f(i)
    return (time.process_time() - start) * 1e6 / n


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 3000
    rounds = int(args[1]) if len(args) > 1 else 5
    d = tempfile.mkdtemp(prefix="asyncop-call-cost-")
    try:
        q = asyncop.Queue(os.path.join(d, "q.db"), durability="normal")
        payload = bytes([7]) * 100
        s, p, c, d = [], [], [], []
        for r in range(rounds):
            s.append(per_call(n, lambda i: q.submit("job", payload, operation_type=100)))
            leases = []
            p.append(per_call(n, lambda i: leases.extend(q.poll("host", max=1))))
            assert len(leases) == n
            c.append(per_call(n, lambda i: leases[i].complete()))
            for lease in leases:
                lease.close()
            for i in range(n):
                q.submit("job", payload, operation_type=100)
            held = q.poll("host", max=1)

            def step(i):
                nonlocal held
                errors, nxt = q.complete_and_poll(held, "host", max=1)
                if any(e is not None for e in errors):
                    raise RuntimeError(f"complete_and_poll: {errors}")
                for lease in held:
                    lease.close()
                held = nxt

            d.append(per_call(n, step))
            print(f"round {r}: submit {s[-1]:.1f} µs, poll {p[-1]:.1f} µs, complete {c[-1]:.1f} µs, drain {d[-1]:.1f} µs")
        med = lambda v: sorted(v)[len(v) // 2]
        print(
            f"python min: submit {min(s):.1f} µs, poll {min(p):.1f} µs, complete {min(c):.1f} µs, drain {min(d):.1f} µs"
        )
        print(
            f"python median: submit {med(s):.1f} µs, poll {med(p):.1f} µs, complete {med(c):.1f} µs, "
            f"drain {med(d):.1f} µs"
        )
        q.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        import cProfile
        import pstats

        cProfile.run("main()", "/tmp/call_cost.prof")
        pstats.Stats("/tmp/call_cost.prof").sort_stats("tottime").print_stats(25)
    else:
        main()
