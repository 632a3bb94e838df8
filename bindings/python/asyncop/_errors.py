"""Exceptions raised by asyncop, one class per family of ``asyncop_status`` codes.

Every exception derives from :class:`AsyncopError`. Where a builtin exception
means the same thing, the class also derives from it, so generic code keeps
working: a missing operation is a :class:`KeyError`, a bad argument or a
closed object a :class:`ValueError`, an unusable file an :class:`OSError`.

Refusals inherited from Dynamics 365 carry their HRESULT (a negative 32-bit
number) both as ``.code`` and as ``.hresult``; asyncop's own codes are small
positive numbers with ``.hresult == 0``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AsyncopError",
    "InvalidArgumentError",
    "ClosedError",
    "NotFoundError",
    "LeaseLostError",
    "BusyError",
    "CorruptError",
    "InternalError",
    "ForkedError",
    "AsyncopIOError",
    "InvalidStateChangeError",
    "InvalidTransitionError",
    "StateChangedMeanwhileError",
    "InvalidStateChangeToCompleteError",
    "InvalidStateChangeToReadyError",
    "InvalidStateChangeToSuspendedError",
    "CannotUpdateNonrecurringError",
    "CannotUpdateRecurringError",
    "CannotDeleteUnlessCompletedError",
    "CannotCancelError",
    "CannotPauseError",
    "ErrorCode",
    "TYPE_NOT_RECOGNIZED",
]


class ErrorCode:
    """The ``asyncop_status`` codes of the C ABI (``include/asyncop.h``), by C name without prefix."""

    OK: Final = 0
    INVALID_ARG: Final = 1
    NULL_ARG: Final = 2
    UTF8: Final = 3
    OUT_OF_RANGE: Final = 4
    BUFFER_TOO_SMALL: Final = 5
    INVALID_HANDLE: Final = 6
    CLOSED_HANDLE: Final = 7
    NOT_FOUND: Final = 8
    LEASE_LOST: Final = 9
    BUSY: Final = 10
    CORRUPT: Final = 11
    INTERNAL: Final = 12
    PANIC: Final = 13
    FORKED: Final = 14
    CALLBACK: Final = 15
    IO: Final = 16
    INVALID_STATE_CHANGE: Final = -2147204766  # 0x80044162
    INVALID_STATE_CHANGE_UNEXPECTED: Final = -2147204765  # 0x80044163
    INVALID_STATE_CHANGE_TO_COMPLETE: Final = -2147204763  # 0x80044165
    INVALID_STATE_CHANGE_TO_READY: Final = -2147204762  # 0x80044166
    INVALID_STATE_CHANGE_TO_SUSPENDED: Final = -2147204761  # 0x80044167
    CANNOT_UPDATE_NONRECURRING: Final = -2147204760  # 0x80044168
    CANNOT_UPDATE_RECURRING: Final = -2147204759  # 0x80044169
    CANNOT_DELETE_UNLESS_COMPLETED: Final = -2147204758  # 0x8004416a
    TYPE_NOT_RECOGNIZED: Final = -2147204349  # 0x80044303
    CANNOT_CANCEL: Final = -2147201280  # 0x80044F00
    CANNOT_PAUSE: Final = -2147201279  # 0x80044F01


#: 0x80044303 AsyncOperationTypeIsNotRecognized as a signed 32-bit number: the
#: ``error_code`` a host stores when it has no handler for an operation's type.
TYPE_NOT_RECOGNIZED: Final = ErrorCode.TYPE_NOT_RECOGNIZED


class AsyncopError(Exception):
    """Base class of every asyncop error.

    Attributes:
        code: the ``asyncop_status`` code (``ErrorCode``); a Dynamics refusal's
            code is its HRESULT as a negative number.
        hresult: the Dynamics 365 HRESULT as a signed 32-bit number, or 0 when
            the code has none (asyncop's own codes).
        message: the library's explanation (``asyncop_last_error_message``).
    """

    #: The code a class stands for when raised without an explicit code.
    default_code: int = ErrorCode.INTERNAL

    code: int
    hresult: int
    message: str

    def __init__(self, message: str = "", code: int | None = None, hresult: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code
        self.hresult = (self.code if self.code < 0 else 0) if hresult is None else hresult

    def __str__(self) -> str:
        # KeyError would print repr(message); every asyncop error prints the message itself.
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code})"


class InvalidArgumentError(AsyncopError, ValueError):
    """An argument was refused: NUL or non-UTF-8 text, an id <= 0, a time not in
    the future, a mismatched state/status pair, an unknown code, a number out of
    range (INVALID_ARG, NULL_ARG, UTF8, OUT_OF_RANGE, INVALID_HANDLE)."""

    default_code = ErrorCode.INVALID_ARG


class ClosedError(AsyncopError, ValueError):
    """The object (or the queue it came from) was closed (CLOSED_HANDLE), like
    ``ValueError: I/O operation on closed file``."""

    default_code = ErrorCode.CLOSED_HANDLE


class NotFoundError(AsyncopError, KeyError):
    """No operation has this id (NOT_FOUND). Host calls report LeaseLostError instead."""

    default_code = ErrorCode.NOT_FOUND


class LeaseLostError(AsyncopError):
    """A host call without a live lease under its lock token: the lease expired,
    the operation was claimed again, left Locked, or was deleted. Nothing changed;
    the work will be (or was) retried by another claim (LEASE_LOST)."""

    default_code = ErrorCode.LEASE_LOST


class BusyError(AsyncopError):
    """The write lock was not obtained within the busy timeout; nothing changed.
    Retryable (BUSY)."""

    default_code = ErrorCode.BUSY


class CorruptError(AsyncopError):
    """The file is not a usable asyncop database (not SQLite, foreign, truncated,
    corrupt, or a newer schema; at open it was left untouched), or a read or
    :meth:`Queue.check_integrity` found a damaged page or stored row (CORRUPT)."""

    default_code = ErrorCode.CORRUPT


class InternalError(AsyncopError):
    """An unexpected SQLite failure, a bug, or a panic caught inside the library
    (INTERNAL, PANIC). After PANIC the object is poisoned: close it."""

    default_code = ErrorCode.INTERNAL


class ForkedError(AsyncopError):
    """The object was inherited across ``fork()``; open a new Queue in this
    process (FORKED)."""

    default_code = ErrorCode.FORKED


class AsyncopIOError(AsyncopError, OSError):
    """The file cannot be opened, read or written: missing directory,
    permissions, read-only file system, full disk (IO)."""

    default_code = ErrorCode.IO

    def __init__(self, message: str = "", code: int | None = None, hresult: int | None = None) -> None:
        AsyncopError.__init__(self, message, code, hresult)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # OSError's own __reduce__ would rebuild from errno-style args.
        return (type(self), (self.message, self.code, self.hresult))


class InvalidStateChangeError(AsyncopError):
    """A user action refused by the Dynamics 365 state rules; raised as is for
    0x80044162 AsyncOperationInvalidStateChange (Cancel of 2/22 or 3/x,
    ``set_state(2)``), and through a subclass for every other HRESULT refusal.
    A refused action changed nothing."""

    default_code = ErrorCode.INVALID_STATE_CHANGE


#: The name ``ffi-conventions.md`` uses for the same class.
InvalidTransitionError = InvalidStateChangeError


class StateChangedMeanwhileError(InvalidStateChangeError):
    """0x80044163 AsyncOperationInvalidStateChangeUnexpected: the operation
    changed between validation and write. Retryable."""

    default_code = ErrorCode.INVALID_STATE_CHANGE_UNEXPECTED


class InvalidStateChangeToCompleteError(InvalidStateChangeError):
    """0x80044165 AsyncOperationInvalidStateChangeToComplete: ``set_state(3, 30 or 31)``;
    users cannot declare an outcome."""

    default_code = ErrorCode.INVALID_STATE_CHANGE_TO_COMPLETE


class InvalidStateChangeToReadyError(InvalidStateChangeError):
    """0x80044166 AsyncOperationInvalidStateChangeToReady: Resume of an operation
    that is not Suspended (1/10), or of a restricted type."""

    default_code = ErrorCode.INVALID_STATE_CHANGE_TO_READY


class InvalidStateChangeToSuspendedError(InvalidStateChangeError):
    """0x80044167 AsyncOperationInvalidStateChangeToSuspended: Pause or Postpone
    not allowed in the current state."""

    default_code = ErrorCode.INVALID_STATE_CHANGE_TO_SUSPENDED


class CannotUpdateNonrecurringError(InvalidStateChangeError):
    """0x80044168 AsyncOperationCannotUpdateNonrecurring."""

    default_code = ErrorCode.CANNOT_UPDATE_NONRECURRING


class CannotUpdateRecurringError(InvalidStateChangeError):
    """0x80044169 AsyncOperationCannotUpdateRecurring."""

    default_code = ErrorCode.CANNOT_UPDATE_RECURRING


class CannotDeleteUnlessCompletedError(InvalidStateChangeError):
    """0x8004416a AsyncOperationCannotDeleteUnlessCompleted: Delete of an
    operation that is not Completed (without ``allow_delete_any``)."""

    default_code = ErrorCode.CANNOT_DELETE_UNLESS_COMPLETED


class CannotCancelError(InvalidStateChangeError):
    """0x80044F00 AsyncOperationCannotCancel: Cancel of a restricted type."""

    default_code = ErrorCode.CANNOT_CANCEL


class CannotPauseError(InvalidStateChangeError):
    """0x80044F01 AsyncOperationCannotPause: Pause of a restricted type, or
    Postpone of one while it runs."""

    default_code = ErrorCode.CANNOT_PAUSE


_BY_CODE: dict[int, type[AsyncopError]] = {
    ErrorCode.INVALID_ARG: InvalidArgumentError,
    ErrorCode.NULL_ARG: InvalidArgumentError,
    ErrorCode.UTF8: InvalidArgumentError,
    ErrorCode.OUT_OF_RANGE: InvalidArgumentError,
    ErrorCode.INVALID_HANDLE: InvalidArgumentError,
    ErrorCode.CLOSED_HANDLE: ClosedError,
    ErrorCode.NOT_FOUND: NotFoundError,
    ErrorCode.LEASE_LOST: LeaseLostError,
    ErrorCode.BUSY: BusyError,
    ErrorCode.CORRUPT: CorruptError,
    ErrorCode.INTERNAL: InternalError,
    ErrorCode.PANIC: InternalError,
    ErrorCode.FORKED: ForkedError,
    ErrorCode.IO: AsyncopIOError,
    ErrorCode.INVALID_STATE_CHANGE: InvalidStateChangeError,
    ErrorCode.INVALID_STATE_CHANGE_UNEXPECTED: StateChangedMeanwhileError,
    ErrorCode.INVALID_STATE_CHANGE_TO_COMPLETE: InvalidStateChangeToCompleteError,
    ErrorCode.INVALID_STATE_CHANGE_TO_READY: InvalidStateChangeToReadyError,
    ErrorCode.INVALID_STATE_CHANGE_TO_SUSPENDED: InvalidStateChangeToSuspendedError,
    ErrorCode.CANNOT_UPDATE_NONRECURRING: CannotUpdateNonrecurringError,
    ErrorCode.CANNOT_UPDATE_RECURRING: CannotUpdateRecurringError,
    ErrorCode.CANNOT_DELETE_UNLESS_COMPLETED: CannotDeleteUnlessCompletedError,
    ErrorCode.CANNOT_CANCEL: CannotCancelError,
    ErrorCode.CANNOT_PAUSE: CannotPauseError,
}


def error_class(code: int) -> type[AsyncopError]:
    """The exception class raised for ``code``: unknown negative codes (a newer
    library's HRESULT refusals) are InvalidStateChangeError, other unknown codes
    (including the reserved CALLBACK) plain AsyncopError."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    return InvalidStateChangeError if code < 0 else AsyncopError


def make_error(code: int, message: str, hresult: int | None = None) -> AsyncopError:
    """Builds the exception for ``code`` (used by the ctypes errcheck)."""
    return error_class(code)(message, code, hresult)
