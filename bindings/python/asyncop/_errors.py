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

from ._codes import ERROR_CLASS, ERROR_FAMILY, UNKNOWN_CLASS, UNKNOWN_NEGATIVE_CLASS, ErrorCode

__all__ = [
    "AsyncopError",
    "InvalidArgumentError",
    "InvalidHandleError",
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
    range (INVALID_ARG, NULL_ARG, UTF8, OUT_OF_RANGE; INVALID_HANDLE through
    :class:`InvalidHandleError`)."""

    default_code = ErrorCode.INVALID_ARG


class InvalidHandleError(InvalidArgumentError):
    """A handle the library never issued, or a handle of another type, was
    passed (INVALID_HANDLE): a caller error, so an :class:`InvalidArgumentError`
    (and a ValueError). The public API never passes one; it shows up only when
    the raw library is called with a bad handle."""

    default_code = ErrorCode.INVALID_HANDLE


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
    (INTERNAL, PANIC). After PANIC the object is poisoned: close it. Also the
    codes no wrapper call should ever surface: BUFFER_TOO_SMALL (a size query
    the wrapper answers itself) and the reserved CALLBACK."""

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

    def __reduce__(self) -> tuple[type[AsyncopIOError], tuple[str, int, int]]:
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


def _build_by_code() -> dict[int, type[AsyncopError]]:
    """code -> class, from the table scripts/gen-bindings generates (``_codes.py``),
    the same family table the C# wrapper is generated from."""
    here = globals()
    out: dict[int, type[AsyncopError]] = {}
    for code, name in ERROR_CLASS.items():
        cls, family = here[name], here[ERROR_FAMILY[code]]
        if not (isinstance(cls, type) and issubclass(cls, family) and issubclass(family, AsyncopError)):
            raise ImportError(f"asyncop: {name} (for code {code}) is not a subclass of its family {family}")
        out[code] = cls
    return out


_BY_CODE: dict[int, type[AsyncopError]] = _build_by_code()
_UNKNOWN: type[AsyncopError] = globals()[UNKNOWN_CLASS]
_UNKNOWN_NEGATIVE: type[AsyncopError] = globals()[UNKNOWN_NEGATIVE_CLASS]


def error_class(code: int) -> type[AsyncopError]:
    """The exception class raised for ``code``: unknown negative codes (a newer
    library's HRESULT refusals) are InvalidStateChangeError, other unknown codes
    plain AsyncopError (the C# wrapper does the same)."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    return _UNKNOWN_NEGATIVE if code < 0 else _UNKNOWN


def make_error(code: int, message: str, hresult: int | None = None) -> AsyncopError:
    """Builds the exception for ``code`` (used by the ctypes errcheck)."""
    return error_class(code)(message, code, hresult)
