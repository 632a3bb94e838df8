"""``python -m asyncop worker module:attr``: runs the tasks of a
:class:`TaskRegistry` (or of the registries bound to a :class:`Queue`) with a
threaded :class:`Worker` (or, with ``--asyncio``, an :class:`AsyncWorker`)
until SIGTERM or Ctrl-C, then stops gracefully: the running jobs (and those
already claimed) finish and report, and the command exits 0."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._aio_worker import AsyncHandler, AsyncWorker
from ._job import Job
from ._queue import Queue
from ._tasks import TaskRegistry, registries_of
from ._worker import DEFAULT_PREFETCH, Worker

__all__ = ["main"]

log = logging.getLogger("asyncop.worker")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m asyncop", description="asyncop commands")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="run the registered tasks", description="Runs the tasks of module:attr until SIGTERM or Ctrl-C."
    )
    worker.add_argument("target", help="module:attr naming a TaskRegistry, or a Queue its registries use")
    worker.add_argument("--threads", type=int, default=4, help="handler threads (default 4)")
    worker.add_argument("--host-id", default=None, help="the host id it claims under (default hostname:pid)")
    worker.add_argument("--poll-wait", type=float, default=1.0, help="seconds one poll waits for work (default 1)")
    worker.add_argument(
        "--prefetch",
        type=int,
        default=DEFAULT_PREFETCH,
        help=f"jobs one thread claims at once (default {DEFAULT_PREFETCH})",
    )
    worker.add_argument(
        "--asyncio", action="store_true", help="run the tasks in one event loop (AsyncWorker) instead of threads"
    )
    worker.add_argument(
        "--concurrency", type=int, default=10, help="with --asyncio: most tasks running at once (default 10)"
    )
    worker.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def load_target(target: str) -> Any:
    """The object named by ``module:attr`` (the current directory is
    importable, as for celery and huey); SystemExit with a message if wrong."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise SystemExit(f"asyncop worker: expected module:attr, got {target!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _registries_and_queue(obj: Any, target: str) -> tuple[list[TaskRegistry], Queue]:
    if isinstance(obj, TaskRegistry):
        return [obj], obj.queue
    if isinstance(obj, Queue):
        return registries_of(obj), obj
    raise SystemExit(f"asyncop worker: {target} is a {type(obj).__name__}, not a TaskRegistry or a Queue")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s"
    )
    registries, queue = _registries_and_queue(load_target(args.target), args.target)
    if not any(registry.tasks for registry in registries):
        raise SystemExit(f"asyncop worker: {args.target} has no registered tasks")
    if args.asyncio:
        stats = _run_asyncio(registries, queue, args)
    else:
        stats = _run_threads(registries, queue, args)
    log.info("asyncop worker: stopped cleanly; %s", stats)
    return 0


def _run_threads(registries: list[TaskRegistry], queue: Queue, args: argparse.Namespace) -> dict[str, int]:
    """A threaded :class:`Worker` until SIGTERM or Ctrl-C (its ``run_forever``)."""
    handlers: dict[int, Callable[[Job], Any]] = {}
    for registry in registries:
        handlers.update(registry.handlers())
    worker = Worker(
        queue, handlers, threads=args.threads, host_id=args.host_id, poll_wait=args.poll_wait, prefetch=args.prefetch
    )
    log.info(
        "asyncop worker %s: %d threads on %r, task types %s", worker.host_id, args.threads, queue, sorted(handlers)
    )
    worker.run_forever()
    return worker.stats


def _run_asyncio(registries: list[TaskRegistry], queue: Queue, args: argparse.Namespace) -> dict[str, int]:
    """An :class:`AsyncWorker` in ``asyncio.run`` until SIGTERM or Ctrl-C, both
    graceful: claiming stops, running tasks finish and report."""
    handlers: dict[int, AsyncHandler] = {}
    for registry in registries:
        handlers.update(registry.async_handlers())
    worker = AsyncWorker(queue, handlers, concurrency=args.concurrency, host_id=args.host_id)
    log.info(
        "asyncop worker %s: asyncio, concurrency %d on %r, task types %s",
        worker.host_id,
        args.concurrency,
        queue,
        sorted(handlers),
    )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()

    asyncio.run(run())
    return worker.stats
