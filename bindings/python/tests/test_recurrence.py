"""Recurring operations and the small things of issue 13 from Python: a series
submitted with ``recurrence=`` runs and cycles back to Suspended/Waiting with
its next occurrence; ``set_recurrence`` and its refusals; ``set_state`` with
status -1; refusal messages that name the states; queries by correlation id
and by name prefix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from _support import claim

import asyncop
from asyncop import OperationSpec, State, Status

pytestmark = pytest.mark.both_stores

UPDATABLE = 77
MINUTE = timedelta(minutes=1)


def test_a_series_runs_and_cycles_back_to_its_next_occurrence(queue: asyncop.Queue) -> None:
    start = queue.now()
    op_id = queue.submit("series", b"x", operation_type=100, recurrence="FREQ=MINUTELY;", recurrence_start=start)
    op = queue.retrieve(op_id)
    assert (op.state, op.status) == (State.READY, Status.WAITING_FOR_RESOURCES)
    assert op.recurrence_pattern == "FREQ=MINUTELY;"
    assert op.recurrence_start == start.replace(microsecond=start.microsecond // 1000 * 1000)
    assert claim(queue).complete() == Status.WAITING
    op = queue.retrieve(op_id)
    assert (op.state, op.status) == (State.SUSPENDED, Status.WAITING)
    assert op.completed_on is None and op.retry_count == 0
    # The next occurrence: a whole number of minutes after the start, within a minute from now.
    assert op.postpone_until is not None and op.recurrence_start is not None
    assert (op.postpone_until - op.recurrence_start) % MINUTE == timedelta(0)
    assert queue.now() < op.postpone_until <= queue.now() + MINUTE
    # A later start waits for it; a one-shot operation has no pattern.
    later = queue.submit("later", operation_type=100, recurrence="FREQ=DAILY;", recurrence_start=timedelta(hours=2))
    assert queue.retrieve(later).status == Status.WAITING
    assert queue.retrieve(queue.submit("one-shot", operation_type=100)).recurrence_pattern is None
    # submit_many takes the same fields.
    (batched,) = queue.submit_many([OperationSpec("batched", 100, recurrence="FREQ=WEEKLY;")])
    assert queue.retrieve(batched).recurrence_pattern == "FREQ=WEEKLY;"


def test_bad_series_are_refused(queue: asyncop.Queue) -> None:
    for kwargs in (
        {"recurrence": "FREQ=YEARLY"},
        {"recurrence": "FREQ=DAILY;COUNT=2"},
        {"recurrence_start": timedelta(hours=1)},
        {"recurrence": "FREQ=DAILY;", "postpone_until": timedelta(hours=1)},
    ):
        with pytest.raises(asyncop.InvalidArgumentError):
            queue.submit("bad", operation_type=100, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        queue.submit("bad", operation_type=100, recurrence=b"FREQ=DAILY;")  # type: ignore[arg-type]
    assert queue.query() == []


def test_set_recurrence_and_its_refusals_in_order(db: str) -> None:
    with asyncop.Queue(db, durability="normal", recurrence_updatable_types=[UPDATABLE]) as q:
        series = q.submit("series", operation_type=UPDATABLE, recurrence="FREQ=DAILY;")
        claim(q).complete()
        pending = q.retrieve(series).postpone_until
        q.set_recurrence(series, "FREQ=HOURLY;INTERVAL=6")
        op = q.retrieve(series)
        assert op.recurrence_pattern == "FREQ=HOURLY;INTERVAL=6"
        assert op.postpone_until == pending  # the pending run keeps its time

        one_shot = q.submit("one-shot", operation_type=UPDATABLE)
        other = q.submit("other", operation_type=100, recurrence="FREQ=DAILY;", recurrence_start=timedelta(days=1))
        ended = q.submit("ended", operation_type=UPDATABLE, recurrence="FREQ=DAILY;", recurrence_start=timedelta(days=1))
        q.cancel(ended)
        with pytest.raises(asyncop.CannotUpdateNonrecurringError) as e1:
            q.set_recurrence(one_shot, "nonsense")
        assert e1.value.hresult == 0x80044168 - 2**32
        with pytest.raises(asyncop.CannotUpdateRecurringError) as e2:
            q.set_recurrence(other, "nonsense")
        assert e2.value.hresult == 0x80044169 - 2**32
        with pytest.raises(asyncop.InvalidStateChangeError) as e3:
            q.set_recurrence(ended, "nonsense")
        assert type(e3.value) is asyncop.InvalidStateChangeError
        assert "Completed/Canceled" in str(e3.value)
        for bad in ("FREQ=YEARLY", ""):
            with pytest.raises(asyncop.InvalidArgumentError):
                q.set_recurrence(series, bad)
        with pytest.raises(asyncop.NotFoundError):
            q.set_recurrence(999_999, "FREQ=DAILY;")
    # Reopened without the option: the queue keeps the setting.
    with asyncop.Queue(db, durability="normal") as q:
        q.set_recurrence(series, "FREQ=DAILY;")


def test_set_state_refuses_an_unknown_status(queue: asyncop.Queue) -> None:
    op_id = queue.submit("op", operation_type=100)
    for bad in (-1, 1, 99, -(2**31)):
        with pytest.raises(asyncop.InvalidArgumentError):
            queue.set_state(op_id, State.READY, bad)
        with pytest.raises(asyncop.InvalidArgumentError):
            queue.set_state(op_id, State.COMPLETED, bad)
    assert queue.retrieve(op_id).status == Status.WAITING_FOR_RESOURCES
    queue.postpone(op_id, timedelta(hours=1))
    queue.set_state(op_id, State.READY)  # no status: the state's default meaning
    assert queue.retrieve(op_id).status == Status.WAITING_FOR_RESOURCES
    queue.set_state(op_id, State.COMPLETED, None)
    assert queue.retrieve(op_id).status == Status.CANCELED


def test_refusals_name_the_states_and_times_read_as_iso_8601(queue: asyncop.Queue) -> None:
    op_id = queue.submit("op", operation_type=100)
    with pytest.raises(asyncop.InvalidStateChangeToSuspendedError) as e:
        queue.pause(op_id)
    assert "Ready/WaitingForResources cannot be paused; Postpone holds queued work" in str(e.value)
    past = datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=timezone.utc)
    with pytest.raises(asyncop.InvalidArgumentError) as e2:
        queue.postpone(op_id, past)
    assert "postpone_until (2020-01-02T03:04:05.006Z) must be later than now (20" in str(e2.value)


def test_query_by_correlation_id_and_name_prefix(queue: asyncop.Queue) -> None:
    a = queue.submit("report-daily", operation_type=100, correlation_id="batch-7")
    b = queue.submit("report-weekly", operation_type=100)
    c = queue.submit("Report", operation_type=100, correlation_id="batch-7")
    d = queue.submit("rep%rt", operation_type=100)
    ids = lambda **kw: [o.id for o in queue.query(**kw)]  # noqa: E731
    assert ids(correlation_id="batch-7") == [a, c]
    assert ids(correlation_id="batch") == []
    assert ids(name_prefix="report-") == [a, b]
    assert ids(name_prefix="Rep") == [c]
    assert ids(name_prefix="rep%") == [d]
    assert ids(name_prefix="") == [a, b, c, d]
    assert ids(name_prefix="report", correlation_id="batch-7") == [a]
    queue.cancel(b)
    assert ids(name_prefix="report", state=State.COMPLETED) == [b]
