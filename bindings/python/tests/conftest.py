"""Shared fixtures. The suite runs against whatever ``import asyncop`` finds:
the runner sets ASYNCOP_LIBRARY to the fresh target/debug build; without it the
pip-installed package loads the library it carries."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import HEADER, REPO, claim, open_fds  # noqa: F401

import asyncop


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A path for a new queue file."""
    return str(tmp_path / "queue.db")


@pytest.fixture
def queue(db: str) -> Iterator[asyncop.Queue]:
    """An open queue (durability NORMAL, restricted types as on a new file)."""
    q = asyncop.Queue(db, durability="normal")
    yield q
    q.close()
    gc.collect()
