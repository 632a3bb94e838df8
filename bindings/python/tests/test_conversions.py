"""The conversion rules the Python and C# wrappers share (README "Conversion rules";
the C# side is Tests/ConversionTests.cs): durations round up to whole milliseconds
and a negative one is refused before any C call; absolute times must say their zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import asyncop
from asyncop import _convert as cv


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (timedelta(microseconds=400), 1),
        (timedelta(milliseconds=1), 1),
        (timedelta(microseconds=1200), 2),
        (timedelta(0), 0),
        (0.0004, 1),
        (0.001, 1),
        (0.0012, 2),
        (2, 2000),
    ],
)
def test_durations_round_up_to_whole_milliseconds(value: object, ms: int) -> None:
    assert cv.duration_ms(value, "d") == ms


@pytest.mark.parametrize("value", [timedelta(microseconds=-400), timedelta(seconds=-1), -0.0004, -1])
def test_negative_durations_are_refused(value: object) -> None:
    with pytest.raises(asyncop.InvalidArgumentError) as info:
        cv.duration_ms(value, "wait")
    assert "negative" in str(info.value) and info.value.code == asyncop.ErrorCode.INVALID_ARG


def test_a_sub_millisecond_lease_is_one_millisecond(db: str) -> None:
    with asyncop.Queue(db, lease=timedelta(microseconds=400)) as q:
        assert q.lease == timedelta(milliseconds=1)


def test_negative_durations_never_reach_the_library(queue: asyncop.Queue, db: str) -> None:
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.poll("h", wait=timedelta(microseconds=-400))  # would round to 0 ms ("do not wait")
    with pytest.raises(asyncop.InvalidArgumentError):
        queue.wait_for(1, -0.0004)
    with pytest.raises(asyncop.InvalidArgumentError):
        asyncop.Queue(db + "-2", lease=-1)


def test_absolute_times_must_say_their_zone(queue: asyncop.Queue) -> None:
    op = queue.submit("x", operation_type=1)
    with pytest.raises(asyncop.InvalidArgumentError) as info:
        queue.postpone(op, datetime(2100, 1, 1))
    assert "naive" in str(info.value)
    queue.postpone(op, datetime(2100, 1, 1, tzinfo=timezone.utc))
    assert queue.retrieve(op).postpone_until == datetime(2100, 1, 1, tzinfo=timezone.utc)
    # Floored to the millisecond, before and after the epoch (C# floors too).
    assert cv.datetime_ms(datetime(1970, 1, 1, 0, 0, 0, 1500, tzinfo=timezone.utc), "t") == 1
    assert cv.datetime_ms(datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=timezone.utc), "t") == -1
