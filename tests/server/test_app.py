"""The app assembler: lifespan opens/closes the core and runs extension hooks in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from server.app import create_app
from server.core.bootstrap import build_core
from server.core.catalog import ModelCatalog
from server.settings import Settings

CALLS: list[str] = []


def setup(app: FastAPI) -> None:
    """An extension as the gRPC server or an MQTT adapter would be one."""
    CALLS.append("setup")

    async def start_a(app: FastAPI) -> None:
        assert app.state.core.tenants.list() == []  # the core is open by now
        CALLS.append("start a")

    async def start_b(app: FastAPI) -> None:
        CALLS.append("start b")

    async def stop_a(app: FastAPI) -> None:
        CALLS.append("stop a")

    async def stop_b(app: FastAPI) -> None:
        CALLS.append("stop b")
        raise RuntimeError("a failing shutdown step does not stop the others")

    app.state.startup += [start_a, start_b]
    app.state.shutdown += [stop_a, stop_b]


@pytest.mark.anyio
async def test_lifespan_runs_hooks_and_manages_the_core(tmp_path: Path) -> None:
    CALLS.clear()
    core = build_core("sqlite", "memory", tmp_path, catalog=ModelCatalog.load())
    app = create_app(
        core,
        Settings(data_dir=tmp_path),
        native_api=False,
        extensions=("tests.server.test_app:setup", "no.such.module:setup"),
    )
    assert CALLS == ["setup"]
    async with app.router.lifespan_context(app):
        assert CALLS == ["setup", "start a", "start b"]
        core.tenants.create("alpha")
    assert CALLS[-2:] == ["stop b", "stop a"]
    with pytest.raises(Exception):  # noqa: B017 - closed: any store error will do
        core.tenants.list()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
