"""Opening stores from URLs: the embedded default in the data directory, SQLite files and
PostgreSQL URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.core.ids import TenantId
from server.core.stores.factory import DEFAULT_FILE, create_store, open_store
from server.core.stores.postgres import PostgresTwinStore
from server.core.stores.sqlite import SqliteTwinStore
from tests.contract.twin_records import T0, put_twins, twin


def test_no_url_means_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    with open_store(None, data_dir=tmp_path / "data") as store:
        assert isinstance(store, SqliteTwinStore)
        store.create_tenant(TenantId("acme"), "h", T0)
    assert (tmp_path / "data" / DEFAULT_FILE).is_file()


def test_sqlite_urls(tmp_path: Path) -> None:
    absolute = create_store(f"sqlite:///{tmp_path}/a%20b.db")
    assert isinstance(absolute, SqliteTwinStore)
    assert absolute.path == tmp_path / "a b.db"
    relative = create_store("sqlite:sub/x.db?synchronous=full", data_dir=tmp_path)
    assert isinstance(relative, SqliteTwinStore)
    assert relative.path == tmp_path / "sub" / "x.db" and relative.synchronous == "FULL"


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/keep.db"
    tenant = TenantId("acme")
    with open_store(url) as store:
        store.create_tenant(tenant, "h", T0)
        put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"v": 1}}))
    with open_store(url) as store:
        assert store.get_twin(tenant, twin(tenant, "ns:a").thing_id).doc["attributes"] == {"v": 1}


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "nonsense"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        create_store(url)


def test_no_url_and_no_data_directory_is_refused() -> None:
    with pytest.raises(ValueError):
        create_store(None)


def test_postgres_url_options_build_the_pool() -> None:
    store = create_store("postgres://postgres@127.0.0.1:5432/db?pool_max=3&connect_timeout=2")
    assert isinstance(store, PostgresTwinStore)
    assert store.conninfo == "postgresql://postgres@127.0.0.1:5432/db?connect_timeout=2"


@pytest.mark.postgres
def test_postgres_schema_creation_is_idempotent(pg_url: str) -> None:
    for _ in range(2):
        with open_store(pg_url) as store:
            assert isinstance(store, PostgresTwinStore)
            store.list_tenants()
