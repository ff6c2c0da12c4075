"""Fixtures of the ``/v1`` REST tests: the real app (``create_app``) over a real core,
reached in-process through httpx's ASGI transport."""

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
from server.grpc.services import close_services
from server.settings import Settings

OPERATOR_KEY = "operator-v1-key"
ENV_MODEL = "https://w3id.org/ndtwin/tm/environment/EnvironmentSensor.tm.jsonld"


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
    yield core
    core.close()


@pytest.fixture
def keys(core: Core) -> dict[str, str]:
    return {name: core.tenants.create(name)[1] for name in ("alpha", "beta")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", operator_key=OPERATOR_KEY)


@pytest.fixture
def app(core: Core, settings: Settings) -> FastAPI:
    return create_app(core, settings, manage_core=False, native_api=True, extensions=())


@pytest.fixture
async def http(app: FastAPI, core: Core, keys: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as tenant ``alpha``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=bearer(keys["alpha"])
    ) as client:
        yield client
    await close_services(core)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
