"""The base class of the Python objects that own one C handle (Queue, Lease)."""

from __future__ import annotations

import weakref
from typing import Any, NoReturn

from ._codes import ErrorCode
from ._errors import ClosedError

__all__ = ["_Native"]


class _Native:
    """Shared behaviour of objects that own one C handle.

    The raw handle lives in ``self._h`` (None once closed). ``self._finalizer``
    is a ``weakref.finalize`` calling the C release function, so the handle is
    released exactly once: by ``close()``/``__exit__``, when the object is
    garbage-collected, or at interpreter exit. Handles cannot be copied or
    pickled: a copy would release the same handle twice.
    """

    _kind = "object"
    _h: int | None
    _finalizer: weakref.finalize | None

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise ClosedError(f"this {self._kind} is closed", ErrorCode.CLOSED_HANDLE, 0)
        return h

    def _release(self) -> None:
        self._h = None
        finalizer = self._finalizer
        if finalizer is not None:
            finalizer()  # runs at most once; the C release never raises

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the object was released)."""
        return self._h is None

    def __copy__(self) -> NoReturn:
        raise TypeError(f"a {type(self).__name__} owns a native handle and cannot be copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError(f"a {type(self).__name__} owns a native handle and cannot be copied")

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"a {type(self).__name__} owns a native handle and cannot be pickled; "
            "pass the queue's path to other processes and open it there"
        )
