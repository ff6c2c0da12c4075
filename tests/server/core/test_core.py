"""The Core end to end on the embedded stores: documents, graph, validation, crash repair."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.core import errors
from server.core.batch import RelationshipUpsert, TwinUpsert
from server.core.bootstrap import build_core
from server.core.catalog import ModelCatalog
from server.core.context import Caller
from server.core.service import Core
from server.core.stores.sqlite import SqliteTwinStore

ROOT = Path(__file__).resolve().parents[3]
OBSERVES = "https://w3id.org/ndtwin/rel/observes"


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


@pytest.fixture
def core(tmp_path: Path, catalog: ModelCatalog) -> Iterator[Core]:
    c = build_core(data_dir=tmp_path, catalog=catalog)
    c.open()
    yield c
    c.close()


@pytest.fixture
def demo(core: Core) -> Caller:
    return core.tenants.authenticate(core.tenants.create("demo")[1])


def _cell(catalog: ModelCatalog, pci: int = 7) -> dict:
    body = catalog.by_name("LteCell").skeleton()  # type: ignore[union-attr]
    body["attributes"]["pci"] = pci
    return body


def _rows(core: Core, caller: Caller, query: str) -> list[dict]:
    result = core.query(caller, query, "application/sparql-results+json")
    return json.loads(result.body)["results"]["bindings"]


def test_graph_follows_writes(core: Core, demo: Caller, catalog: ModelCatalog) -> None:
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog, 7))
    ask = "SELECT ?pci WHERE { ?c <https://w3id.org/ndtwin/key/pci> ?pci }"
    assert [r["pci"]["value"] for r in _rows(core, demo, ask)] == ["7"]
    core.twins.put(demo, "campus:cell-1", "/attributes/pci", 9)
    assert [r["pci"]["value"] for r in _rows(core, demo, ask)] == ["9"]
    core.twins.delete(demo, "campus:cell-1")
    assert _rows(core, demo, "SELECT * WHERE { ?s ?p ?o }") == []


def test_background_projection_applies_without_a_reader(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    # The default projection runs on its own thread: the raw graph store catches up
    # with no SPARQL read to pull it, and nothing stays in the outbox.
    assert core.settings.projection == "background"
    for i in range(20):
        core.twins.put(demo, f"campus:cell-{i}", "/", _cell(catalog, i))
    deadline = time.monotonic() + 10
    while core.store.pending_outbox(100) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert core.store.pending_outbox(100) == []
    pci = "SELECT (COUNT(?c) AS ?n) WHERE { ?c <https://w3id.org/ndtwin/key/pci> ?p }"
    raw = json.loads(core.graph.query("demo", pci, "application/sparql-results+json").body)
    assert raw["results"]["bindings"][0]["n"]["value"] == "20"


def test_closing_projects_what_is_committed(tmp_path: Path, catalog: ModelCatalog) -> None:
    core = build_core(data_dir=tmp_path, catalog=catalog)
    core.open()
    demo = core.tenants.authenticate(core.tenants.create("demo")[1])
    for i in range(30):
        core.twins.put(demo, f"campus:cell-{i}", "/", _cell(catalog, i))
    core.close()
    store = SqliteTwinStore(tmp_path / "ndtwin.db")
    with store:
        assert store.pending_outbox(100) == []


def test_unconditional_writes_of_one_twin_from_many_threads_all_succeed(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    # Without a precondition a lost race is retried, never answered with 412.
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog, 1))
    failures: list[BaseException] = []

    def writer(k: int) -> None:
        for i in range(15):
            try:
                core.twins.put(demo, "campus:cell-1", "/attributes/pci", (k * 15 + i) % 500)
            except BaseException as exc:  # collected for the assertion below
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    record = core.twins.get_record(demo, "campus:cell-1")
    # Every write that changed the value made a revision; none was lost or refused.
    assert record.revision >= 2 and core.last_seq(demo) == record.revision


def test_invalid_write_leaves_no_trace(core: Core, demo: Caller, catalog: ModelCatalog) -> None:
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog, 7))
    before = core.fresh_graph().count(demo.tenant), core.last_seq(demo)
    with pytest.raises(errors.PayloadValidationError) as caught:
        core.twins.put(demo, "campus:cell-1", "/attributes/pci", 504)  # LTE PCI is 0..503
    detail = caught.value.details[0]
    assert (detail.path, detail.value) == ("/attributes/pci", 504)
    assert (core.fresh_graph().count(demo.tenant), core.last_seq(demo)) == before
    assert core.twins.retrieve(demo, "campus:cell-1", "/attributes/pci")[0] == 7


def test_unknown_model_in_our_namespace_is_rejected(core: Core, demo: Caller) -> None:
    with pytest.raises(errors.PayloadValidationError):
        core.twins.put(
            demo,
            "campus:x",
            "/",
            {"definition": "https://w3id.org/ndtwin/tm/cellular/LteCel.tm.jsonld"},
        )


def test_relationships_need_both_twins_and_cascade(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog))
    observation = catalog.by_name("Observation").skeleton()["attributes"]  # type: ignore
    with pytest.raises(errors.ThingNotFound):
        core.relationships.put(
            demo,
            "r1",
            {
                "source": "campus:phone-1",
                "target": "campus:cell-1",
                "type": "observes",
                "properties": observation,
            },
        )
    core.twins.put(demo, "campus:phone-1", "/", catalog.by_name("EndDevice").skeleton())  # type: ignore
    record, created = core.relationships.put(
        demo,
        "r1",
        {
            "source": "campus:phone-1",
            "target": "campus:cell-1",
            "type": "observes",
            "properties": observation,
        },
    )
    assert created and record.revision == 1
    edges = _rows(core, demo, f"SELECT ?d ?c WHERE {{ ?d <{OBSERVES}> ?c }}")
    assert [
        (e["d"]["value"].rsplit(":", 1)[1], e["c"]["value"].rsplit(":", 1)[1]) for e in edges
    ] == [("phone-1", "cell-1")]
    core.twins.delete(demo, "campus:cell-1")
    with pytest.raises(errors.RelationshipNotFound):
        core.relationships.get(demo, "r1")
    assert _rows(core, demo, f"SELECT ?d WHERE {{ ?d <{OBSERVES}> ?c }}") == []


def test_relationship_properties_are_validated(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog))
    core.twins.put(demo, "campus:phone-1", "/", catalog.by_name("EndDevice").skeleton())  # type: ignore
    observation = dict(catalog.by_name("Observation").skeleton()["attributes"])  # type: ignore
    observation["level"] = 9  # the 0-4 signal level
    with pytest.raises(errors.PayloadValidationError):
        core.relationships.put(
            demo,
            "r1",
            {
                "source": "campus:phone-1",
                "target": "campus:cell-1",
                "type": "observes",
                "properties": observation,
            },
        )


def test_batch_is_atomic(core: Core, demo: Caller, catalog: ModelCatalog) -> None:
    good = TwinUpsert("campus:cell-1", _cell(catalog, 1))
    bad = TwinUpsert("campus:cell-2", _cell(catalog, 999))
    with pytest.raises(errors.PayloadValidationError):
        core.batch.upsert(demo, twins=[good, bad])
    assert core.twins.count(demo) == 0 and core.fresh_graph().count(demo.tenant) == 0
    result = core.batch.upsert(demo, twins=[good, TwinUpsert("campus:cell-2", _cell(catalog, 2))])
    assert len(result.events) == 2
    again = core.batch.upsert(demo, twins=[good])  # redelivery changes nothing
    assert again.events == []


def test_batch_relationship_to_twin_created_in_same_batch(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    observation = catalog.by_name("Observation").skeleton()["attributes"]  # type: ignore
    result = core.batch.upsert(
        demo,
        twins=[
            TwinUpsert("campus:cell-1", _cell(catalog)),
            TwinUpsert("campus:phone-1", catalog.by_name("EndDevice").skeleton()),
        ],  # type: ignore
        relationships=[
            RelationshipUpsert("r1", "campus:phone-1", "campus:cell-1", "observes", observation)
        ],
    )
    assert [e.kind for e in result.events] == ["twin", "twin", "relationship"]


def test_sparql_sees_only_the_callers_tenant(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    other = core.tenants.authenticate(core.tenants.create("other")[1])
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog, 1))
    core.twins.put(other, "campus:cell-9", "/", _cell(catalog, 9))
    query = "SELECT ?s WHERE { ?s <https://w3id.org/ndtwin/key/pci> ?p }"
    assert [r["s"]["value"] for r in _rows(core, other, query)] == [
        "urn:ndtwin:other:twin:campus:cell-9"
    ]
    core.tenants.delete("other")
    assert core.fresh_graph().count("other") == 0 and core.fresh_graph().count("demo") > 0


def test_rebuild_recreates_the_same_graph(core: Core, demo: Caller, catalog: ModelCatalog) -> None:
    for i in range(5):
        core.twins.put(demo, f"campus:cell-{i}", "/", _cell(catalog, i))
    dump = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    before = _rows(core, demo, dump)
    core.graph.clear("demo")
    assert _rows(core, demo, dump) == []
    core.rebuild_graph()
    assert _rows(core, demo, dump) == before


WRITER = textwrap.dedent("""
    import sys, time
    from server.core.bootstrap import build_core
    from server.core.service import CoreSettings
    # Manual: every committed write stays in the outbox, as it would if the process
    # died between the document commit and the graph commit. Inline on: the graph is
    # updated and the entries acknowledged, but the newest rows are only deleted with a
    # later commit, so the kill leaves applied entries for the start-up replay.
    projection = "inline" if sys.argv[2] == "inline" else "manual"
    core = build_core(data_dir=sys.argv[1], validation="shacl",
                      settings=CoreSettings(projection=projection))
    core.open()
    caller = core.tenants.authenticate(core.tenants.create("demo")[1])
    body = core.catalog.by_name("LteCell").skeleton()
    for i in range(20):
        body["attributes"]["pci"] = i
        core.twins.put(caller, f"campus:cell-{i}", "/", body)
    for i in range(5):
        core.twins.put(caller, f"campus:cell-{i}", "/attributes/pci", 100 + i)
    core.twins.put(caller, "campus:cell-4", "/attributes/pci", 204)
    print("committed", flush=True)
    time.sleep(60)
""")


@pytest.mark.slow
@pytest.mark.parametrize("projection", ["inline", "deferred"])
def test_crash_between_document_and_graph_commit_is_repaired(
    tmp_path: Path, catalog: ModelCatalog, projection: str
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), projection],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "committed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # The kill left entries to replay in both cases (applied ones when inline).
    store = SqliteTwinStore(tmp_path / "ndtwin.db")
    with store:
        pending = store.pending_outbox(1000)
    assert len(pending) == (26 if projection == "deferred" else 1)
    core = build_core(data_dir=tmp_path, catalog=catalog, validation="shacl")
    core.open()  # start-up applies the pending outbox entries
    try:
        caller = Caller(core.tenants.get("demo").tenant)
        rows = _rows(
            core, caller, "SELECT ?pci WHERE { ?s <https://w3id.org/ndtwin/key/pci> ?pci }"
        )
        assert sorted(int(r["pci"]["value"]) for r in rows) == [
            *range(5, 20),
            100,
            101,
            102,
            103,
            204,
        ]
        assert core.store.pending_outbox() == []
        # Exactly the graph a rebuild from the documents makes: nothing stale is left.
        dump = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
        repaired = _rows(core, caller, dump)
        core.rebuild_graph()
        assert _rows(core, caller, dump) == repaired
    finally:
        core.close()


def test_retention_prunes_history_at_start_but_keeps_twins(
    tmp_path: Path, catalog: ModelCatalog
) -> None:
    from datetime import UTC, datetime, timedelta

    from server.core.service import CoreSettings

    core = build_core(data_dir=tmp_path, catalog=catalog)
    core.open()
    caller = core.tenants.authenticate(core.tenants.create("demo")[1])
    for pci in range(3):
        core.twins.put(caller, "campus:cell-1", "/", _cell(catalog, pci))
    window = (datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(hours=1))
    assert len(core.history(caller, "campus:cell-1", "/attributes/pci", *window)) == 3
    core.close()

    core = build_core(
        data_dir=tmp_path, catalog=catalog, settings=CoreSettings(retention_seconds=0.0)
    )
    core.open()
    try:
        assert core.history(caller, "campus:cell-1", "/attributes/pci", *window) == []
        assert core.twins.retrieve(caller, "campus:cell-1", "/attributes/pci")[0] == 2
    finally:
        core.close()


def test_relationship_delete_with_expected_revision(
    core: Core, demo: Caller, catalog: ModelCatalog
) -> None:
    core.twins.put(demo, "campus:cell-1", "/", _cell(catalog))
    core.twins.put(demo, "campus:phone-1", "/", catalog.by_name("EndDevice").skeleton())  # type: ignore
    observation = catalog.by_name("Observation").skeleton()["attributes"]  # type: ignore
    core.relationships.put(
        demo,
        "r1",
        {
            "source": "campus:phone-1",
            "target": "campus:cell-1",
            "type": "observes",
            "properties": observation,
        },
    )
    with pytest.raises(errors.PreconditionFailed):
        core.relationships.delete(demo, "r1", expected_revision=2)
    core.relationships.delete(demo, "r1", expected_revision=1)
    with pytest.raises(errors.RelationshipNotFound):
        core.relationships.get(demo, "r1")
