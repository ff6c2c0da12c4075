"""The embedded store's own behaviour: persistence, lifecycle, and the factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal

from server.core.graph import (
    GraphStoreUnavailable,
    GraphTermInvalid,
    OxigraphGraphStore,
    QueryLimits,
    SparqlHttpGraphStore,
    SparqlQueryTooLarge,
    open_graph_store,
)
from server.core.graph import oxigraph as oxigraph_module
from server.modeling.vocab import key_iri, twin_iri


def _triples(tenant: str, n: int) -> list[tuple]:
    node = twin_iri(tenant, "ns:x")
    return [(node, key_iri(f"k{i}"), Literal(i)) for i in range(n)]


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    with OxigraphGraphStore(tmp_path / "g") as store:
        store.apply("acme", [], _triples("acme", 3))
        store.load("beta", _triples("beta", 5))
    with OxigraphGraphStore(tmp_path / "g") as store:
        assert store.count("acme") == 3
        assert store.count("beta") == 5
        assert store.tenants() == ["acme", "beta"]


def test_open_and_close_are_idempotent_and_a_closed_store_refuses_work() -> None:
    store = OxigraphGraphStore()
    store.open()
    store.open()
    store.close()
    store.close()
    with pytest.raises(GraphStoreUnavailable):
        store.count("acme")


def test_emptied_graphs_are_not_listed_as_tenants() -> None:
    with OxigraphGraphStore() as store:
        triples = _triples("acme", 2)
        store.apply("acme", [], triples)
        store.apply("acme", triples, [])
        assert store.tenants() == []


def test_per_tenant_limits_cap_the_caller() -> None:
    small = QueryLimits(timeout_s=5, max_rows=2)
    with OxigraphGraphStore(limits=QueryLimits(max_rows=100), tenant_limits={"acme": small}) as s:
        s.apply("acme", [], _triples("acme", 3))
        s.apply("beta", [], _triples("beta", 3))
        assert s.limits("acme") is small
        assert s.query("beta", "SELECT * { ?s ?p ?o }", max_rows=1000).rows == 3
        with pytest.raises(SparqlQueryTooLarge, match="more than 2 rows"):
            s.query("acme", "SELECT * { ?s ?p ?o }", max_rows=1000)


@pytest.mark.parametrize("bad", [{"timeout_s": 0}, {"max_rows": -1}, {"max_query_length": 0}])
def test_limits_reject_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError):
        QueryLimits(**bad)


def test_factory_embedded_in_the_data_dir(tmp_path: Path) -> None:
    with open_graph_store("embedded", data_dir=tmp_path) as store:
        assert isinstance(store, OxigraphGraphStore)
        assert store.path == tmp_path / "graph"
        store.apply("acme", [], _triples("acme", 1))
    assert (tmp_path / "graph").is_dir()


def test_factory_memory_and_paths(tmp_path: Path) -> None:
    with open_graph_store("memory", data_dir=tmp_path) as store:
        assert isinstance(store, OxigraphGraphStore) and store.path is None
    with open_graph_store() as store:
        assert isinstance(store, OxigraphGraphStore) and store.path is None
    with open_graph_store(tmp_path / "elsewhere") as store:
        assert isinstance(store, OxigraphGraphStore)
        assert store.path == tmp_path / "elsewhere"


def test_factory_http_urls() -> None:
    with open_graph_store("http://127.0.0.1:7878/") as store:
        assert isinstance(store, SparqlHttpGraphStore)
        assert (store.query_url, store.update_url, store.store_url) == (
            "http://127.0.0.1:7878/query",
            "http://127.0.0.1:7878/update",
            "http://127.0.0.1:7878/store",
        )
    with open_graph_store(
        "https://fuseki.example/ds",
        query_url="https://fuseki.example/ds/sparql",
        update_url="https://fuseki.example/ds/update",
        store_url="",
    ) as store:
        assert isinstance(store, SparqlHttpGraphStore)
        assert store.query_url.endswith("/ds/sparql")
        assert store.store_url is None


def test_large_loads_use_the_bulk_loader_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oxigraph_module, "LOAD_CHUNK", 1000)
    with OxigraphGraphStore(tmp_path / "g") as store:
        assert store.load("acme", _triples("acme", 3500)) == 3500
        assert store.count("acme") == 3500
        assert store.load("acme", _triples("acme", 10)) == 10  # already there
        assert store.count("acme") == 3500
        # Not atomic past one chunk: whole chunks before a bad triple stay loaded.
        bad = [*_triples("beta", 2500), ("urn:not-a-term", key_iri("p"), Literal(1))]
        with pytest.raises(GraphTermInvalid):
            store.load("beta", bad)
        assert store.count("beta") == 2000
