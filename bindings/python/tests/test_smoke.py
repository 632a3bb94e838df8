"""Import smoke test, also run alone against the pip-installed package with
ASYNCOP_LIBRARY unset: the package loads the library it carries, and the
README's example runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import asyncop

README = Path(__file__).resolve().parents[1] / "README.md"


def test_import_finds_a_library_of_the_expected_abi() -> None:
    assert asyncop.ABI_VERSION == 2
    assert os.path.exists(asyncop.library_path)
    env = os.environ.get("ASYNCOP_LIBRARY")
    if env:
        assert asyncop.library_path == env
    else:
        package_dir = os.path.dirname(asyncop.__file__)
        assert asyncop.library_path == os.path.join(package_dir, "libasyncop.so")
        assert os.path.exists(os.path.join(package_dir, "py.typed"))


def test_readme_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not README.exists():
        pytest.skip("README.md is not beside the tests")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "no Python example in the README"
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], str(README), "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out
    assert "working on welcome mail" in out
    assert "SUCCEEDED" in out  # the Worker completed the second mail
    with asyncop.Queue(tmp_path / "jobs.db") as q:
        assert [op.status for op in q.query()] == [
            asyncop.Status.SUCCEEDED,
            asyncop.Status.CANCELED,
            asyncop.Status.SUCCEEDED,
        ]
