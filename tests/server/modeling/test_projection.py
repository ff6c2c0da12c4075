"""Twin and relationship projection into RDF (docs/rdf.md)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import RDF, XSD, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from server.modeling.projection import (
    ProjectionError,
    json_literal,
    project_relationship,
    project_relationship_nquads,
    project_relationship_quads,
    project_twin,
    project_twin_nquads,
    project_twin_quads,
)
from server.modeling.vocab import KEY, NDT, SIZE

CELL = "https://w3id.org/ndtwin/models/cellular#/sdfObject/LteCell"
TWIN = URIRef("urn:ndtwin:acme:twin:org.example:phone-1")


def u(suffix: str) -> URIRef:
    return URIRef(str(TWIN) + suffix)


def test_worked_example_exact_triples() -> None:
    # The example of docs/rdf.md, triple for triple.
    thing = {
        "thingId": "org.example:phone-1",
        "policyId": "org.example:policy",
        "definition": "https://w3id.org/ndtwin/models/phone#/sdfThing/Phone",
        "_revision": 7,
        "_modified": "2026-11-21T10:00:00Z",
        "attributes": {"model": "Pixel 9", "location": {"lat": 48.1, "floor": 2}, "nickname": None},
        "features": {
            "serving": {
                "definition": [CELL],
                "properties": {"rsrp": -95.5, "pci": 301.0, "bands": [3, 20, 3], "ca": True},
                "desiredProperties": {"pci": 302},
            },
        },
    }
    feature = u("/features/serving")
    expected = {
        (TWIN, RDF.type, NDT.Twin),
        (TWIN, RDF.type, URIRef("https://w3id.org/ndtwin/models/phone#/sdfThing/Phone")),
        (TWIN, NDT.thingId, Literal("org.example:phone-1")),
        (TWIN, NDT.policyId, Literal("org.example:policy")),
        (TWIN, NDT.definition, Literal("https://w3id.org/ndtwin/models/phone#/sdfThing/Phone")),
        (TWIN, NDT.revision, Literal(7)),
        (TWIN, NDT.modified, Literal("2026-11-21T10:00:00Z", datatype=XSD.dateTime)),
        (TWIN, KEY.model, Literal("Pixel 9")),
        (TWIN, KEY.location, u("/attributes/location")),
        (u("/attributes/location"), KEY.lat, Literal(48.1)),
        (u("/attributes/location"), KEY.floor, Literal(2)),
        (TWIN, KEY.nickname, NDT.null),
        (TWIN, NDT.feature, feature),
        (feature, RDF.type, NDT.Feature),
        (feature, RDF.type, URIRef(CELL)),
        (feature, NDT.featureId, Literal("serving")),
        (feature, NDT.definition, Literal(CELL)),
        (feature, KEY.rsrp, Literal(-95.5)),
        (feature, KEY.pci, Literal(301)),  # 301.0 is an integer (JSON Schema §6.1.1)
        (feature, SIZE.bands, Literal(3)),  # the length, duplicates included
        (feature, KEY.bands, Literal(3)),
        (feature, KEY.bands, Literal(20)),
        (feature, KEY.ca, Literal(True)),
        (feature, NDT.desired, u("/features/serving/desiredProperties")),
        (u("/features/serving/desiredProperties"), KEY.pci, Literal(302)),
    }
    assert set(project_twin("acme", thing)) == expected


def test_null_absent_empty_and_scalar_stay_apart() -> None:
    def values(attributes: dict[str, object]) -> set[tuple[object, object]]:
        triples = project_twin("t", {"thingId": "n:x", "attributes": attributes})
        return {(p, o) for s, p, o in triples if p in (KEY.v, SIZE.v)}

    assert values({}) == set()
    assert values({"v": None}) == {(KEY.v, NDT.null)}
    assert values({"v": []}) == {(SIZE.v, Literal(0))}
    assert values({"v": [5]}) == {(SIZE.v, Literal(1)), (KEY.v, Literal(5))}
    assert values({"v": 5}) == {(KEY.v, Literal(5))}
    assert values({"v": [None]}) == {(SIZE.v, Literal(1)), (KEY.v, NDT.null)}


def test_objects_in_arrays_and_nested_arrays_get_indexed_nodes() -> None:
    triples = set(
        project_twin(
            "t",
            {
                "thingId": "n:x",
                "attributes": {"points": [{"x": 1}, {"x": 1}], "grid": [[1, 2], []]},
            },
        )
    )
    twin = URIRef("urn:ndtwin:t:twin:n:x")
    p0, p1 = URIRef(f"{twin}/attributes/points/0"), URIRef(f"{twin}/attributes/points/1")
    g0, g1 = URIRef(f"{twin}/attributes/grid/0"), URIRef(f"{twin}/attributes/grid/1")
    assert {
        (twin, KEY.points, p0),
        (twin, KEY.points, p1),
        (p0, KEY.x, Literal(1)),
        (p1, KEY.x, Literal(1)),
        (twin, SIZE.points, Literal(2)),
    } <= triples
    assert {
        (twin, KEY.grid, g0),
        (g0, RDF.type, NDT.Array),
        (g0, NDT.size, Literal(2)),
        (g0, NDT.item, Literal(1)),
        (g0, NDT.item, Literal(2)),
        (g1, RDF.type, NDT.Array),
        (g1, NDT.size, Literal(0)),
    } <= triples


def test_literals_follow_json_types() -> None:
    assert json_literal(True).datatype == XSD.boolean
    assert json_literal(3).datatype == XSD.integer
    assert json_literal(3.0) == Literal(3)
    assert json_literal(2.5).datatype == XSD.double
    assert json_literal(10**30) == Literal(10**30)
    assert json_literal("x") == Literal("x")


def test_only_valid_timestamps_become_datetimes() -> None:
    triples = set(
        project_twin(
            "t",
            {"thingId": "n:x", "_created": "yesterday", "_modified": "2026-01-02T03:04:05.5+01:00"},
        )
    )
    twin = URIRef("urn:ndtwin:t:twin:n:x")
    assert (twin, NDT.created, Literal("yesterday")) in triples
    assert (
        twin,
        NDT.modified,
        Literal("2026-01-02T03:04:05.5+01:00", datatype=XSD.dateTime),
    ) in triples


def test_definitions_that_are_not_global_names_give_no_class() -> None:
    triples = set(
        project_twin(
            "t",
            {
                "thingId": "n:x",
                "definition": "org.example:m:1.0",
                "features": {"f": {"definition": ["org.example:f:1"]}},
            },
        )
    )
    types = {o for s, p, o in triples if p == RDF.type}
    assert types == {NDT.Twin, NDT.Feature}
    # A caller-supplied mapping (e.g. Thing Model URLs) types them.
    mapped = set(
        project_twin(
            "t",
            {"thingId": "n:x", "definition": "org.example:m:1.0"},
            class_of=lambda d: "urn:cls:m" if d.endswith(":1.0") else None,
        )
    )
    assert (URIRef("urn:ndtwin:t:twin:n:x"), RDF.type, URIRef("urn:cls:m")) in mapped


def test_every_node_lies_under_the_twin_iri() -> None:
    thing = {
        "thingId": "n:x",
        "attributes": {"a": {"b": [{"c": [1, [2]]}]}},
        "features": {"f": {"properties": {"p": {"q": 1}}, "desiredProperties": {"p": {}}}},
    }
    twin = "urn:ndtwin:t:twin:n:x"
    for s, _, o in project_twin("t", thing):
        assert str(s) == twin or str(s).startswith(twin + "/")
        if isinstance(o, URIRef) and str(o).startswith("urn:ndtwin:"):
            assert str(o).startswith(twin + "/")


@pytest.mark.parametrize(
    "thing",
    [
        {"attributes": {}},
        {"thingId": ""},
        {"thingId": "n:x", "attributes": []},
        {"thingId": "n:x", "attributes": None},
        {"thingId": "n:x", "features": {"f": 3}},
        {"thingId": "n:x", "features": {"f": {"properties": "x"}}},
        {"thingId": "n:x", "attributes": {"a": {1, 2}}},
    ],
)
def test_malformed_twins_are_refused(thing: dict[str, object]) -> None:
    with pytest.raises(ProjectionError):
        project_twin("t", thing)


def _as_graph(triples: object) -> Graph:
    graph = Graph()
    for triple in triples:  # type: ignore[attr-defined]
        graph.add(triple)
    return graph


def test_three_forms_hold_the_same_triples() -> None:
    thing = {
        "thingId": "n:x",
        "definition": CELL,
        "_revision": 3,
        "_created": "2026-01-01T00:00:00Z",
        "attributes": {
            "s": 'quote " backslash \\ newline \n tab \t ctrl \x01 é',
            "f": 1e-05,
            "big": 1e20,
            "neg": -0.0,
            "list": [1, "a", None, [True]],
            "o": {"k": {"j": False}},
        },
        "features": {"a/b": {"definition": [CELL], "properties": {"x": 1.5}}},
    }
    reference = _as_graph(project_twin("t", thing))
    text = project_twin_nquads("t", thing)
    dataset = Dataset()
    dataset.parse(data=text, format="nquads")
    graphs = {str(q[3]) for q in dataset.quads((None, None, None, None))}
    assert graphs == {"urn:ndtwin:tenant:t"}
    parsed = _as_graph((s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None)))
    assert isomorphic(reference, parsed)
    quads = project_twin_quads("t", thing)
    store = ox.Store()
    store.extend(quads)
    from_text = ox.Store()
    from_text.load(text, format=ox.RdfFormat.N_QUADS)
    assert set(store) == set(from_text)
    assert len(quads) == len(reference)


def test_projection_is_deterministic() -> None:
    thing = {"thingId": "n:x", "attributes": {"b": [3, 1], "a": {"z": None}}}
    assert project_twin_nquads("t", thing) == project_twin_nquads("t", dict(thing))
    assert project_twin("t", thing) == project_twin("t", thing)


def test_relationship_is_an_edge_and_a_node() -> None:
    rel = {
        "id": "obs-1",
        "source": "org.example:phone-1",
        "target": "org.example:cell-9",
        "type": "observes",
        "definition": "https://w3id.org/ndtwin/models/observation#/sdfObject/Observation",
        "properties": {"rsrp": -101, "level": 2},
        "_created": "2026-11-21T10:00:00Z",
    }
    triples = set(project_relationship("acme", rel))
    src = URIRef("urn:ndtwin:acme:twin:org.example:phone-1")
    tgt = URIRef("urn:ndtwin:acme:twin:org.example:cell-9")
    node = URIRef("urn:ndtwin:acme:relationship:obs-1")
    edge = URIRef("https://w3id.org/ndtwin/rel/observes")
    assert {
        (src, edge, tgt),
        (node, RDF.type, NDT.Relationship),
        (node, RDF.type, URIRef(rel["definition"])),
        (node, NDT.source, src),
        (node, NDT.target, tgt),
        (node, NDT.relationshipType, edge),
        (node, NDT.relationshipId, Literal("obs-1")),
        (node, KEY.rsrp, Literal(-101)),
        (node, KEY.level, Literal(2)),
        (node, NDT.created, Literal("2026-11-21T10:00:00Z", datatype=XSD.dateTime)),
    } <= triples
    store = ox.Store()
    store.extend(project_relationship_quads("acme", rel))
    reference = ox.Store()
    reference.load(project_relationship_nquads("acme", rel), format=ox.RdfFormat.N_QUADS)
    assert set(store) == set(reference) and len(store) == len(triples)
    with pytest.raises(ProjectionError):
        project_relationship("acme", {**rel, "target": None})


def test_sparql_sees_the_projection() -> None:
    store = ox.Store()
    for n, rsrp in enumerate((-80, -110)):
        store.extend(
            project_twin_quads(
                "acme", {"thingId": f"n:cell-{n}", "definition": CELL, "attributes": {"rsrp": rsrp}}
            )
        )
    query = (
        "PREFIX ndt: <https://w3id.org/ndtwin/ns#> PREFIX key: <https://w3id.org/ndtwin/key/> "
        f"SELECT ?id WHERE {{ ?t a <{CELL}> ; ndt:thingId ?id ; key:rsrp ?v FILTER(?v > -100) }}"
    )
    rows = list(store.query(query, default_graph=ox.NamedNode("urn:ndtwin:tenant:acme")))
    assert [r["id"].value for r in rows] == ["n:cell-0"]
