"""Every user action in every state (operation-model.md §4), refused ones
included: a refusal raises the HRESULT's exception and changes nothing, not
even ``modified_on``."""

from __future__ import annotations

from datetime import timedelta
from typing import Callable

import pytest
from _support import claim

import asyncop
from asyncop import State, Status

# Every test here runs against SQLite and PostgreSQL (conftest.py: ``db`` / ``queue``).
pytestmark = pytest.mark.both_stores

E = asyncop.ErrorCode
STATES = ["0/0", "1/10", "2/20", "2/21", "2/22", "3/30", "3/31", "3/32"]


def make(q: asyncop.Queue, state: str, operation_type: int = 100) -> tuple[int, asyncop.Lease | None]:
    """An operation in ``state`` (and the lease holding it, if Locked)."""
    op_id = q.submit(f"op in {state}", operation_type=operation_type)
    lease = None
    if state == "1/10":
        q.postpone(op_id, timedelta(hours=1))
    elif state.startswith("2/") or state in ("3/30", "3/31"):
        lease = claim(q, operation_types=[operation_type])
        assert lease.id == op_id
        if state == "2/21":
            q.pause(op_id)
        elif state == "2/22":
            q.cancel(op_id)
        elif state == "3/30":
            lease.complete()
        elif state == "3/31":
            lease.fail("failed")
    elif state == "3/32":
        q.cancel(op_id)
    op = q.retrieve(op_id)
    assert f"{op.state}/{op.status}" == state
    return op_id, lease


def later(q: asyncop.Queue) -> Callable[[int], None]:
    return lambda op_id: q.postpone(op_id, timedelta(hours=2))


ACTIONS: dict[str, Callable[[asyncop.Queue], Callable[[int], None]]] = {
    "cancel": lambda q: q.cancel,
    "pause": lambda q: q.pause,
    "resume": lambda q: q.resume,
    "postpone": later,
    "delete": lambda q: q.delete,
}

# operation-model.md §4: the resulting state, or the refusal's code. None: deleted.
MATRIX: dict[str, dict[str, str | int | None]] = {
    "cancel": {
        "0/0": "3/32", "1/10": "3/32", "2/20": "2/22", "2/21": "2/22",
        "2/22": E.INVALID_STATE_CHANGE, "3/30": E.INVALID_STATE_CHANGE,
        "3/31": E.INVALID_STATE_CHANGE, "3/32": E.INVALID_STATE_CHANGE,
    },
    "pause": {
        "0/0": E.INVALID_STATE_CHANGE_TO_SUSPENDED, "1/10": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
        "2/20": "2/21", "2/21": "2/21", "2/22": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
        "3/30": E.INVALID_STATE_CHANGE_TO_SUSPENDED, "3/31": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
        "3/32": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
    },
    "resume": {s: E.INVALID_STATE_CHANGE_TO_READY for s in STATES} | {"1/10": "0/0"},
    "postpone": {
        "0/0": "1/10", "1/10": "1/10", "2/20": "2/21",
        "2/21": E.INVALID_STATE_CHANGE_TO_SUSPENDED, "2/22": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
        "3/30": E.INVALID_STATE_CHANGE_TO_SUSPENDED, "3/31": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
        "3/32": E.INVALID_STATE_CHANGE_TO_SUSPENDED,
    },
    "delete": {s: E.CANNOT_DELETE_UNLESS_COMPLETED for s in STATES} | {"3/30": None, "3/31": None, "3/32": None},
}  # fmt: skip


def check(q: asyncop.Queue, op_id: int, act: Callable[[int], None], expected: str | int | None) -> None:
    before = q.retrieve(op_id)
    if isinstance(expected, int):
        with pytest.raises(asyncop.InvalidStateChangeError) as info:
            act(op_id)
        err = info.value
        assert (err.code, err.hresult) == (expected, expected)
        assert type(err) is asyncop._errors.error_class(expected)
        assert err.message
        assert q.retrieve(op_id) == before, "a refused action changed the operation"
    elif expected is None:
        act(op_id)
        with pytest.raises(asyncop.NotFoundError):
            q.retrieve(op_id)
    else:
        act(op_id)
        after = q.retrieve(op_id)
        assert f"{after.state}/{after.status}" == expected


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_user_action_matrix(queue: asyncop.Queue, action: str, state: str) -> None:
    op_id, lease = make(queue, state)
    check(queue, op_id, ACTIONS[action](queue), MATRIX[action][state])
    if lease is not None:
        lease.close()


RESTRICTED = {
    "cancel": {s: E.CANNOT_CANCEL for s in STATES},
    "pause": {s: E.CANNOT_PAUSE for s in STATES},
    "resume": {s: E.INVALID_STATE_CHANGE_TO_READY for s in STATES},
    "postpone": MATRIX["postpone"] | {"2/20": E.CANNOT_PAUSE},
    "delete": MATRIX["delete"],
}


@pytest.mark.parametrize("state", [s for s in STATES if s not in ("2/21", "2/22", "3/32")])
@pytest.mark.parametrize("action", list(RESTRICTED))
def test_restricted_type_matrix(queue: asyncop.Queue, action: str, state: str) -> None:
    # 2/21, 2/22 and 3/32 cannot be reached by a restricted type through user actions.
    op_id, lease = make(queue, state, operation_type=9)  # 9: restricted on a new file
    check(queue, op_id, ACTIONS[action](queue), RESTRICTED[action][state])
    if lease is not None:
        lease.close()


SET_STATE: list[tuple[str, tuple[int, ...], str | int | type]] = [
    ("1/10", (State.READY,), "0/0"),
    ("1/10", (0, 0), "0/0"),
    ("2/20", (State.SUSPENDED,), "2/21"),
    ("2/20", (1, 10), "2/21"),
    ("0/0", (State.COMPLETED,), "3/32"),
    ("0/0", (3, Status.CANCELED), "3/32"),
    ("2/20", (3,), "2/22"),
    ("0/0", (3, 30), E.INVALID_STATE_CHANGE_TO_COMPLETE),
    ("0/0", (3, 31), E.INVALID_STATE_CHANGE_TO_COMPLETE),
    ("0/0", (2,), E.INVALID_STATE_CHANGE),
    ("0/0", (2, 20), E.INVALID_STATE_CHANGE),
    ("1/10", (2, 21), E.INVALID_STATE_CHANGE),
    ("0/0", (2, 22), E.INVALID_STATE_CHANGE),
    ("0/0", (0, 10), asyncop.InvalidArgumentError),
    ("0/0", (2, 10), asyncop.InvalidArgumentError),
    ("0/0", (4,), asyncop.InvalidArgumentError),
    ("1/10", (1, 11), asyncop.InvalidArgumentError),
    ("0/0", (1,), E.INVALID_STATE_CHANGE_TO_SUSPENDED),
    ("3/30", (0,), E.INVALID_STATE_CHANGE_TO_READY),
]


@pytest.mark.parametrize(("state", "args", "expected"), SET_STATE)
def test_set_state(queue: asyncop.Queue, state: str, args: tuple[int, ...], expected: str | int | type) -> None:
    op_id, lease = make(queue, state)
    if isinstance(expected, type):
        before = queue.retrieve(op_id)
        with pytest.raises(expected):
            queue.set_state(op_id, *args)
        assert queue.retrieve(op_id) == before
    else:
        check(queue, op_id, lambda i: queue.set_state(i, *args), expected)
    if lease is not None:
        lease.close()


def test_set_postpone_until_is_postpone(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    when = queue.now() + timedelta(hours=3)
    queue.set_postpone_until(op_id, when)
    op = queue.retrieve(op_id)
    assert op.state is State.SUSPENDED and op.postpone_until == when.replace(
        microsecond=when.microsecond // 1000 * 1000
    )


def test_postpone_needs_a_future_time(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    before = queue.retrieve(op_id)
    for when in (timedelta(0), timedelta(seconds=-5), queue.now() - timedelta(days=1)):
        with pytest.raises(asyncop.InvalidArgumentError):
            queue.postpone(op_id, when)
    assert queue.retrieve(op_id) == before


def test_resume_keeps_retry_count_and_paused_postponed_becomes_postponed(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    with claim(queue) as lease:
        lease.retry("later")
    queue.resume(op_id)
    op = queue.retrieve(op_id)
    assert (op.state, op.retry_count, op.postpone_until) == (State.READY, 1, None)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_actions_on_missing_and_invalid_ids(queue: asyncop.Queue, action: str) -> None:
    act = ACTIONS[action](queue)
    with pytest.raises(asyncop.NotFoundError) as info:
        act(12345)
    assert info.value.code == E.NOT_FOUND and isinstance(info.value, KeyError)
    for bad in (0, -1, -(2**63)):
        with pytest.raises(asyncop.InvalidArgumentError):
            act(bad)


def test_retrieve_missing_and_invalid_ids(queue: asyncop.Queue) -> None:
    with pytest.raises(KeyError):
        queue.retrieve(1)
    with pytest.raises(ValueError):
        queue.retrieve(0)


def test_deleted_operation_makes_its_host_lose_the_lease(db: str) -> None:
    with asyncop.Queue(db, allow_delete_any=True) as q:
        op_id = q.submit("x", operation_type=1)
        lease = claim(q)
        q.delete(op_id)
        with pytest.raises(asyncop.LeaseLostError):
            lease.renew()
        with pytest.raises(asyncop.LeaseLostError):
            lease.complete()
        lease.close()
        assert q.submit("y", operation_type=1) > op_id  # ids are never reused


def test_refusals_are_also_their_exception_families(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    with pytest.raises(asyncop.InvalidTransitionError):  # the spec's name for the family
        queue.resume(op_id)
    with pytest.raises(asyncop.InvalidStateChangeToReadyError):
        queue.resume(op_id)
    with pytest.raises(asyncop.CannotDeleteUnlessCompletedError):
        queue.delete(op_id)
