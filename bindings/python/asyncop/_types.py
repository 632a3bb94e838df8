"""Value types of the public API: codes as IntEnums, immutable records.

The IntEnums (State, Status, Outcome, StopReason, Durability) are generated from
``include/asyncop.h`` into ``_codes.py`` by ``scripts/gen-bindings``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import NamedTuple

from ._codes import ENDING_EXPIRED, ENDING_FAILED, ENDING_RETRY, Durability, Outcome, State, Status, StopReason

__all__ = [
    "State",
    "Status",
    "Outcome",
    "StopReason",
    "Durability",
    "Operation",
    "OperationSpec",
    "Count",
    "Maintenance",
    "AttemptEnding",
    "Attempt",
]


@dataclass(frozen=True, slots=True)
class Operation:
    """An immutable snapshot of one operation (``Queue.retrieve``, ``query``, ``wait_for``).

    It does not change when the stored operation does; retrieve it again for
    fresh values. Times are timezone-aware UTC datetimes; absent values are None.
    """

    #: > 0, strictly increasing, never reused; the FIFO key.
    id: int
    #: Not unique; may be empty.
    name: str
    #: > 0; selects the handler.
    operation_type: int
    state: State
    status: Status
    #: The opaque payload (``data`` in the C ABI).
    payload: bytes
    #: Operations with the same token run one at a time, in creation order.
    dependency_token: str | None
    #: Earliest time it may become Ready.
    postpone_until: datetime | None
    #: The host holding it; present exactly while Locked.
    host_id: str | None
    #: When the current lease ends; present exactly while Locked.
    lease_expires_at: datetime | None
    #: Fencing token: 0 before the first claim, + 1 on every claim.
    lock_token: int
    #: Attempts that ended in Retry or in a lease expiry.
    retry_count: int
    #: Code of the last failure: an HRESULT (negative) or an asyncop status code.
    error_code: int | None
    #: Technical detail of the last outcome.
    message: str | None
    #: Text for end users from the last outcome.
    friendly_message: str | None
    created_on: datetime
    #: Time of the last change (lease renewals do not count).
    modified_on: datetime
    #: Start of the latest attempt.
    started_on: datetime | None
    #: When it entered Completed.
    completed_on: datetime | None
    #: Length of the latest attempt, from claim until it left Locked.
    execution_time_span: timedelta | None
    correlation_id: str | None
    #: The running (or last) attempt's progress, 0..100, as its host last reported it; reset by a claim.
    progress: int | None = None
    #: The running (or last) attempt's short progress text; reset like ``progress``.
    progress_text: str | None = None
    #: What the last completed run stored (a handler's return value); None if nothing.
    output: bytes | None = None
    #: The recurrence pattern of a series (e.g. ``"FREQ=DAILY;"``); None for one-shot.
    recurrence_pattern: str | None = None
    #: The first occurrence of a series, from which its occurrences are counted.
    recurrence_start: datetime | None = None

    @property
    def is_completed(self) -> bool:
        """True in state Completed (Succeeded, Failed or Canceled)."""
        return self.state == State.COMPLETED


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """One operation for :meth:`Queue.submit_many` (a dict with these keys works too).

    ``postpone_until`` is a timezone-aware datetime or a timedelta from now; a
    future time creates the operation Suspended until then. ``recurrence`` (a
    pattern such as ``"FREQ=DAILY;"``) makes it a recurring series that starts
    at ``recurrence_start`` (a datetime or a timedelta from now; default now).
    """

    name: str
    operation_type: int
    payload: bytes = b""
    dependency_token: str | None = None
    postpone_until: datetime | timedelta | None = None
    correlation_id: str | None = None
    recurrence: str | None = None
    recurrence_start: datetime | timedelta | None = None


class Count(NamedTuple):
    """One row of :meth:`Queue.counts`: how many operations are in (state, status, operation_type)."""

    state: State
    status: Status
    operation_type: int
    count: int  # type: ignore[assignment]  # shadows tuple.count(), as the C ABI names it
    #: Whether the type is held (:meth:`Queue.hold_type`): claims skip it.
    held: bool = False


class Maintenance(NamedTuple):
    """What one :meth:`Queue.run_maintenance` pass moved."""

    #: Expired leases returned to Ready/Suspended (or ended as Canceled).
    recovered: int
    #: Expired leases that spent the retry budget and ended as Failed.
    poisoned: int
    #: Suspended operations whose postpone time was due, now Ready.
    promoted: int


class AttemptEnding(IntEnum):
    """How a kept attempt ended (``ASYNCOP_ENDING_*``)."""

    #: The host reported a retryable failure (a retry followed unless the budget was spent).
    RETRY = ENDING_RETRY
    #: The host reported a permanent failure.
    FAILED = ENDING_FAILED
    #: The lease expired before the host reported.
    EXPIRED = ENDING_EXPIRED


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt that ended in an error, from :meth:`Queue.attempts`: a
    Retry or Failed report, or a lease expiry. A later success does not erase
    it; the newest ``ATTEMPTS_KEPT`` (20) are kept per operation."""

    operation_id: int
    #: The lock token of the attempt's claim (one per attempt).
    lock_token: int
    ending: AttemptEnding
    #: When it was claimed.
    started_on: datetime | None
    #: When it ended (the report, or the recovery of the expired lease).
    ended_on: datetime
    host_id: str | None
    #: The reported error code (``ErrorCode.LEASE_LOST`` for an expiry).
    error_code: int | None
    message: str | None
    #: The reported detail, e.g. the handler's traceback.
    detail: str | None
