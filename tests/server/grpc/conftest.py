"""Fixtures of the gRPC face: a real core (SQLite, in-memory graph, the server's default
validation over the shipped models) served by ``start_grpc_server`` on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from server.core.bootstrap import build_core
from server.core.catalog import ModelCatalog
from server.core.service import Core
from server.grpc.server import bound_port, start_grpc_server, stop_grpc_server
from server.grpc.services import close_services
from server.settings import Settings

OPERATOR_KEY = "operator-test-key"
#: A model whose twins are SHACL-validated: co2 is a number in 0..40000, motionCount an
#: integer >= 0 (models/sdf/environment.sdf.json).
ENV_MODEL = "https://w3id.org/ndtwin/tm/environment/EnvironmentSensor.tm.jsonld"


@dataclass(frozen=True)
class Tenant:
    """A tenant of the test core and the metadata that authenticates as it."""

    name: str
    key: str

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.key}"),)

    @property
    def parent(self) -> str:
        return f"tenants/{self.name}"

    def twin(self, thing_id: str) -> str:
        return f"tenants/{self.name}/twins/{thing_id}"

    def relationship(self, rid: str) -> str:
        return f"tenants/{self.name}/relationships/{rid}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


@pytest.fixture
def core(tmp_path: Path, catalog: ModelCatalog) -> Iterator[Core]:
    core = build_core("sqlite", "memory", tmp_path, catalog=catalog)
    core.open()
    yield core
    core.close()


@pytest.fixture
def alpha(core: Core) -> Tenant:
    return Tenant("alpha", core.tenants.create("alpha")[1])


@pytest.fixture
def beta(core: Core) -> Tenant:
    return Tenant("beta", core.tenants.create("beta")[1])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(operator_key=OPERATOR_KEY, data_dir=tmp_path)


@pytest.fixture
async def server(core: Core, settings: Settings) -> AsyncIterator[grpc.aio.Server]:
    srv = await start_grpc_server(core, 0, settings=settings)
    yield srv
    await stop_grpc_server(srv, 0.5)
    await close_services(core)


@pytest.fixture
async def channel(server: grpc.aio.Server) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bound_port(server)}") as ch:
        yield ch
