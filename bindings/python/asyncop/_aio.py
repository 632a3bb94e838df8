"""AsyncQueue: the asyncio face of :class:`Queue` (``await q.poll(...)``,
``await q.wait_for(...)``). Every library call runs on a worker thread, and a
waiting call waits in short slices, so the event loop never blocks and a
cancellation (Ctrl-C under ``asyncio.run``) ends a wait within one slice.
The async worker that runs ``async def`` handlers is in ``_aio_worker.py``."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from . import _convert as cv
from ._errors import AsyncopError
from ._lease import Lease
from ._queue import Queue
from ._types import Count, Operation, OperationSpec

__all__ = ["WAIT_SLICE", "AsyncQueue"]

log = logging.getLogger("asyncop.aio")

#: Longest single wait in the library (seconds) of an awaiting poll or
#: wait_for: a cancellation is noticed, and a worker thread freed, within it.
WAIT_SLICE = 0.2

T = TypeVar("T")


class AsyncQueue:
    """An open queue for asyncio code: the methods of :class:`Queue` a
    submitter or host needs, as coroutines that never block the event loop.

    >>> async def main() -> None:                              # doctest: +SKIP
    ...     async with asyncop.AsyncQueue("jobs.db") as q:
    ...         op_id = await q.submit("send mail", b"...", operation_type=100)
    ...         for lease in await q.poll("host-1", wait=5):
    ...             with lease:
    ...                 await q.run(lease.complete)
    ...         op = await q.wait_for(op_id, timeout=10)

    ``AsyncQueue(path, **options)`` opens the file (the options of
    :class:`Queue`); ``AsyncQueue(queue)`` wraps an open :class:`Queue`
    (then closing the AsyncQueue leaves it open). The synchronous queue is
    :attr:`sync`, for calls not wrapped here; :meth:`run` runs any of them
    on a worker thread.

    Each call runs on the loop's default executor. A waiting :meth:`poll` or
    :meth:`wait_for` waits in slices of at most ``WAIT_SLICE`` (0.2 s), so
    cancelling the awaiting task (``task.cancel()``, ``asyncio.wait_for``,
    Ctrl-C under ``asyncio.run``) returns at once and frees its thread within
    a slice. Leases a cancelled poll had just claimed are given back (a retry
    due at once; the attempt counts, as for any released lease).
    """

    def __init__(self, queue_or_path: Queue | str | os.PathLike[str], **queue_options: Any) -> None:
        if isinstance(queue_or_path, Queue):
            if queue_options:
                raise TypeError("queue options apply only when AsyncQueue opens the queue from a path")
            self.sync: Queue = queue_or_path
            """The synchronous :class:`Queue` this wraps."""
            self._owns_queue = False
        else:
            self.sync = Queue(queue_or_path, **queue_options)
            self._owns_queue = True

    # -- life cycle -----------------------------------------------------------------

    async def close(self) -> None:
        """Closes the queue if this AsyncQueue opened it (waiting polls on
        other threads wake and return)."""
        if self._owns_queue:
            await self.run(self.sync.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<asyncop.AsyncQueue of {self.sync!r}>"

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Runs ``fn(*args, **kwargs)`` (a blocking call: a Queue or Lease
        method) on a worker thread and returns its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: fn(*args, **kwargs))

    # -- submitting and reading -----------------------------------------------------

    async def submit(
        self,
        name: str,
        payload: bytes | bytearray | memoryview = b"",
        *,
        operation_type: int,
        dependency_token: str | None = None,
        postpone_until: datetime | timedelta | None = None,
        correlation_id: str | None = None,
        recurrence: str | None = None,
        recurrence_start: datetime | timedelta | None = None,
    ) -> int:
        """:meth:`Queue.submit` on a worker thread: the new operation's id."""
        return await self.run(
            self.sync.submit,
            name,
            payload,
            operation_type=operation_type,
            dependency_token=dependency_token,
            postpone_until=postpone_until,
            correlation_id=correlation_id,
            recurrence=recurrence,
            recurrence_start=recurrence_start,
        )

    async def submit_many(self, specs: Iterable[OperationSpec | Mapping[str, Any]]) -> list[int]:
        """:meth:`Queue.submit_many` on a worker thread."""
        specs = list(specs)
        return await self.run(self.sync.submit_many, specs)

    async def retrieve(self, id: int) -> Operation:
        """:meth:`Queue.retrieve` on a worker thread."""
        return await self.run(self.sync.retrieve, id)

    async def counts(self) -> list[Count]:
        """:meth:`Queue.counts` on a worker thread."""
        return await self.run(self.sync.counts)

    async def cancel(self, id: int) -> None:
        """:meth:`Queue.cancel` on a worker thread."""
        await self.run(self.sync.cancel, id)

    # -- waiting --------------------------------------------------------------------

    async def wait_for(self, id: int, timeout: cv.Duration) -> Operation:
        """Waits until the operation is Completed or ``timeout`` (seconds or
        timedelta) passes and returns its latest snapshot either way (check
        ``.is_completed``), as :meth:`Queue.wait_for`, without blocking the
        event loop; cancellable at once."""
        op_id = cv.i64(id, "id")
        deadline = time.monotonic() + cv.duration_ms(timeout, "timeout") / 1000.0
        while True:
            left = max(0.0, deadline - time.monotonic())
            op = await self.run(self.sync.wait_for, op_id, min(left, WAIT_SLICE))
            if op.is_completed or left <= WAIT_SLICE:
                return op

    async def poll(
        self,
        host_id: str,
        *,
        max: int = 1,
        wait: cv.Duration | None = None,
        operation_types: Iterable[int] | None = None,
    ) -> list[Lease]:
        """Claims up to ``max`` operations as :meth:`Queue.poll` does, waiting
        up to ``wait`` (seconds or timedelta) for work without blocking the
        event loop; an empty list when nothing came. Cancelling the awaiting
        task ends the wait at once (see the class notes)."""
        types = None if operation_types is None else list(operation_types)
        wait_s = 0.0 if wait is None else cv.duration_ms(wait, "wait") / 1000.0
        deadline = time.monotonic() + wait_s
        while True:
            left = deadline - time.monotonic()
            slice_s = WAIT_SLICE if left > WAIT_SLICE else (left if left > 0 else 0.0)  # `max` is the argument
            leases = await self._poll_slice(host_id, max, slice_s, types)
            if leases or left <= WAIT_SLICE:
                return leases

    async def _poll_slice(self, host_id: str, max_: int, wait_s: float, types: list[int] | None) -> list[Lease]:
        loop = asyncio.get_running_loop()
        sync = self.sync
        future: asyncio.Future[list[Lease]] = loop.run_in_executor(
            None, lambda: sync.poll(host_id, max=max_, wait=wait_s or None, operation_types=types)
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_give_back)
            raise


def _give_back(future: asyncio.Future[list[Lease]]) -> None:
    """Hands the leases a cancelled poll claimed after its caller left to a
    worker thread that releases them (or releases them here if the loop's
    executor is shut down already)."""
    if future.cancelled() or future.exception() is not None or not future.result():
        return
    leases = future.result()
    try:
        future.get_loop().run_in_executor(None, _release, leases)
    except RuntimeError:
        _release(leases)


def _release(leases: list[Lease]) -> None:
    for lease in leases:
        try:
            lease.retry("poll cancelled before its leases were used", at=timedelta(0))
        except AsyncopError:
            pass  # lost or closed already: its expiry retries it
        finally:
            lease.close()
