"""Acknowledged submits survive what other SQLite code does to the file (issue 10).

Each test runs a child process that submits, lets somebody else's SQLite touch
the file in the middle, submits more, prints the ids it was given and SIGKILLs
itself. A fresh open must then find every one of them. Before the fix, the
second open of the file in the child (or a read through Python's own
``sqlite3`` in the child) dropped the child's locks, the foreign reader's close
deleted the live WAL, and the later submits were lost.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import asyncop

CHILD = textwrap.dedent(
    """
    import os, sqlite3, sys
    import asyncop

    path, handles, in_process_reader = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    queues = [asyncop.Queue(path) for _ in range(handles)]
    ids = [queues[0].submit("first", b"x" * 100, operation_type=100)]
    if in_process_reader:
        # A second SQLite library in this process: read, then close.
        con = sqlite3.connect(path)
        assert con.execute("SELECT count(*) FROM operation").fetchone()[0] == 1
        con.close()
    else:
        print("ready", flush=True)
        sys.stdin.readline()  # another process reads the file now
    for i in range(5):
        ids.append(queues[-1].submit(f"later {i}", b"y" * 100, operation_type=100))
    print(" ".join(map(str, ids)), flush=True)
    os.kill(os.getpid(), 9)
    """
)


def run_child(path: str, handles: int, reader: list[str] | None) -> list[int]:
    """Runs CHILD; `reader` (a command) reads the file from another process
    between the first submit and the later ones. Returns the acknowledged ids."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, path, str(handles), "1" if reader is None else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    if reader is not None:
        assert proc.stdout.readline().strip() == "ready"
        out = subprocess.run(reader, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "1", out.stdout
        proc.stdin.write("go\n")
        proc.stdin.flush()
    ids = [int(x) for x in proc.stdout.readline().split()]
    assert proc.wait(60) == -signal.SIGKILL
    assert len(ids) == 6
    return ids


def assert_all_present(path: str, ids: list[int]) -> None:
    with asyncop.Queue(path) as q:
        assert [op.id for op in q.query()] == ids
        for i in ids:
            assert q.retrieve(i).state == asyncop.State.READY


PY_READER = [sys.executable, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM operation').fetchone()[0])"]


@pytest.mark.parametrize("handles", [1, 2])
def test_a_read_through_python_sqlite3_in_another_process_loses_nothing(tmp_path: Path, handles: int) -> None:
    path = str(tmp_path / "q.db")
    ids = run_child(path, handles, [*PY_READER, path])
    assert_all_present(path, ids)


@pytest.mark.parametrize("handles", [1, 2])
def test_a_read_through_the_sqlite3_cli_in_another_process_loses_nothing(tmp_path: Path, handles: int) -> None:
    cli = shutil.which("sqlite3")
    if cli is None:
        pytest.fail("the sqlite3 command-line shell is missing (scripts/test installs it: apt-get install sqlite3)")
    path = str(tmp_path / "q.db")
    ids = run_child(path, handles, [cli, path, "SELECT count(*) FROM operation"])
    assert_all_present(path, ids)


@pytest.mark.parametrize("handles", [1, 2])
def test_a_second_sqlite_library_reading_in_the_same_process_loses_nothing(tmp_path: Path, handles: int) -> None:
    path = str(tmp_path / "q.db")
    ids = run_child(path, handles, None)
    assert_all_present(path, ids)


def test_new_files_are_private_by_default_and_group_shared_on_request(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        private = str(tmp_path / "private.db")
        with asyncop.Queue(private) as q:
            q.submit("x", b"", operation_type=100)
            for suffix in ("", "-wal", "-shm"):
                assert os.stat(private + suffix).st_mode & 0o777 == 0o600, suffix
        group = str(tmp_path / "group.db")
        with asyncop.Queue(group, file_mode=0o660) as q:
            q.submit("x", b"", operation_type=100)
            for suffix in ("", "-wal", "-shm"):
                assert os.stat(group + suffix).st_mode & 0o777 == 0o660, suffix
    finally:
        os.umask(old)
    # An existing file keeps its mode.
    os.chmod(private, 0o640)
    with asyncop.Queue(private):
        assert os.stat(private).st_mode & 0o777 == 0o640


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    with pytest.raises(asyncop.AsyncopIOError):
        asyncop.Queue(fifo)
