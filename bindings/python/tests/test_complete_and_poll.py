"""Queue.complete_and_poll through the package: a worker's step of one lease (the
short way, asyncop._claims._step) answers exactly as the general path does, and a
claimed lease carries every field (read with one asyncop_lease_read)."""

from __future__ import annotations

import pytest

import asyncop
from asyncop import State, Status


def _state(q: asyncop.Queue, op_id: int) -> tuple[State, Status]:
    op = q.retrieve(op_id)
    return op.state, op.status


@pytest.mark.both_stores
def test_a_step_of_one_completes_and_claims_the_next_with_every_field(queue: asyncop.Queue) -> None:
    a = queue.submit("a", b"\x00first", operation_type=3, dependency_token="tok", correlation_id="c-1")
    b = queue.submit("b\u00e9", b"", operation_type=4)
    (lease,) = queue.poll("host-1")
    for _ in range(2):  # the second call takes the short way (the same host id object)
        results, claimed = queue.complete_and_poll([lease], "host-1")
        assert results == [None] and lease.finished and not lease.closed
        lease.close()
        if not claimed:
            break
        (lease,) = claimed
        assert (lease.id, lease.name, lease.payload, lease.operation_type) == (b, "b\u00e9", b"", 4)
        assert (lease.dependency_token, lease.correlation_id, lease.attempt) == (None, None, 1)
        assert lease.host_id == "host-1" and lease.lock_token > 0 and lease.expires_at is not None
    assert _state(queue, a) == _state(queue, b) == (State.COMPLETED, Status.SUCCEEDED)
    assert queue.complete_and_poll([], "host-1") == ([], [])


@pytest.mark.both_stores
def test_a_lost_lease_in_a_step_of_one_is_reported_and_the_claim_still_returned(queue: asyncop.Queue) -> None:
    queue.submit_many([{"name": f"op {i}", "operation_type": 1} for i in range(3)])
    (lease,) = queue.poll("host-1")
    results, (first,) = queue.complete_and_poll([lease], "host-1", max=1)  # host id now cached
    assert results == [None]
    first.complete()  # ended: listing it again gives LEASE_LOST for it
    results, claimed = queue.complete_and_poll([first], "host-1", max=1)
    assert len(results) == 1 and isinstance(results[0], asyncop.LeaseLostError)
    assert first.finished and len(claimed) == 1 and claimed[0].id != first.id
    for x in (lease, first, *claimed):
        x.close()


def test_a_step_of_one_refuses_what_the_general_path_refuses(tmp_path: object) -> None:
    q = asyncop.Queue(f"{tmp_path}/q.db", durability="normal")
    other = asyncop.Queue(f"{tmp_path}/other.db", durability="normal")
    try:
        q.submit_many([{"name": f"op {i}", "operation_type": 1} for i in range(4)])
        other.submit("x", b"", operation_type=1)
        (lease,) = q.poll("host-1")
        (foreign,) = other.poll("host-1")
        with pytest.raises(asyncop.InvalidArgumentError):
            q.complete_and_poll([foreign], "host-1")
        with pytest.raises(TypeError):
            q.complete_and_poll([lease], "host-1", max=True)
        with pytest.raises(asyncop.InvalidArgumentError):
            q.complete_and_poll([lease], "host-1", max=0)
        with pytest.raises(TypeError):
            q.complete_and_poll([lease], None)  # type: ignore[arg-type]
        assert not lease.finished  # nothing was written
        results, claimed = q.complete_and_poll([lease], "host-1")
        assert results == [None] and len(claimed) == 1
        lease.close()
        with pytest.raises(asyncop.ClosedError):
            q.complete_and_poll([lease], "host-1")
        foreign.close()
        other.close()
        with pytest.raises(asyncop.ClosedError):
            other.complete_and_poll(claimed, "host-1")
        claimed[0].close()
    finally:
        q.close()
        other.close()


def test_a_payload_bigger_than_the_thread_buffer_is_read_whole(tmp_path: object) -> None:
    big = bytes(range(256)) * 300  # 76,800 bytes: past the 4 KiB buffer
    with asyncop.Queue(f"{tmp_path}/q.db", durability="normal") as q:
        q.submit("big", big, operation_type=1, correlation_id="\u20ac")
        (lease,) = q.poll("h")
        assert lease.payload == big and lease.correlation_id == "\u20ac" and lease.name == "big"
        lease.close()
