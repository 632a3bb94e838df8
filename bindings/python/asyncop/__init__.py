"""asyncop: a durable queue of asynchronous operations (Dynamics 365 "system
jobs") in one SQLite file, shared by threads and processes.

>>> import asyncop
>>> with asyncop.Queue("jobs.db") as q:                      # doctest: +SKIP
...     op_id = q.submit("send mail", b"to: a@example.com", operation_type=100)
...     for lease in q.poll("host-1"):
...         with lease:
...             lease.complete()
...     q.retrieve(op_id).status
<Status.SUCCEEDED: 30>

This package wraps the C ABI (``include/asyncop.h``) with ctypes. The native
library is found through ``$ASYNCOP_LIBRARY``, else ``libasyncop.so`` inside
this package (``pip install`` builds it), else the system loader path.

Conventions: wrong Python types raise TypeError; values the library refuses
raise :class:`InvalidArgumentError` (a ValueError); times are timezone-aware
UTC datetimes, durations are seconds or timedeltas.
"""

from __future__ import annotations

from ._errors import (
    TYPE_NOT_RECOGNIZED,
    AsyncopError,
    AsyncopIOError,
    BusyError,
    CannotCancelError,
    CannotDeleteUnlessCompletedError,
    CannotPauseError,
    CannotUpdateNonrecurringError,
    CannotUpdateRecurringError,
    ClosedError,
    CorruptError,
    ErrorCode,
    ForkedError,
    InternalError,
    InvalidArgumentError,
    InvalidHandleError,
    InvalidStateChangeError,
    InvalidStateChangeToCompleteError,
    InvalidStateChangeToReadyError,
    InvalidStateChangeToSuspendedError,
    InvalidTransitionError,
    LeaseLostError,
    NotFoundError,
    StateChangedMeanwhileError,
)
from ._options import RETENTION_NONE
from ._codes import ATTEMPTS_KEPT, OUTPUT_MAX_BYTES, PROGRESS_TEXT_MAX_CHARS
from ._native import ABI_VERSION, FILE_MODE_DEFAULT, PAYLOAD_CEILING, PAYLOAD_DEFAULT_MAX, POLL_MAX, library_path
from ._native import lib as _lib
from ._lease import Lease
from ._queue import Queue
from ._queue_events import Event
from ._types import (
    Attempt,
    AttemptEnding,
    Count,
    Durability,
    Maintenance,
    Operation,
    OperationSpec,
    Outcome,
    State,
    Status,
    StopReason,
)
from ._worker import DEFAULT_PREFETCH, Handler, Job, PermanentError, RetryableError, StopRequested, SuspendError, Worker
from ._aio import WAIT_SLICE, AsyncQueue
from ._aio_worker import AsyncHandler, AsyncWorker
from ._tasks import JSONSerializer, PickleSerializer, Serializer, Task, TaskRegistry, TaskSubmitter

__version__ = "0.1.0"


def library_version() -> str:
    """The native library's version, e.g. "0.1.0" (``asyncop_version()``)."""
    version: bytes = _lib.asyncop_version()
    return version.decode("ascii")


def status_name(code: int) -> str:
    """The C name of a status code, e.g. "ASYNCOP_ERR_NOT_FOUND", or "unknown"."""
    from ._convert import i32

    name: bytes = _lib.asyncop_status_name(i32(code, "code"))
    return name.decode("ascii")


__all__ = [
    "ABI_VERSION",
    "ATTEMPTS_KEPT",
    "DEFAULT_PREFETCH",
    "AsyncHandler",
    "AsyncQueue",
    "AsyncWorker",
    "Attempt",
    "AttemptEnding",
    "AsyncopError",
    "AsyncopIOError",
    "BusyError",
    "CannotCancelError",
    "CannotDeleteUnlessCompletedError",
    "CannotPauseError",
    "CannotUpdateNonrecurringError",
    "CannotUpdateRecurringError",
    "ClosedError",
    "CorruptError",
    "Count",
    "Event",
    "Durability",
    "ErrorCode",
    "FILE_MODE_DEFAULT",
    "ForkedError",
    "Handler",
    "InternalError",
    "InvalidArgumentError",
    "InvalidHandleError",
    "InvalidStateChangeError",
    "InvalidStateChangeToCompleteError",
    "InvalidStateChangeToReadyError",
    "InvalidStateChangeToSuspendedError",
    "InvalidTransitionError",
    "JSONSerializer",
    "Job",
    "Lease",
    "LeaseLostError",
    "Maintenance",
    "NotFoundError",
    "OUTPUT_MAX_BYTES",
    "Operation",
    "OperationSpec",
    "Outcome",
    "PAYLOAD_CEILING",
    "PAYLOAD_DEFAULT_MAX",
    "POLL_MAX",
    "PROGRESS_TEXT_MAX_CHARS",
    "PermanentError",
    "PickleSerializer",
    "Queue",
    "RETENTION_NONE",
    "RetryableError",
    "Serializer",
    "State",
    "StateChangedMeanwhileError",
    "Status",
    "StopReason",
    "StopRequested",
    "SuspendError",
    "TYPE_NOT_RECOGNIZED",
    "Task",
    "TaskRegistry",
    "TaskSubmitter",
    "WAIT_SLICE",
    "Worker",
    "library_path",
    "library_version",
    "status_name",
]
