"""`Core.runs_inline`: which point calls a face may run on its event loop.

Only calls that cannot wait long qualify: an embedded store, a fast validator and, for a
write, no other write of this process holding the store's writer at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.core.bootstrap import build_core
from server.core.catalog import ModelCatalog
from server.core.graph.oxigraph import OxigraphGraphStore
from server.core.graph.sparql_http import SparqlHttpGraphStore
from server.core.service import Core, CoreSettings
from server.core.stores.postgres import PostgresTwinStore
from server.core.stores.sqlite import SqliteTwinStore
from server.core.validation.compiled import CompiledValidator
from tests.server.writer import writer_held


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


@pytest.fixture
def core(tmp_path: Path, catalog: ModelCatalog) -> Iterator[Core]:
    core = build_core("sqlite", "memory", tmp_path, catalog=catalog)
    core.open()
    try:
        yield core
    finally:
        core.close()


def test_embedded_store_runs_reads_and_idle_writes_inline(core: Core) -> None:
    assert core.runs_inline(write=False)
    assert core.runs_inline(write=True)


def test_write_hops_while_another_write_holds_the_writer(core: Core) -> None:
    with writer_held(core.store):
        assert core.store.writer_busy()
        assert not core.runs_inline(write=True)
        # A WAL reader never waits for the writer: reads stay inline.
        assert core.runs_inline(write=False)


def test_writer_is_free_again_after_the_other_write(core: Core) -> None:
    store = core.store
    assert isinstance(store, SqliteTwinStore)
    with store._transaction():
        assert store.writer_busy()
    assert not store.writer_busy()
    assert core.runs_inline(write=True)


def test_pyshacl_validation_keeps_writes_off_the_loop(
    tmp_path: Path, catalog: ModelCatalog
) -> None:
    core = build_core("sqlite", "memory", tmp_path, catalog=catalog, validation="shacl")
    assert not core.validator.fast
    assert not core.runs_inline(write=True)
    assert core.runs_inline(write=False)


def test_network_store_never_runs_inline(catalog: ModelCatalog) -> None:
    # Not opened: the decision depends on the kind of store, not on a connection.
    store = PostgresTwinStore("postgresql://postgres@127.0.0.1:5432/postgres")
    core = Core(store, OxigraphGraphStore(None), _v(catalog))
    assert not core.runs_inline(write=False)
    assert not core.runs_inline(write=True)


def test_inline_projection_to_a_remote_graph_keeps_writes_off_the_loop(
    tmp_path: Path, catalog: ModelCatalog
) -> None:
    graph = SparqlHttpGraphStore("http://127.0.0.1:9/query", "http://127.0.0.1:9/update")
    inline = Core(
        SqliteTwinStore(tmp_path / "a.db"), graph, _v(catalog), CoreSettings(projection="inline")
    )
    assert inline.runs_inline(write=False)
    assert not inline.runs_inline(write=True)
    # In the background mode the writer never touches the graph.
    background = Core(SqliteTwinStore(tmp_path / "b.db"), graph, _v(catalog))
    assert background.runs_inline(write=True)


def _v(catalog: ModelCatalog) -> CompiledValidator:
    return CompiledValidator(catalog)
