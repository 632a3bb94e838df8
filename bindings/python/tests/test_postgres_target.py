"""A PostgreSQL target given to Queue(...) (ASYNCOP_TEST_POSTGRES, which the runner
always provides): the accepted forms, and the refusals, each of which creates and
changes nothing. The scenarios themselves run on both stores through the
``both_stores`` mark (conftest.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _support import fresh_postgres_target, postgres_url, psql

import asyncop

PASSWORD = "s3cret-pw-xyzzy"


def dead_port() -> int:
    """A port on 127.0.0.1 nothing listens on: the kernel's choice, released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def schema_of(target: str) -> str:
    return target.rsplit("schema=", 1)[1]


@pytest.fixture(autouse=True)
def _in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in an empty directory: a target is never taken for a file name."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "target",
    [
        "postgres://postgres@127.0.0.1:notaport/asyncop",
        "postgresql://postgres@127.0.0.1:99999999/asyncop",
        "host=127.0.0.1 port=x dbname=asyncop",
        "host='127.0.0.1 dbname=asyncop",  # an unclosed quote
    ],
)
def test_a_target_that_does_not_parse_is_invalid_argument(target: str, tmp_path: Path) -> None:
    with pytest.raises(asyncop.InvalidArgumentError) as info:
        asyncop.Queue(target)
    assert info.value.code == asyncop.ErrorCode.INVALID_ARG and str(info.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("schema", ["Upper", "1digit", "has-dash", "semi;colon", "", "a" * 64])
def test_a_schema_that_is_not_an_identifier_is_invalid_argument(schema: str) -> None:
    with pytest.raises(asyncop.InvalidArgumentError, match="schema"):
        asyncop.Queue(f"{postgres_url()}?schema={schema}")
    assert psql(f"SELECT count(*) FROM pg_namespace WHERE lower(nspname) = lower('{schema.replace(';', '')}')") == "0"


@pytest.mark.parametrize("pool_size", ["0", "many", "-1"])
def test_a_bad_pool_size_is_invalid_argument(pool_size: str) -> None:
    target = fresh_postgres_target("pool")
    with pytest.raises(asyncop.InvalidArgumentError, match="pool_size"):
        asyncop.Queue(f"{target}&pool_size={pool_size}")
    assert psql(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema_of(target)}'") == "0"


def test_a_server_that_is_down_is_an_io_error_without_the_password(tmp_path: Path) -> None:
    port = dead_port()
    for target in (
        f"postgres://someone:{PASSWORD}@127.0.0.1:{port}/asyncop?schema=x",
        f"host=127.0.0.1 port={port} user=someone password={PASSWORD} dbname=asyncop connect_timeout=5",
    ):
        with pytest.raises(asyncop.AsyncopIOError) as info:
            asyncop.Queue(target)
        message = str(info.value)
        assert info.value.code == asyncop.ErrorCode.IO and isinstance(info.value, OSError)
        assert PASSWORD not in message and PASSWORD not in repr(info.value)
        assert f"127.0.0.1:{port}" in message
    assert os.listdir(tmp_path) == []


def test_a_database_that_does_not_exist_is_an_io_error() -> None:
    url = urlsplit(postgres_url())
    with pytest.raises(asyncop.AsyncopIOError, match="no_such_db"):
        asyncop.Queue(f"{url.scheme}://{url.netloc}/no_such_db?schema=x")


def test_the_queue_repr_does_not_show_the_password() -> None:
    url = urlsplit(postgres_url())
    target = f"{url.scheme}://{url.username}:{PASSWORD}@{url.hostname}:{url.port}{url.path}?schema=t{os.getpid()}_repr"
    with asyncop.Queue(target) as q:  # trust authentication: the password is not checked
        assert PASSWORD not in repr(q)
        assert f"{url.username}:***@{url.hostname}" in repr(q)
    conninfo = f"host={url.hostname} port={url.port} dbname={url.path[1:]} user={url.username} password={PASSWORD} schema=t{os.getpid()}_repr"
    with asyncop.Queue(conninfo) as q:
        assert PASSWORD not in repr(q)
        assert "password=***" in repr(q)


def test_a_newer_schema_version_is_corrupt_and_left_unchanged() -> None:
    target = fresh_postgres_target("newer")
    schema = schema_of(target)
    with asyncop.Queue(target) as q:
        q.submit("before", operation_type=4)
    psql(f"UPDATE {schema}.schema_version SET version = 999")
    before = psql(f"SELECT id, state, modified_on FROM {schema}.operation")
    with pytest.raises(asyncop.CorruptError, match="999") as info:
        asyncop.Queue(target)
    assert info.value.code == asyncop.ErrorCode.CORRUPT
    assert psql(f"SELECT string_agg(version::text, ',') FROM {schema}.schema_version") == "999"
    assert psql(f"SELECT id, state, modified_on FROM {schema}.operation") == before


def test_url_and_conninfo_name_the_same_queue() -> None:
    target = fresh_postgres_target("forms")
    schema = schema_of(target)
    with asyncop.Queue(target) as q:
        op_id = q.submit("by url", operation_type=3)
    assert psql(f"SELECT name FROM {schema}.operation WHERE id = {op_id}") == "by url"
    url = urlsplit(postgres_url())
    conninfo = (
        f"host={url.hostname} port={url.port} user={url.username} dbname={url.path.lstrip('/')} "
        f"schema={schema} pool_size=2"
    )
    with asyncop.Queue(conninfo) as q:
        assert q.retrieve(op_id).name == "by url"
        assert q.path == conninfo
