"""What a :class:`Worker` hands its handlers: the :class:`Job` and the exceptions
a handler raises to choose its outcome (StopRequested, RetryableError,
PermanentError, SuspendError). The worker itself lives in ``_worker.py``."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from ._errors import LeaseLostError
from ._lease import Lease
from ._queue import Queue
from ._types import Status

__all__ = ["Job", "Handler", "StopRequested", "RetryableError", "PermanentError", "SuspendError"]


class StopRequested(Exception):
    """Raised by :meth:`Job.checkpoint` when the handler must stop at this safe
    point (a user paused or canceled the operation, its lease was lost, or the
    worker is shutting down). Let it propagate: the worker acknowledges the
    pause or cancel, or releases the operation for a retry."""


class RetryableError(Exception):
    """Raise from a handler for a retryable failure: the operation waits for
    the back-off (or ``retry_at``) and runs again while the retry budget lasts.
    Any exception that is not a PermanentError or SuspendError counts as
    retryable too; this class only adds ``error_code`` and ``retry_at``."""

    def __init__(self, message: str = "", *, error_code: int = 0, retry_at: datetime | timedelta | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.retry_at = retry_at


class PermanentError(Exception):
    """Raise from a handler when retrying cannot help: the operation ends as
    Completed/Failed (3/31) with this message and ``error_code``."""

    def __init__(self, message: str = "", *, error_code: int = 0) -> None:
        super().__init__(message)
        self.error_code = error_code


class SuspendError(Exception):
    """Raise from a handler for a suspend-class failure: the operation becomes
    Suspended (1/10) without a time, until a user resumes it."""

    def __init__(self, message: str = "", *, error_code: int = 0) -> None:
        super().__init__(message)
        self.error_code = error_code


class Job:
    """What a handler receives: the claimed operation and a way to learn that it
    should stop.

    :attr:`stop_requested` is set as soon as a user pauses, postpones or
    cancels the operation, or its lease is lost (the library's stop signal,
    through the queue's change signal: about a millisecond in one process, a
    few across processes), and when the worker shuts down after its stop
    timeout; a renewal that reports a request sets it too. A handler that can
    stop part-way calls :meth:`checkpoint` at its safe points (or checks
    :meth:`should_stop` and raises :class:`StopRequested`). A handler that
    returns normally has succeeded, even if a stop was requested meanwhile.
    """

    def __init__(self, lease: Lease, renew_every: float) -> None:
        #: The lease; the worker reports its outcome, the handler should not.
        self.lease: Lease = lease
        #: Set when the handler should stop at its next safe point.
        self.stop_requested: threading.Event = threading.Event()
        #: Why: Status.PAUSING, Status.CANCELING, "lease lost" or "shutdown"; None while not asked.
        self.stop_reason: Status | str | None = None
        self._next_renew = time.monotonic() + renew_every
        #: Claimed with others in one batch and not first: it waited its turn,
        #: so its stop signal is checked before it starts.
        self._prefetched = False

    @property
    def id(self) -> int:
        """The operation id."""
        return self.lease.id

    @property
    def name(self) -> str:
        """The operation's name."""
        return self.lease.name

    @property
    def payload(self) -> bytes:
        """The operation's payload."""
        return self.lease.payload

    @property
    def operation_type(self) -> int:
        """The operation type."""
        return self.lease.operation_type

    @property
    def attempt(self) -> int:
        """1 for the first run, more after retries."""
        return self.lease.attempt

    @property
    def dependency_token(self) -> str | None:
        """The operation's dependency token, if any."""
        return self.lease.dependency_token

    @property
    def correlation_id(self) -> str | None:
        """The operation's correlation id, if any."""
        return self.lease.correlation_id

    @property
    def queue(self) -> Queue:
        """The queue the operation was claimed from."""
        return self.lease.queue

    def should_stop(self) -> bool:
        """True once the handler should stop at its next safe point."""
        return self.stop_requested.is_set()

    def checkpoint(self) -> None:
        """A safe point: raises :class:`StopRequested` if the handler should stop."""
        if self.stop_requested.is_set():
            raise StopRequested(f"stop requested: {self.stop_reason}")

    def sleep(self, seconds: float) -> bool:
        """Sleeps up to ``seconds``, waking early when a stop is requested;
        returns True if one was."""
        return self.stop_requested.wait(seconds)

    def progress(self, percent: int, text: str | None = None, *, durable: bool = False) -> Status | None:
        """Reports progress (``percent`` 0..100, an optional short ``text``) for
        :meth:`Queue.retrieve` to show; see :meth:`Lease.progress`. Cheap: not
        synced on its own unless ``durable``. A pause or cancel request it
        learns of sets :attr:`stop_requested`, as a renewal would; a lost lease
        sets it too and returns None instead of raising.

        Raises:
            InvalidArgumentError: percent outside 0..100, or the text too long.
        """
        try:
            status = self.lease.progress(percent, text, durable=durable)
        except LeaseLostError:
            self._request_stop("lease lost")
            return None
        if status in (Status.PAUSING, Status.CANCELING):
            self._request_stop(status)
        return status

    def _request_stop(self, reason: Status | str) -> None:
        if self.stop_reason is None or reason == Status.CANCELING:
            self.stop_reason = reason
        self.stop_requested.set()

    def __repr__(self) -> str:
        return f"<asyncop.Job id={self.id} type={self.operation_type} attempt={self.attempt}>"


#: A handler: called with the Job; its return value is stored as the operation's
#: output (bytes as is, str as UTF-8, None stores nothing, anything else as JSON).
Handler = Callable[[Job], Any]
