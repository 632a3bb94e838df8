"""Clean-up (operation-model.md §10) and held types (§6.7) through the
wrapper: purge with per-status retention and "none", auto-delete on success,
and a held type skipped by the claims of another handle until released."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from _support import claim

import asyncop
from asyncop import Status

pytestmark = pytest.mark.both_stores

HELD = 500


def now() -> datetime:
    return datetime.now(timezone.utc)


def done(q: asyncop.Queue, how: str, operation_type: int = 100) -> int:
    op_id = q.submit(how, operation_type=operation_type)
    if how == "canceled":
        q.cancel(op_id)
        return op_id
    lease = claim(q, operation_types=[operation_type])
    assert lease.id == op_id
    if how == "succeeded":
        lease.complete()
    else:
        lease.fail("failed")
    return op_id


def test_purge_keeps_each_status_for_its_retention(db: str) -> None:
    with asyncop.Queue(db, durability="normal", retention={Status.SUCCEEDED: "none"}) as q:
        ids = {how: done(q, how) for how in ("succeeded", "failed", "canceled")}
        ready = q.submit("ready", operation_type=100)
        assert q.purge() == 0
        assert q.purge(now() + timedelta(days=59)) == 0
        assert q.purge(now() + timedelta(days=61)) == 2
        with pytest.raises(asyncop.NotFoundError):
            q.retrieve(ids["failed"])
        with pytest.raises(asyncop.NotFoundError):
            q.retrieve(ids["canceled"])
        # "none": Succeeded rows stay however old.
        assert q.purge(now() + timedelta(days=100_000)) == 0
        assert q.retrieve(ids["succeeded"]).status == Status.SUCCEEDED
        assert q.retrieve(ready).status == Status.WAITING_FOR_RESOURCES


def test_retention_settings_are_queue_wide(db: str) -> None:
    with asyncop.Queue(db, durability="normal", retention={Status.CANCELED: timedelta(hours=1)}, cleanup_enabled=False):
        pass
    with asyncop.Queue(db, durability="normal") as q:
        op_id = done(q, "canceled")
        assert q.purge(now() + timedelta(minutes=30)) == 0
        assert q.purge(now() + timedelta(hours=2)) == 1
        with pytest.raises(asyncop.NotFoundError):
            q.retrieve(op_id)


def test_auto_delete_on_success(db: str) -> None:
    with asyncop.Queue(db, durability="normal", auto_delete_types=[77]) as q:
        gone = done(q, "succeeded", operation_type=77)
        kept = done(q, "failed", operation_type=77)
        other = done(q, "succeeded", operation_type=100)
        with pytest.raises(asyncop.NotFoundError):
            q.retrieve(gone)
        assert q.retrieve(kept).status == Status.FAILED
        assert q.retrieve(other).status == Status.SUCCEEDED


def test_a_held_type_is_skipped_by_another_handle_until_released(db: str) -> None:
    with asyncop.Queue(db, durability="normal") as q, asyncop.Queue(db, durability="normal") as other:
        a = q.submit("a", operation_type=HELD)
        b = q.submit("b", operation_type=100)
        c = q.submit("c", operation_type=HELD)
        q.hold_type(HELD)
        q.hold_type(HELD)  # idempotent
        assert other.held_types() == [HELD]
        assert claim(other).id == b
        assert other.poll("host-2") == []
        held = {row.operation_type: row.held for row in other.counts()}
        assert held == {HELD: True, 100: False}
        assert q.retrieve(a).status == Status.WAITING_FOR_RESOURCES
        other.release_type(HELD)
        assert q.held_types() == []
        assert claim(other).id == a
        assert claim(other).id == c


def test_bad_input_is_refused_cleanly(db: str) -> None:
    with asyncop.Queue(db, durability="normal") as q:
        with pytest.raises(asyncop.InvalidArgumentError):
            q.hold_type(0)
        with pytest.raises(asyncop.InvalidArgumentError):
            q.release_type(-5)
        with pytest.raises(TypeError):
            q.hold_type("7")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            q.purge(12345)  # type: ignore[arg-type]
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(db, retention={Status.WAITING: timedelta(days=1)})
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(db, retention={Status.FAILED: -1})
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(db, auto_delete_types=[0])
    with pytest.raises(TypeError):
        asyncop.Queue(db, retention=[1, 2])
