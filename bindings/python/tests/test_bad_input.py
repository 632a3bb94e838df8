"""Misuse: None, wrong types, NUL, lone surrogates, out-of-range numbers,
naive datetimes, closed objects, copies and pickles. Wrong Python types raise
TypeError; values the library refuses raise InvalidArgumentError (a ValueError);
nothing crashes and nothing changes."""

from __future__ import annotations

import copy
import os
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from _support import claim

import asyncop

E = asyncop.ErrorCode
NAIVE = datetime(2100, 1, 1, 12, 0)


@pytest.mark.parametrize("name", [None, 5, b"bytes", ["list"]])
def test_submit_name_of_the_wrong_type(queue: asyncop.Queue, name: Any) -> None:
    with pytest.raises(TypeError):
        queue.submit(name, operation_type=1)
    assert queue.counts() == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("a\x00b", E.INVALID_ARG), ("\x00", E.INVALID_ARG), ("lone \udc80 surrogate", E.UTF8), ("\ud800", E.UTF8)],
)
@pytest.mark.parametrize("field", ["name", "dependency_token", "correlation_id"])
def test_submit_text_with_nul_or_lone_surrogate(queue: asyncop.Queue, field: str, text: str, code: int) -> None:
    kwargs: dict[str, Any] = {"name": "ok", "operation_type": 1, field: text}
    with pytest.raises(asyncop.InvalidArgumentError) as info:
        queue.submit(**kwargs)
    assert info.value.code == code and isinstance(info.value, ValueError)
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.submit_many([kwargs])
    assert queue.counts() == []


def test_submit_payload_types(queue: asyncop.Queue) -> None:
    for payload in (None, "text", 5, [1, 2]):
        with pytest.raises(TypeError):
            queue.submit("x", payload, operation_type=1)  # type: ignore[arg-type]
    op_id = queue.submit("x", memoryview(b"mv"), operation_type=1)
    assert queue.retrieve(op_id).payload == b"mv"


@pytest.mark.parametrize("operation_type", [None, "1", 1.0, True])
def test_submit_operation_type_of_the_wrong_type(queue: asyncop.Queue, operation_type: Any) -> None:
    with pytest.raises(TypeError):
        queue.submit("x", operation_type=operation_type)


@pytest.mark.parametrize("operation_type", [0, -1, 2**31, -(2**31) - 1, 10**30])
def test_submit_operation_type_out_of_range(queue: asyncop.Queue, operation_type: int) -> None:
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.submit("x", operation_type=operation_type)
    assert queue.counts() == []


def test_submit_text_too_long(queue: asyncop.Queue) -> None:
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.submit("x" * 257, operation_type=1)
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.submit("x", operation_type=1, dependency_token="t" * 257)


def test_submit_requires_operation_type(queue: asyncop.Queue) -> None:
    with pytest.raises(TypeError):
        queue.submit("x")  # type: ignore[call-arg]


@pytest.mark.parametrize("when", [NAIVE, datetime.now()])
def test_naive_datetimes_are_refused(queue: asyncop.Queue, when: datetime) -> None:
    with pytest.raises(asyncop.InvalidArgumentError) as info:
        queue.submit("x", operation_type=1, postpone_until=when)
    assert isinstance(info.value, ValueError) and "naive" in str(info.value)
    op_id = queue.submit("x", operation_type=1)
    before = queue.retrieve(op_id)
    for call in (
        lambda: queue.postpone(op_id, when),
        lambda: queue.set_postpone_until(op_id, when),
        lambda: queue.query(completed_before=when),
        lambda: queue.submit_many([asyncop.OperationSpec("y", 1, postpone_until=when)]),
    ):
        with pytest.raises(asyncop.InvalidArgumentError):
            call()
    with claim(queue) as lease:
        with pytest.raises(asyncop.InvalidArgumentError):
            lease.retry(at=when)
        assert not lease.finished
        lease.complete()
    assert queue.retrieve(op_id).created_on == before.created_on


@pytest.mark.parametrize("when", [None, 5, "tomorrow", 1.5])
def test_postpone_time_of_the_wrong_type(queue: asyncop.Queue, when: Any) -> None:
    op_id = queue.submit("x", operation_type=1)
    with pytest.raises(TypeError):
        queue.postpone(op_id, when)


@pytest.mark.parametrize("bad_id", [None, "1", 1.0, True, b"1"])
def test_ids_of_the_wrong_type(queue: asyncop.Queue, bad_id: Any) -> None:
    for call in (queue.retrieve, queue.cancel, queue.pause, queue.resume, queue.delete):
        with pytest.raises(TypeError):
            call(bad_id)


@pytest.mark.parametrize("bad_id", [2**63, -(2**63) - 1, 10**40])
def test_ids_out_of_int64(queue: asyncop.Queue, bad_id: int) -> None:
    for call in (queue.retrieve, queue.cancel, queue.delete, lambda i: queue.wait_for(i, 0)):
        with pytest.raises(asyncop.InvalidArgumentError) as info:
            call(bad_id)
        assert info.value.code == E.OUT_OF_RANGE


def test_huge_valid_ids_are_not_found(queue: asyncop.Queue) -> None:
    with pytest.raises(asyncop.NotFoundError):
        queue.retrieve(2**63 - 1)


def test_poll_arguments(queue: asyncop.Queue) -> None:
    queue.submit("x", operation_type=1)
    for host in ("", "h\x00", "x" * 257):
        with pytest.raises(asyncop.InvalidArgumentError):
            queue.poll(host)
    with pytest.raises(TypeError):
        queue.poll(None)  # type: ignore[arg-type]
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.poll("h", max=0)
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.poll("h", max=10**9)
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.poll("h", wait=-1)
    with pytest.raises(TypeError):
        queue.poll("h", wait="1")  # type: ignore[arg-type]
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.poll("h", wait=float("nan"))
    with pytest.raises(TypeError):
        queue.poll("h", operation_types=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        queue.poll("h", operation_types="12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        queue.poll("h", max=None)  # type: ignore[arg-type]
    assert queue.counts()[0].state is asyncop.State.READY  # nothing was claimed


def test_lease_outcome_arguments(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    lease = claim(queue)
    with pytest.raises(asyncop.InvalidArgumentError):
        lease.fail("a\x00b")
    with pytest.raises(asyncop.InvalidArgumentError):
        lease.fail("\udcff")
    with pytest.raises(TypeError):
        lease.fail(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(asyncop.InvalidArgumentError):
        lease.fail("x", error_code=2**31)
    with pytest.raises(TypeError):
        lease.retry(error_code="1")  # type: ignore[arg-type]
    assert not lease.finished and queue.retrieve(op_id).status is asyncop.Status.IN_PROGRESS
    lease.fail("x" * 150_000)  # cut, not refused
    op = queue.retrieve(op_id)
    assert op.status is asyncop.Status.FAILED and op.message is not None and len(op.message) == 100_000
    lease.close()


def test_queue_options_bad_values(db: str) -> None:
    cases: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"durability": "fast"}, asyncop.InvalidArgumentError),
        ({"durability": 7}, asyncop.InvalidArgumentError),
        ({"durability": None}, TypeError),
        ({"lease": 0}, asyncop.InvalidArgumentError),
        ({"lease": -1}, asyncop.InvalidArgumentError),
        ({"lease": "30"}, TypeError),
        ({"busy_timeout": -1}, asyncop.InvalidArgumentError),
        ({"max_attempts": 0}, asyncop.InvalidArgumentError),
        ({"max_attempts": 2.5}, TypeError),
        ({"backoff": (1,)}, TypeError),
        ({"backoff": (-1, 5)}, asyncop.InvalidArgumentError),
        ({"restricted_types": 5}, TypeError),
        ({"restricted_types": "9"}, TypeError),
        ({"restricted_types": [None]}, TypeError),
        ({"restricted_types": [2**40]}, asyncop.InvalidArgumentError),
        ({"allow_delete_any": 1}, TypeError),
    ]
    for kwargs, exc in cases:
        with pytest.raises(exc):
            asyncop.Queue(db, **kwargs)
    assert not os.path.exists(db) or asyncop.Queue(db).close() is None


def test_queue_paths(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        asyncop.Queue(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        asyncop.Queue(b"/tmp/x.db")  # type: ignore[arg-type]
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(str(tmp_path / "a\x00b.db"))
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(str(tmp_path / "\udc80.db"))
    with pytest.raises(asyncop.AsyncopIOError) as info:
        asyncop.Queue(tmp_path / "missing-dir" / "q.db")
    assert isinstance(info.value, OSError) and info.value.code == E.IO
    with asyncop.Queue(tmp_path / "pathlib.db") as q:  # os.PathLike works
        assert q.path == str(tmp_path / "pathlib.db")


def test_corrupt_files_are_refused_and_left_untouched(tmp_path: Path) -> None:
    for i, content in enumerate([b"hello, not a database\n" * 50, os.urandom(8192)]):
        path = tmp_path / f"bad{i}.db"
        path.write_bytes(content)
        with pytest.raises(asyncop.CorruptError) as info:
            asyncop.Queue(path)
        assert info.value.code == E.CORRUPT and info.value.message
        assert path.read_bytes() == content


def test_use_after_close_raises_closed_error_without_calling_c(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    q = asyncop.Queue(db)
    op_id = q.submit("x", operation_type=1)
    q.close()
    assert q.closed
    q.close()  # double close is harmless
    calls: list[Callable[[], Any]] = [
        lambda: q.submit("x", operation_type=1),
        lambda: q.submit_many([asyncop.OperationSpec("x", 1)]),
        lambda: q.retrieve(op_id),
        lambda: q.query(),
        lambda: q.counts(),
        lambda: q.cancel(op_id),
        lambda: q.pause(op_id),
        lambda: q.resume(op_id),
        lambda: q.postpone(op_id, timedelta(hours=1)),
        lambda: q.set_postpone_until(op_id, timedelta(hours=1)),
        lambda: q.delete(op_id),
        lambda: q.set_state(op_id, 3),
        lambda: q.poll("h"),
        lambda: q.wait_for(op_id, 0),
        lambda: q.run_maintenance(),
        lambda: q.now(),
        lambda: q.__enter__(),
    ]
    # A closed object must not reach C at all: make every C call blow up.
    monkeypatch.setattr(asyncop._queue, "lib", None)
    monkeypatch.setattr(asyncop._queue_reads, "lib", None)
    for call in calls:
        with pytest.raises(asyncop.ClosedError) as info:
            call()
        assert isinstance(info.value, ValueError) and info.value.code == E.CLOSED_HANDLE


def test_lease_after_close_and_after_queue_close(db: str) -> None:
    q = asyncop.Queue(db)
    q.submit("x", operation_type=1)
    q.submit("y", operation_type=1)
    a, b = q.poll("h", max=2)
    a.close()
    a.close()
    for call in (a.renew, a.complete, a.fail, a.retry, a.suspend, a.acknowledge_pause, a.acknowledge_cancel):
        with pytest.raises(asyncop.ClosedError):
            call()
    with pytest.raises(asyncop.ClosedError):
        a.__enter__()
    q.close()
    with pytest.raises(asyncop.ClosedError):  # from C: the queue it belongs to is closed
        b.renew()
    with b:  # the release in __exit__ is best effort: no error
        pass
    assert b.closed and a.id == 1 and b.id == 2  # attributes stay readable


def test_objects_cannot_be_copied_or_pickled(queue: asyncop.Queue) -> None:
    queue.submit("x", operation_type=1)
    lease = claim(queue)
    for obj in (queue, lease):
        with pytest.raises(TypeError):
            copy.copy(obj)
        with pytest.raises(TypeError):
            copy.deepcopy(obj)
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    with pytest.raises(TypeError):
        asyncop.Lease()
    lease.close()


def test_exceptions_pickle_and_print(queue: asyncop.Queue) -> None:
    errors: list[asyncop.AsyncopError] = []
    for call in (lambda: queue.retrieve(5), lambda: queue.retrieve(0), lambda: asyncop.Queue("/nonexistent/dir/q.db")):
        try:
            call()
        except asyncop.AsyncopError as e:
            errors.append(e)
    assert [type(e) for e in errors] == [asyncop.NotFoundError, asyncop.InvalidArgumentError, asyncop.AsyncopIOError]
    for e in errors:
        again = pickle.loads(pickle.dumps(e))
        assert (type(again), again.code, again.hresult, again.message) == (type(e), e.code, e.hresult, e.message)
        assert str(e) == e.message and e.message
    assert "5" in str(errors[0])  # KeyError would print repr(); ours prints the message


def test_builtin_families() -> None:
    assert issubclass(asyncop.NotFoundError, KeyError)
    assert issubclass(asyncop.InvalidArgumentError, ValueError)
    assert issubclass(asyncop.ClosedError, ValueError)
    assert issubclass(asyncop.AsyncopIOError, OSError)
    for cls in (
        asyncop.CannotCancelError,
        asyncop.CannotPauseError,
        asyncop.StateChangedMeanwhileError,
        asyncop.InvalidStateChangeToCompleteError,
        asyncop.InvalidStateChangeToReadyError,
        asyncop.InvalidStateChangeToSuspendedError,
        asyncop.CannotDeleteUnlessCompletedError,
    ):
        assert issubclass(cls, asyncop.InvalidStateChangeError)
        assert cls().code == cls().hresult < 0
    for cls in (
        asyncop.LeaseLostError,
        asyncop.BusyError,
        asyncop.CorruptError,
        asyncop.ForkedError,
        asyncop.InternalError,
    ):
        assert issubclass(cls, asyncop.AsyncopError) and cls().hresult == 0
    assert asyncop._errors.error_class(asyncop.ErrorCode.PANIC) is asyncop.InternalError
    assert asyncop._errors.error_class(asyncop.ErrorCode.INVALID_HANDLE) is asyncop.InvalidHandleError
    assert issubclass(asyncop.InvalidHandleError, asyncop.InvalidArgumentError)
    assert asyncop._errors.error_class(-123) is asyncop.InvalidStateChangeError
    assert asyncop._errors.error_class(999) is asyncop.AsyncopError


def test_forged_handles_are_codes_not_crashes() -> None:
    from asyncop import _native

    for forged in (1, 0xDEADBEEF, 2**63 + 7):
        with pytest.raises(asyncop.InvalidArgumentError) as info:
            _native.lib.asyncop_queue_submit(forged, b"x", 1, None, 0, None, _native.TIME_NONE, None, None)
        assert info.value.code in (E.NULL_ARG, E.INVALID_HANDLE)
        assert _native.lib.asyncop_lease_free(forged) == E.INVALID_HANDLE


def test_messages_with_utc_and_other_zones(queue: asyncop.Queue) -> None:
    op_id = queue.submit("x", operation_type=1)
    tz = timezone(timedelta(hours=-7))
    queue.postpone(op_id, datetime.now(tz) + timedelta(hours=1))
    assert queue.retrieve(op_id).postpone_until.tzinfo is timezone.utc  # type: ignore[union-attr]


def test_times_beyond_datetime_range_are_clamped(db: str) -> None:
    far = (2**62) / 1000  # seconds: the library accepts it, datetime cannot hold now + it
    with asyncop.Queue(db, lease=far, backoff=(far, far)) as q:
        assert q.lease == timedelta.max
        op_id = q.submit("x", operation_type=1)
        lease = claim(q)
        assert lease.expires_at == datetime.max.replace(tzinfo=timezone.utc)
        assert lease.retry("later") is asyncop.Status.WAITING
        assert q.retrieve(op_id).postpone_until == datetime.max.replace(tzinfo=timezone.utc)
        lease.close()
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(db, lease=1e300)
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(db, busy_timeout=float("inf"))
