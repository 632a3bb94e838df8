"""Shared fixtures. The suite runs against whatever ``import asyncop`` finds:
the runner sets ASYNCOP_LIBRARY to the fresh target/debug build; without it the
pip-installed package loads the library it carries.

Stores: a test or module marked ``both_stores`` runs once per store, as
``test_x[sqlite]`` and ``test_x[postgres]``; its ``db`` is then a file path or a
PostgreSQL URL naming a fresh schema (``?schema=t<pid>_<n>``) in the cluster of
ASYNCOP_TEST_POSTGRES. The runner always provides that cluster (it starts one if
scripts/test did not), so a missing URL fails the PostgreSQL tests, never skips them.
Tests about files (file safety, modes, WAL, bad paths) stay unmarked: SQLite only."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import HEADER, REPO, claim, fresh_postgres_target, open_fds  # noqa: F401

import asyncop

STORES = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: run once against SQLite and once against PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_stores"):
        metafunc.parametrize("store", STORES)


@pytest.fixture
def store() -> str:
    """The store of an unmarked test: SQLite."""
    return "sqlite"


@pytest.fixture
def db(tmp_path: Path, store: str, request: pytest.FixtureRequest) -> str:
    """Where a new queue goes: a file path, or a URL naming a fresh PostgreSQL schema."""
    if store == "postgres":
        return fresh_postgres_target(request.node.originalname)
    return str(tmp_path / "queue.db")


@pytest.fixture
def queue(db: str) -> Iterator[asyncop.Queue]:
    """An open queue (durability NORMAL, restricted types as on a new file)."""
    q = asyncop.Queue(db, durability="normal")
    yield q
    q.close()
    gc.collect()
