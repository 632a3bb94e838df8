"""Task registration in the style of huey, Dramatiq and Celery: a
:class:`TaskRegistry` whose ``@tasks.task(...)`` decorator names a function
(and its operation type), serialises its arguments into the payload and gives
it ``.submit(...)``/``.delay(...)``; the registry's handlers run it in a
:class:`Worker` (``python -m asyncop worker module:tasks``)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import pickle
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

from . import _convert as cv
from ._job import Job, PermanentError, RetryableError, StopRequested, SuspendError
from ._queue import Queue

__all__ = ["JSONSerializer", "PickleSerializer", "Serializer", "Task", "TaskRegistry", "TaskSubmitter"]

log = logging.getLogger("asyncop.tasks")

P = ParamSpec("P")
R = TypeVar("R")

_registries: weakref.WeakSet[TaskRegistry] = weakref.WeakSet()

# What a task raises on purpose: passed to the worker as is.
_KEEP_MEANING = (RetryableError, PermanentError, SuspendError, StopRequested)


class Serializer(Protocol):
    """How a task's arguments become a payload and back (pluggable)."""

    def dumps(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """The payload for these arguments."""
        ...

    def loads(self, payload: bytes) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments of this payload."""
        ...


class JSONSerializer:
    """The default: ``{"args": [...], "kwargs": {...}}`` as UTF-8 JSON (tuples
    come back as lists). Readable by any language and by ``asyncop`` tools."""

    def dumps(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """The payload for these arguments (TypeError if not JSON-serialisable)."""
        return json.dumps({"args": list(args), "kwargs": kwargs}, separators=(",", ":")).encode("utf-8")

    def loads(self, payload: bytes) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments of this payload."""
        data = json.loads(payload.decode("utf-8")) if payload else {}
        return tuple(data.get("args", ())), dict(data.get("kwargs", {}))


class PickleSerializer:
    """Any picklable arguments. Only for queues whose every submitter is
    trusted: unpickling a payload can run arbitrary code."""

    def dumps(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """The payload for these arguments."""
        return pickle.dumps((args, kwargs))

    def loads(self, payload: bytes) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments of this payload."""
        args, kwargs = pickle.loads(payload)
        return tuple(args), dict(kwargs)


class TaskSubmitter(Generic[P]):
    """A task with submit options fixed, from :meth:`Task.with_options`."""

    def __init__(self, task: Task[P, Any], options: dict[str, Any]) -> None:
        self._task = task
        self._options = options

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> int:
        """Submits one run with these options; the operation id."""
        return self._task._submit(args, kwargs, self._options)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> int:
        """The same as :meth:`submit` (Celery's and huey's name)."""
        return self._task._submit(args, kwargs, self._options)


class Task(Generic[P, R]):
    """A registered function (from ``@registry.task(...)``). Calling it runs
    the function here; :meth:`submit` (or :meth:`delay`) queues a run and
    returns the operation id; :meth:`with_options` sets the dependency
    token, postpone time or correlation id of one submit.

    Retries: an exception in ``retry_for`` (default any Exception) is
    retried while the attempt is below ``max_attempts``, after
    ``min(cap, base * 2**(attempt-1))`` with ``backoff=(base, cap)``; other
    exceptions, and the last attempt's, fail the operation for good.
    Without these options the queue's own settings (the ``max_attempts`` and
    ``backoff`` of :class:`Queue`) decide; the queue's budget caps a task's.
    ``RetryableError``, ``PermanentError``, ``SuspendError`` and
    ``StopRequested`` raised by the function keep their meaning.
    """

    def __init__(
        self,
        registry: TaskRegistry,
        fn: Callable[P, R],
        *,
        name: str,
        operation_type: int,
        serializer: Serializer,
        max_attempts: int | None,
        backoff: tuple[float, float] | None,
        retry_for: tuple[type[BaseException], ...],
    ) -> None:
        self.registry = registry
        """The registry it belongs to."""
        self.fn: Callable[P, R] = fn
        """The decorated function."""
        self.name = name
        """The operation name of its runs."""
        self.operation_type = operation_type
        """The operation type of its runs (selects it in the worker)."""
        self.serializer = serializer
        """How its arguments are stored."""
        self.max_attempts = max_attempts
        """Attempts in total before an exception fails it (None: the queue's budget)."""
        self.backoff = backoff
        """``(base, cap)`` seconds between attempts (None: the queue's back-off)."""
        self.retry_for = retry_for
        """Exceptions that are retried; others fail at once."""
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Runs the function here, now (no queue involved)."""
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<asyncop.Task {self.name!r} type={self.operation_type}>"

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> int:
        """Queues one run with these arguments; the operation id once committed."""
        return self._submit(args, kwargs, {})

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> int:
        """The same as :meth:`submit` (Celery's and huey's name)."""
        return self._submit(args, kwargs, {})

    def with_options(
        self,
        *,
        dependency_token: str | None = None,
        postpone_until: datetime | timedelta | None = None,
        correlation_id: str | None = None,
    ) -> TaskSubmitter[P]:
        """A submitter whose runs get these :meth:`Queue.submit` options:
        ``task.with_options(postpone_until=timedelta(minutes=5)).submit(...)``."""
        options = {
            "dependency_token": dependency_token,
            "postpone_until": postpone_until,
            "correlation_id": correlation_id,
        }
        return TaskSubmitter(self, options)

    def _submit(self, args: tuple[Any, ...], kwargs: dict[str, Any], options: dict[str, Any]) -> int:
        payload = self.serializer.dumps(args, kwargs)
        return self.registry.queue.submit(self.name, payload, operation_type=self.operation_type, **options)

    def handle(self, job: Job) -> Any:
        """The :class:`Worker` handler: runs the function with the job's
        arguments (an ``async def`` one in its own event loop) and maps its
        exceptions to this task's retry options."""
        args, kwargs = self._start(job)
        try:
            result: Any = self.fn(*args, **kwargs)
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
        except _KEEP_MEANING:
            raise
        except Exception as e:
            raise self._mapped(e, job) from e
        log.info("task %s: operation %d succeeded", self.name, job.id)
        return result

    async def handle_async(self, job: Job) -> Any:
        """The :class:`AsyncWorker` handler: awaits an ``async def`` function
        (a plain one runs on a worker thread) and maps its exceptions to this
        task's retry options."""
        args, kwargs = self._start(job)
        try:
            if inspect.iscoroutinefunction(self.fn):
                result: Any = await self.fn(*args, **kwargs)
            else:
                result = await asyncio.to_thread(self.fn, *args, **kwargs)
                if inspect.iscoroutine(result):
                    result = await result
        except _KEEP_MEANING:
            raise
        except Exception as e:
            raise self._mapped(e, job) from e
        log.info("task %s: operation %d succeeded", self.name, job.id)
        return result

    def _start(self, job: Job) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = self.serializer.loads(job.payload)
        log.info("task %s: operation %d attempt %d started", self.name, job.id, job.attempt)
        return args, kwargs

    def _mapped(self, exc: Exception, job: Job) -> Exception:
        if not isinstance(exc, self.retry_for):
            return PermanentError(f"{type(exc).__name__}: {exc}")
        if self.max_attempts is not None and job.attempt >= self.max_attempts:
            return PermanentError(f"{type(exc).__name__}: {exc} (attempt {job.attempt} of {self.max_attempts})")
        if self.backoff is not None:
            base, cap = self.backoff
            delay = min(cap, base * 2 ** (job.attempt - 1))
            return RetryableError(f"{type(exc).__name__}: {exc}", retry_at=timedelta(seconds=delay))
        if self.max_attempts is not None:
            return RetryableError(f"{type(exc).__name__}: {exc}")
        return exc


class TaskRegistry:
    """The tasks of one queue.

    >>> tasks = asyncop.TaskRegistry("jobs.db")                # doctest: +SKIP
    >>> @tasks.task(operation_type=100, max_attempts=5, backoff=(1, 60))
    ... def send_mail(to: str, subject: str) -> None: ...
    >>> op_id = send_mail.submit("a@example.com", subject="hi")
    >>> # elsewhere: python -m asyncop worker mymodule:tasks --threads 8

    Args:
        queue: a :class:`Queue`, or a path (or PostgreSQL URL) opened with
            ``queue_options`` on first use (so importing the module that
            defines the tasks opens nothing).
        serializer: the default :class:`Serializer` of its tasks
            (:class:`JSONSerializer`).
        queue_options: keyword arguments for :class:`Queue` when given a path.
    """

    def __init__(
        self,
        queue: Queue | str | os.PathLike[str],
        *,
        serializer: Serializer | None = None,
        queue_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._queue: Queue | None = queue if isinstance(queue, Queue) else None
        self._target = None if isinstance(queue, Queue) else queue
        self._queue_options = dict(queue_options or {})
        self.serializer: Serializer = JSONSerializer() if serializer is None else serializer
        """The default serializer of its tasks."""
        self.tasks: dict[int, Task[Any, Any]] = {}
        """``{operation_type: task}``."""
        _registries.add(self)

    @property
    def queue(self) -> Queue:
        """The queue (opened now if the registry was given a path)."""
        if self._queue is None:
            assert self._target is not None
            self._queue = Queue(self._target, **self._queue_options)
        return self._queue

    def task(
        self,
        operation_type: int,
        *,
        name: str | None = None,
        serializer: Serializer | None = None,
        max_attempts: int | None = None,
        backoff: tuple[cv.Duration, cv.Duration] | None = None,
        retry_for: tuple[type[BaseException], ...] = (Exception,),
    ) -> Callable[[Callable[P, R]], Task[P, R]]:
        """Registers the decorated function as a task (see :class:`Task`).

        Args:
            operation_type: > 0, unique in this registry: selects the task in the worker.
            name: the operations' name (default ``module.qualname``, cut to 256).
            serializer: this task's :class:`Serializer` (default the registry's).
            max_attempts: attempts in total (>= 1) before an exception fails it.
            backoff: ``(base, cap)`` seconds or timedeltas between attempts.
            retry_for: the exception classes that are retried.
        """
        op_type = cv.i32(operation_type, "operation_type")
        if op_type <= 0:
            raise ValueError(f"operation_type must be > 0, not {op_type}")
        if max_attempts is not None and cv.integer(max_attempts, "max_attempts", 1, 2**31 - 1) < 1:
            raise ValueError("max_attempts must be >= 1")
        delays = None
        if backoff is not None:
            delays = (
                cv.duration_ms(backoff[0], "backoff base") / 1000.0,
                cv.duration_ms(backoff[1], "backoff cap") / 1000.0,
            )

        def register(fn: Callable[P, R]) -> Task[P, R]:
            if op_type in self.tasks:
                raise ValueError(f"operation type {op_type} is registered already ({self.tasks[op_type].name})")
            task_name = name if name is not None else f"{fn.__module__}.{fn.__qualname__}"[-256:]
            task: Task[P, R] = Task(
                self,
                fn,
                name=task_name,
                operation_type=op_type,
                serializer=self.serializer if serializer is None else serializer,
                max_attempts=max_attempts,
                backoff=delays,
                retry_for=tuple(retry_for),
            )
            self.tasks[op_type] = task
            return task

        return register

    def handlers(self) -> dict[int, Callable[[Job], Any]]:
        """``{operation_type: handler}`` for :class:`Worker`."""
        return {op_type: task.handle for op_type, task in self.tasks.items()}

    def async_handlers(self) -> dict[int, Callable[[Job], Awaitable[Any]]]:
        """``{operation_type: async handler}`` for :class:`AsyncWorker`."""
        return {op_type: task.handle_async for op_type, task in self.tasks.items()}


def registries_of(queue: Queue) -> list[TaskRegistry]:
    """The registries bound to this open queue (for ``python -m asyncop worker module:queue``)."""
    return [r for r in list(_registries) if r._queue is queue]
