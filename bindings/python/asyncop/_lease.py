"""Lease: the Python face of ``asyncop_lease``, one claimed operation. The
host-side calls that create and batch-complete leases for :class:`Queue` are
in ``_claims.py``."""

from __future__ import annotations

from ctypes import byref, c_int32, c_void_p
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _convert as cv
from ._codes import TIME_NONE, ErrorCode
from ._errors import AsyncopError, ClosedError, ForkedError, LeaseLostError
from ._handle import _Native
from ._lease_fields import read_fields
from ._native import hot, lib, raise_status
from ._types import Outcome, Status, StopReason

if TYPE_CHECKING:
    from ._queue import Queue

__all__ = ["Lease"]


class Lease(_Native):
    """One claimed operation, from :meth:`Queue.poll`.

    The attributes describe the claimed operation and never change. The host
    renews the lease every ``queue.lease / 3`` with :meth:`renew` (which also
    reports a requested pause or cancel) and ends it with exactly one outcome:
    :meth:`complete`, :meth:`fail`, :meth:`retry`, :meth:`suspend`,
    :meth:`acknowledge_pause`, :meth:`acknowledge_cancel` or :meth:`report`.
    Every call is fenced by the lock token: once the lease expired (or the
    operation was claimed again) it raises :class:`LeaseLostError` and changes
    nothing.

    As a context manager, leaving the block without an outcome reports a
    retryable failure, with the exception's text as message (or "lease
    released without an outcome"), then frees the handle. That release is best
    effort: if the lease is already lost or the queue closed, nothing is
    raised, because an unfinished lease expires and is retried anyway.
    """

    _kind = "lease"

    #: The operation's id.
    id: int
    #: The fencing token of this claim.
    lock_token: int
    #: The operation type, to pick the handler.
    operation_type: int
    #: 1 for the first run, retry_count + 1 after retries.
    attempt: int
    name: str
    payload: bytes
    #: The host id given to :meth:`Queue.poll`.
    host_id: str
    dependency_token: str | None
    correlation_id: str | None
    #: The queue it was claimed from (kept alive by the lease).
    queue: Queue
    # The handle as a c_void_p, for the calls without prototypes (see _native.hot).
    _hv: c_void_p
    # expires_at in UTC ms, converted on access.
    _expires_ms: int

    def __init__(self) -> None:
        raise TypeError("leases come from Queue.poll()")

    @classmethod
    def _adopt(cls, queue: Queue, h: int, host_id: str) -> Lease:
        self = cls.__new__(cls)
        self._h = h
        self._hv = hv = c_void_p(h)
        self._finished = False
        self.queue = queue
        self.host_id = host_id
        try:
            read_fields(self, hv)
        except BaseException:
            self._release()
            raise
        return self

    # A lease is freed by close() or when it is garbage-collected, through
    # __del__ rather than the weakref.finalize of _Native: that costs about 2 µs
    # per lease, a tenth of a poll's whole Python layer. (At interpreter exit a
    # lease needs no free: its queue's finalizer closes the queue.)
    _finalizer = None

    def _release(self) -> None:
        if self._h is not None:
            self._h = None
            _FREE(self._hv)  # never raises (no status check); a second free is refused by the library

    # Until _adopt sets it (and for an object whose __init__ refused it): no handle.
    # __del__ reads the attribute, not __dict__, which would build the dict.
    _h: int | None = None

    def __del__(self) -> None:
        if self._h is not None:
            self._h = None
            try:
                _FREE(self._hv)
            except Exception:  # interpreter shutdown may have torn the module down
                pass

    @property
    def expires_at(self) -> datetime:
        """When the lease ended at claim time; renewals push the stored expiry, not this."""
        return cv.to_datetime(self._expires_ms)

    @property
    def finished(self) -> bool:
        """True once an outcome was reported (or the lease was found lost)."""
        return self._finished

    def close(self) -> None:
        """Frees the handle. This does not end the lease: an unfinished lease
        expires and the operation is retried. Closing twice is harmless."""
        if self._h is not None:  # _release, inlined: a worker closes every lease
            self._h = None
            _FREE(self._hv)

    def __enter__(self) -> Lease:
        self._handle()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._finished and self._h is not None:
                message = "lease released without an outcome" if exc is None else _describe(exc)
                try:
                    self.retry(message)
                except (LeaseLostError, ClosedError, ForkedError):
                    pass  # the lease is gone already; expiry retries the operation
                except AsyncopError:
                    if exc is None:
                        raise  # do not hide the block's own exception behind ours
        finally:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._h is None else ("finished" if self._finished else "held")
        return f"<asyncop.Lease id={self.__dict__.get('id')} type={self.__dict__.get('operation_type')} {state}>"

    def _outcome(self, name: str, *args: Any) -> Status:
        h = self._handle()
        out = c_int32()
        if args:
            try:
                getattr(lib, name)(h, *args, byref(out))
            except LeaseLostError:
                self._finished = True
                raise
        else:
            status = _HOT_OUTCOMES[name](c_void_p(h), byref(out))
            if status:
                if status == ErrorCode.LEASE_LOST:
                    self._finished = True
                raise_status(status, name)
        self._finished = True
        return _STATUSES.get(out.value) or Status(out.value)

    def renew(self) -> Status:
        """Heartbeat: extends the lease by the lease length from now and returns
        the current status: IN_PROGRESS, or PAUSING / CANCELING when a user asked
        the host to stop at its next safe point (then call
        :meth:`acknowledge_pause` / :meth:`acknowledge_cancel`).

        Raises:
            LeaseLostError: the lease expired or the operation was claimed again.
        """
        h = self._handle()
        out = c_int32()
        lib.asyncop_lease_renew(h, byref(out))
        return Status(out.value)

    def stop_requested(self) -> StopReason:
        """Whether the handler should stop, without blocking: StopReason.NONE,
        PAUSE (a user paused or postponed it: 2/21), CANCEL (2/22) or
        LEASE_LOST. The first call (of this or :meth:`wait_stop`) starts
        watching the lease: the queue learns a request through its change
        signal, within about a millisecond in one process and a few across
        processes, with no renewal. The reason is set once; an outcome ends
        the watch."""
        h = self._handle()
        out = c_int32()
        lib.asyncop_lease_stop_requested(h, byref(out))
        return StopReason(out.value)

    def wait_stop(self, timeout: cv.Duration) -> StopReason:
        """Blocks (without the GIL) until a stop is requested (see
        :meth:`stop_requested`), an outcome is reported through this lease,
        the lease is closed, its queue is closed, or ``timeout`` seconds (or a
        timedelta) pass; returns the reason, StopReason.NONE if none."""
        h = self._handle()
        ms = cv.duration_ms(timeout, "timeout")
        out = c_int32()
        lib.asyncop_lease_wait_stop(h, ms, byref(out))
        return StopReason(out.value)

    def progress(self, percent: int, text: str | None = None, *, durable: bool = False) -> Status:
        """Reports the attempt's progress: ``percent`` 0..100 and a short
        ``text`` (at most ``PROGRESS_TEXT_MAX_CHARS`` characters), which
        :meth:`Queue.retrieve` returns until the next claim resets them.
        Returns the status to act on, like :meth:`renew` (it does not renew).

        Unless ``durable``, the write is not synced on its own (the next
        durable commit covers it: a power loss may lose the latest progress,
        nothing else) and wakes no waiting poll.

        Raises:
            InvalidArgumentError: percent outside 0..100, or the text too long.
            LeaseLostError: the lease expired or the operation was claimed again.
        """
        h = self._handle()
        pct = cv.i32(percent, "percent")
        txt = cv.opt_text(text, "text")
        out = c_int32()
        lib.asyncop_lease_progress(h, pct, txt, cv.flag(durable, "durable"), byref(out))
        return Status(out.value)

    def complete(self, output: bytes | bytearray | memoryview | None = None) -> Status:
        """The work finished: Completed/Succeeded (3/30). Returns the new status.

        ``output`` (bytes, at most ``OUTPUT_MAX_BYTES``) is stored as the
        operation's :attr:`Operation.output`; for a recurring series each run's
        output replaces the last run's (a run without output clears it).
        Too long an output raises :class:`InvalidArgumentError` and the lease
        is still held."""
        if output is None:
            return self._outcome("asyncop_lease_complete")
        self._handle()
        data = cv.data(output, "output")
        return self._outcome("asyncop_lease_complete_output", data, len(data))

    def fail(self, message: str | None = None, *, error_code: int = 0, detail: str | None = None) -> Status:
        """The work failed for good: Completed/Failed (3/31), storing
        ``error_code`` (0 for none) and ``message`` (cut at 100,000 characters).
        ``detail`` (e.g. a traceback, cut likewise) is kept with the attempt
        in :meth:`Queue.attempts`."""
        self._handle()
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        if detail is not None:
            return self._with_detail(Outcome.FAILED, code, msg, TIME_NONE, detail)
        return self._outcome("asyncop_lease_fail", code, msg)

    def retry(
        self,
        message: str | None = None,
        *,
        error_code: int = 0,
        at: datetime | timedelta | None = None,
        detail: str | None = None,
    ) -> Status:
        """A retryable failure: Suspended (1/10) until the back-off time (or
        ``at``, a datetime or a delay, never earlier than now), or Completed/Failed
        when the retry budget is spent. Returns the new status. ``detail``
        (e.g. a traceback) is kept with the attempt in :meth:`Queue.attempts`."""
        self._handle()
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        retry_at = TIME_NONE if at is None else cv.when_ms(at, "at", self.queue._now_ms)
        if detail is not None:
            return self._with_detail(Outcome.RETRY, code, msg, retry_at, detail)
        return self._outcome("asyncop_lease_retry", code, msg, retry_at)

    def _with_detail(self, outcome: Outcome, code: int, msg: bytes | None, at: int, detail: str) -> Status:
        text = cv.text(detail, "detail")
        return self._outcome("asyncop_lease_report_detail", int(outcome), code, msg, None, at, text)

    def suspend(self, message: str | None = None, *, error_code: int = 0) -> Status:
        """A suspend-class failure: Suspended (1/10) with no time set, until a
        user resumes it. Returns the new status."""
        self._handle()
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        return self._outcome("asyncop_lease_suspend", code, msg)

    def acknowledge_pause(self) -> Status:
        """The host stopped at a safe point after :meth:`renew` reported
        PAUSING: Suspended (paused, or postponed until the requested time)."""
        return self._outcome("asyncop_lease_acknowledge_pause")

    def acknowledge_cancel(self) -> Status:
        """The host stopped at a safe point after :meth:`renew` reported
        CANCELING: Completed/Canceled (3/32)."""
        return self._outcome("asyncop_lease_acknowledge_cancel")

    def report(
        self,
        outcome: Outcome | int,
        *,
        error_code: int = 0,
        message: str | None = None,
        friendly_message: str | None = None,
        retry_at: datetime | timedelta | None = None,
        detail: str | None = None,
    ) -> Status:
        """The general outcome report (Dynamics' plug-in OperationStatus), the
        only one that stores a ``friendly_message`` for end users. The result
        depends on the status at the time: a Pausing or Canceling request is
        honoured. Returns the new status. ``detail`` is kept with a Retry or
        Failed attempt in :meth:`Queue.attempts`."""
        self._handle()
        oc = cv.enum_code(outcome, Outcome, "outcome")
        code = cv.i32(error_code, "error_code")
        msg = cv.opt_text(message, "message")
        friendly = cv.opt_text(friendly_message, "friendly_message")
        at = TIME_NONE if retry_at is None else cv.when_ms(retry_at, "retry_at", self.queue._now_ms)
        if detail is not None:
            text = cv.text(detail, "detail")
            return self._outcome("asyncop_lease_report_detail", oc, code, msg, friendly, at, text)
        return self._outcome("asyncop_lease_report", oc, code, msg, friendly, at)


# The free of every lease, without its prototype (see _native.hot): it takes the
# lease's own c_void_p (``_hv``), made once when the lease was adopted.
_FREE = hot("asyncop_lease_free")
_HOT_OUTCOMES = {
    name: hot(name) for name in ("asyncop_lease_complete", "asyncop_lease_acknowledge_pause", "asyncop_lease_acknowledge_cancel")
}
_STATUSES = {s.value: s for s in Status}


def _describe(exc: BaseException) -> str:
    """An exception as a storable message: "Type: text", NULs and unencodable
    characters escaped (reporting a failure must not fail on its own text)."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not stop the release
        text = "<unprintable>"
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return message.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")
