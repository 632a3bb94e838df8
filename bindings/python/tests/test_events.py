"""Issue 14 §3 through the wrapper: the event callback sees submit, claim,
complete and cancel with the right fields; a raising callback breaks nothing;
the metrics text parses back to the counters."""

from __future__ import annotations

import asyncop
import pytest
from _support import claim

from asyncop import Status

pytestmark = pytest.mark.both_stores


def test_events_arrive_with_their_fields(db: str) -> None:
    seen: list[asyncop.Event] = []
    with asyncop.Queue(db, durability="normal") as q:
        q.on_event(seen.append)
        a = q.submit("a", operation_type=100)
        lease = claim(q, operation_types=[100])
        lease.complete()
        b = q.submit("b", operation_type=101)
        q.cancel(b)
    kinds = [(e.kind, e.id) for e in seen]
    assert kinds == [("submitted", a), ("claimed", a), ("outcome", a), ("submitted", b), ("user_action", b)]
    sub, cl, out, _, cancel = seen
    assert (sub.from_status, sub.to_status, sub.operation_type, sub.count) == (
        None,
        Status.WAITING_FOR_RESOURCES,
        100,
        1,
    )
    assert (cl.from_status, cl.to_status) == (Status.WAITING_FOR_RESOURCES, Status.IN_PROGRESS)
    assert cl.host == lease.host_id and out.host == lease.host_id
    assert (out.from_status, out.to_status) == (Status.IN_PROGRESS, Status.SUCCEEDED)
    assert (cancel.from_status, cancel.to_status, cancel.host) == (
        Status.WAITING_FOR_RESOURCES,
        Status.CANCELED,
        None,
    )
    assert cancel.at.tzinfo is not None and cancel.at >= sub.at


def test_a_raising_callback_does_not_break_the_queue(db: str, caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def broken(event: asyncop.Event) -> None:
        calls.append(event.kind)
        raise RuntimeError("broken hook")

    with asyncop.Queue(db, durability="normal") as q:
        q.on_event(broken)
        op_id = q.submit("a", operation_type=100)
        claim(q, operation_types=[100]).complete()
        assert q.retrieve(op_id).status == Status.SUCCEEDED
        q.on_event(None)
        q.submit("b", operation_type=100)
    assert calls == ["submitted", "claimed", "outcome"]
    assert "the event callback raised" in caplog.text


def test_metrics_text_parses_back(db: str) -> None:
    with asyncop.Queue(db, durability="normal") as q:
        for n in range(3):
            q.submit(f"j{n}", operation_type=100)
        claim(q, operation_types=[100]).complete()
        text = q.metrics_text('queue="jobs"')
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        samples[series] = float(value)
    assert samples['asyncop_submitted_total{queue="jobs"}'] == 3
    assert samples['asyncop_claims_total{queue="jobs"}'] == 1
    assert samples['asyncop_completions_total{queue="jobs",outcome="succeeded"}'] == 1
    assert samples['asyncop_commit_seconds_bucket{queue="jobs",le="+Inf"}'] == 1
    assert "# TYPE asyncop_claim_seconds histogram" in text
