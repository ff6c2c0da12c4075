"""Fixtures of the REST face tests: a real core (SQLite + in-memory graph + the shipped
models) behind the app, reached in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.core.bootstrap import build_core
from server.core.catalog import ModelCatalog
from server.core.service import Core
from server.settings import Settings

WIFI = "https://w3id.org/ndtwin/tm/wifi/WifiAccessPoint.tm.jsonld"
PHONE = "https://w3id.org/ndtwin/tm/phone/Phone.tm.jsonld"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


@pytest.fixture
def core(tmp_path: Path, catalog: ModelCatalog) -> Iterator[Core]:
    core = build_core("sqlite", "memory", tmp_path / "data", catalog=catalog)
    core.open()
    try:
        yield core
    finally:
        core.close()


@pytest.fixture
def keys(core: Core) -> dict[str, str]:
    """API keys of two tenants, ``alpha`` and ``beta``."""
    return {name: core.tenants.create(name)[1] for name in ("alpha", "beta")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", sse_heartbeat_s=0.3, operator_key="operator-secret")


@pytest.fixture
def app(core: Core, settings: Settings) -> FastAPI:
    return create_app(core, settings, manage_core=False, native_api=False, extensions=())


@pytest.fixture
async def client(app: FastAPI, keys: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as tenant ``alpha`` (Bearer)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {keys['alpha']}"},
        ) as http:
            yield http


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
