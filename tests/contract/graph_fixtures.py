"""Fixtures for the `GraphStore` contract: an ``oxigraph serve`` on loopback and the stores.

Import the fixtures into a test module (``from tests.contract.graph_fixtures import ...``).
The server is started once per test session from the ``oxigraph`` CLI of the PyPI
``oxigraph`` package, on a free port of 127.0.0.1, and stopped at the end. Tests share it,
so each test gets fresh tenant names (`tenant_names`) instead of a fresh server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from server.core.graph import GraphStore, OxigraphGraphStore, QueryLimits, SparqlHttpGraphStore

__all__ = [
    "CONTRACT_LIMITS",
    "GRAPH_STORE_KINDS",
    "graph_store",
    "oxigraph_server",
    "oxigraph_url",
    "tenant_names",
]

GRAPH_STORE_KINDS = ("embedded", "http", "http-update-only")
"""pyoxigraph on disk; ``oxigraph serve`` with the Graph Store Protocol; and without it."""

CONTRACT_LIMITS = QueryLimits(timeout_s=30.0, max_rows=5_000_000)
"""Generous store limits, so that tests can set tighter ones per query."""

SERVER_TIMEOUT_S = 5
"""``oxigraph serve --timeout-s``: bounds what a timed-out test query leaves running."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _oxigraph_cli() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1).is_success:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an ``oxigraph serve`` running for this test session."""
    cli = _oxigraph_cli()
    if cli is None:
        pytest.skip("the oxigraph CLI (PyPI package 'oxigraph') is not installed")
    location = tmp_path_factory.mktemp("oxigraph-serve")
    for _attempt in range(3):  # the port is free when chosen, but another may grab it
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [
                cli,
                "serve",
                "--location",
                str(location),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout-s",
                str(SERVER_TIMEOUT_S),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if _wait_until_up(url, proc, time.monotonic() + 30):
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail("oxigraph serve did not start")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def oxigraph_url(oxigraph_server: str) -> str:
    """The shared server's base URL (function-scoped alias)."""
    return oxigraph_server


@pytest.fixture(params=GRAPH_STORE_KINDS)
def graph_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An open store of each kind, with `CONTRACT_LIMITS`."""
    store: GraphStore
    if request.param == "embedded":
        store = OxigraphGraphStore(tmp_path / "graph", limits=CONTRACT_LIMITS)
    else:
        url = request.getfixturevalue("oxigraph_server")
        if request.param == "http":
            store = SparqlHttpGraphStore.for_oxigraph(url, limits=CONTRACT_LIMITS, load_batch=3_000)
        else:
            store = SparqlHttpGraphStore(
                f"{url}/query", f"{url}/update", None, limits=CONTRACT_LIMITS, load_batch=3_000
            )
    with store:
        yield store


@pytest.fixture
def tenant_names(graph_store: GraphStore) -> Iterator[Callable[[], str]]:
    """A factory of tenant names unique to this test; their graphs are cleared afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"t{uuid.uuid4().hex[:12]}"
        made.append(name)
        return name

    yield make
    for name in made:
        graph_store.clear(name)
