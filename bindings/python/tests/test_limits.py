"""The limits shared by every language: poll ``max`` (``ASYNCOP_POLL_MAX``), the
queue-wide payload limit (``max_payload_bytes``, stored in the file), the
``file_mode`` argument check, and ``check_integrity`` on healthy and damaged files.
The package's constants are checked against ``include/asyncop.h``."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pytest
from _support import HEADER

import asyncop
from asyncop import _native, _queue

KIB = 1024


def header_define(name: str) -> int:
    m = re.search(rf"^#define {name} (.+)$", HEADER.read_text(), re.M)
    assert m, f"{name} is not in {HEADER}"
    value = eval(m.group(1), {"__builtins__": {}})  # integer literals and * only
    assert isinstance(value, int)
    return value


@pytest.mark.skipif(not HEADER.exists(), reason="include/asyncop.h is not beside this checkout")
def test_constants_equal_the_header() -> None:
    assert asyncop.POLL_MAX == _queue.MAX_POLL == header_define("ASYNCOP_POLL_MAX") == 65536
    assert asyncop.PAYLOAD_DEFAULT_MAX == header_define("ASYNCOP_PAYLOAD_DEFAULT_MAX") == 16 * 1024 * 1024
    assert asyncop.PAYLOAD_CEILING == header_define("ASYNCOP_PAYLOAD_CEILING") == 512 * 1024 * 1024
    assert asyncop.FILE_MODE_DEFAULT == header_define("ASYNCOP_FILE_MODE_DEFAULT") == 0o600
    assert _native.FILE_MODE_ALLOWED == header_define("ASYNCOP_FILE_MODE_ALLOWED") == 0o660


def test_poll_max_range(queue: asyncop.Queue) -> None:
    for bad in (0, asyncop.POLL_MAX + 1, 10**9):
        with pytest.raises(asyncop.InvalidArgumentError) as e:
            queue.poll("h", max=bad)
        assert e.value.code == asyncop.ErrorCode.INVALID_ARG
        assert isinstance(e.value, ValueError)
    for beyond_int64 in (2**63, 2**70):
        with pytest.raises(asyncop.InvalidArgumentError):
            queue.poll("h", max=beyond_int64)
    assert queue.poll("h", max=asyncop.POLL_MAX) == []
    op_id = queue.submit("x", operation_type=1)
    leases = queue.poll("h", max=asyncop.POLL_MAX)
    assert [lease.id for lease in leases] == [op_id]
    leases[0].complete()


def test_the_library_refuses_poll_max_above_the_header_limit(queue: asyncop.Queue) -> None:
    # Straight to C: the check does not depend on the wrapper's.
    slots = (ctypes.c_void_p * 1)(0x5A5A)
    count = ctypes.c_size_t(77)
    with pytest.raises(asyncop.InvalidArgumentError) as e:
        _native.lib.asyncop_queue_poll(
            queue._h, b"h", None, 0, 0, slots, asyncop.POLL_MAX + 1, ctypes.byref(count)
        )
    assert e.value.code == asyncop.ErrorCode.INVALID_ARG
    assert slots[0] == 0x5A5A and count.value == 77


def test_payload_at_the_limit_is_accepted_one_byte_over_is_refused(db: str) -> None:
    with asyncop.Queue(db, durability="normal", max_payload_bytes=KIB) as q:
        op_id = q.submit("ok", b"\xa5" * KIB, operation_type=1)
        assert len(q.retrieve(op_id).payload) == KIB
        with pytest.raises(asyncop.InvalidArgumentError) as e:
            q.submit("big", b"\xa5" * (KIB + 1), operation_type=1)
        assert e.value.code == asyncop.ErrorCode.INVALID_ARG
        assert isinstance(e.value, ValueError)
        assert "1025" in str(e.value) and "1024" in str(e.value)
        assert len(q.query()) == 1
        with pytest.raises(asyncop.InvalidArgumentError) as e:
            q.submit_many(
                [
                    asyncop.OperationSpec("a", 1, b"x"),
                    asyncop.OperationSpec("b", 1, b"x" * (KIB + 1)),
                ]
            )
        assert "spec 1" in str(e.value)
        assert len(q.query()) == 1


def test_payload_limit_is_stored_in_the_file(db: str) -> None:
    with asyncop.Queue(db, durability="normal", max_payload_bytes=2 * KIB):
        pass
    with asyncop.Queue(db, durability="normal") as q:
        with pytest.raises(asyncop.InvalidArgumentError):
            q.submit("big", b"x" * (2 * KIB + 1), operation_type=1)
        q.submit("ok", b"x" * (2 * KIB), operation_type=1)
        assert len(q.query()) == 1


def test_the_default_payload_limit(db: str) -> None:
    with asyncop.Queue(db, durability="normal") as q:
        with pytest.raises(asyncop.InvalidArgumentError) as e:
            q.submit("big", bytes(asyncop.PAYLOAD_DEFAULT_MAX + 1), operation_type=1)
        assert str(asyncop.PAYLOAD_DEFAULT_MAX) in str(e.value)
        assert q.query() == []


def test_payload_limits_out_of_range_are_refused(db: str) -> None:
    for bad in (0, asyncop.PAYLOAD_CEILING + 1, 2**64 - 1, 2**64, -1):
        with pytest.raises(asyncop.InvalidArgumentError):
            asyncop.Queue(db, max_payload_bytes=bad)
    with pytest.raises(TypeError):
        asyncop.Queue(db, max_payload_bytes="1")  # type: ignore[arg-type]
    assert not Path(db).exists()
    with asyncop.Queue(db, durability="normal", max_payload_bytes=asyncop.PAYLOAD_CEILING):
        pass


def test_file_mode_argument(tmp_path: Path) -> None:
    for bad in (0, 0o400, 0o644, 0o666, 0o700, 0o4600, -1, 2**32):
        with pytest.raises(asyncop.InvalidArgumentError):
            asyncop.Queue(str(tmp_path / "refused.db"), file_mode=bad)
    assert not (tmp_path / "refused.db").exists()
    with pytest.raises(TypeError):
        asyncop.Queue(str(tmp_path / "refused.db"), file_mode="0600")  # type: ignore[arg-type]
    for i, good in enumerate((0o600, 0o640, 0o660)):
        with asyncop.Queue(str(tmp_path / f"ok{i}.db"), durability="normal", file_mode=good) as q:
            q.submit("x", operation_type=1)


def _null_the_state_of(path: Path, name: str) -> None:
    """Makes the stored state of the Ready row named ``name`` NULL: serial type 8
    (the constant 0, no body bytes) becomes 0 (NULL) in its record header, which
    ends where the body begins with the name."""
    data = bytearray(path.read_bytes())
    at = data.index(name.encode())
    for p in range(at - 60, at):
        if data[p] == at - p and data[p + 1] == 0 and data[p + 2] == 13 + 2 * len(name):
            assert data[p + 4] == 8, "state 0 is stored as serial type 8"
            data[p + 4] = 0
            path.write_bytes(bytes(data))
            return
    raise AssertionError("no record header before the name")


def test_check_integrity_healthy_and_damaged(db: str) -> None:
    with asyncop.Queue(db, durability="normal") as q:
        first = q.submit("row-marker-1", b"p" * 40, operation_type=1)
        second = q.submit("row-marker-2", b"p" * 40, operation_type=1)
        assert q.check_integrity() is None
    assert not Path(db + "-wal").exists(), "closing the last handle checkpoints the WAL"
    _null_the_state_of(Path(db), "row-marker-2")
    with asyncop.Queue(db, durability="normal") as q:
        assert q.retrieve(first).name == "row-marker-1"
        with pytest.raises(asyncop.CorruptError) as e:
            q.retrieve(second)
        assert e.value.code == asyncop.ErrorCode.CORRUPT
        assert "damaged" in str(e.value)
        with pytest.raises(asyncop.CorruptError):
            q.query()
        with pytest.raises(asyncop.CorruptError) as e:
            q.check_integrity()
        assert "integrity check failed" in str(e.value)
    with pytest.raises(asyncop.ClosedError):
        q.check_integrity()
