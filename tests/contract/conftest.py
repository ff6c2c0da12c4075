"""Fixtures for the `TwinStore` contract: every test runs on SQLite and on PostgreSQL.

PostgreSQL tests use a database created for this test session (``ndtwin_test_<random>``
via the ``postgres`` maintenance database on 127.0.0.1:5432) and dropped at the end; the
tables are emptied before each test. Those tests carry the ``postgres`` marker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from server.core.ids import TenantId
from server.core.stores import TwinStore
from server.core.stores.postgres import PostgresTwinStore
from server.core.stores.sqlite import SqliteTwinStore
from tests.contract.twin_records import T0

MAINTENANCE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
STORE_KINDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))
_TABLES = "tenants, twins, revisions, relationships, events, history, outbox"


def _database_url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this session (dropped afterwards)."""
    name = f"ndtwin_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(MAINTENANCE_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(name)
    finally:
        with psycopg.connect(MAINTENANCE_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> TwinStore:
    """An opened, empty store of ``kind``."""
    if kind == "sqlite":
        store: TwinStore = SqliteTwinStore(tmp_path / "twins.db")
        store.open()
        return store
    url = request.getfixturevalue("pg_url")
    store = PostgresTwinStore(url, max_size=4)
    store.open()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY")
    return store


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgres"``."""
    kind: str = request.param
    return kind


@pytest.fixture
def store(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TwinStore]:
    """An opened, empty store of each kind."""
    opened = open_store(store_kind, tmp_path, request)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL for `server.core.stores.factory.open_store`, for tests that use subprocesses."""
    if store_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("pg_url")
    with PostgresTwinStore(url) as s:  # make sure the schema exists, then empty it
        del s
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY")
    return url


@pytest.fixture
def tenant(store: TwinStore) -> TenantId:
    """A tenant ``acme`` in the store."""
    name = TenantId("acme")
    store.create_tenant(name, "hash-acme", T0)
    return name


@pytest.fixture
def other_tenant(store: TwinStore) -> TenantId:
    """A second tenant ``globex`` in the store."""
    name = TenantId("globex")
    store.create_tenant(name, "hash-globex", T0)
    return name
