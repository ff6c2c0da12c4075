# ruff: noqa: F811 (fixtures imported from graph_fixtures are parameters here)
"""The `GraphStore` contract, run against every implementation.

Kinds (see `graph_fixtures.GRAPH_STORE_KINDS`): embedded pyoxigraph on disk, and
``oxigraph serve`` on loopback through the SPARQL 1.1 Protocol, with and without the Graph
Store Protocol.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import httpx
import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from server.core.graph import (
    GraphStore,
    GraphStoreUnavailable,
    GraphTermInvalid,
    OxigraphGraphStore,
    QueryForm,
    SparqlFormatNotAcceptable,
    SparqlHttpGraphStore,
    SparqlQueryForbidden,
    SparqlQueryInvalid,
    SparqlQueryTimeout,
    SparqlQueryTooLarge,
)
from server.core.graph.terms import skolem_iri
from server.modeling.vocab import key_iri, relationship_type_iri, tenant_graph, twin_iri
from tests.contract.graph_fixtures import (  # noqa: F401 (fixtures)
    graph_store,
    oxigraph_server,
    oxigraph_url,
    tenant_names,
)

TenantFactory = Callable[[], str]

NAME = key_iri("name")
RSSI = key_iri("rssi")
OBSERVES = relationship_type_iri("observes")
RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"


def triples_of(store: GraphStore, tenant: str) -> set[tuple[object, object, object]]:
    """The tenant's graph as rdflib triples, read back through the query path."""
    result = store.query(tenant, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    graph = Graph()
    graph.parse(data=result.body.decode(), format="nt")
    return set(graph)


def twin_triples(tenant: str, n: int, thing: str = "ns:device") -> list[tuple]:
    node = twin_iri(tenant, thing)
    return [(node, RSSI, Literal(-60 - i)) for i in range(n)]


# --- writes ------------------------------------------------------------------------------


def test_apply_inserts_then_applies_an_exact_diff(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    node = twin_iri(tenant, "ns:phone")
    old = [(node, NAME, Literal("phone")), (node, RSSI, Literal(-70))]
    graph_store.apply(tenant, [], old)
    assert triples_of(graph_store, tenant) == set(old)

    new = [(node, NAME, Literal("phone")), (node, RSSI, Literal(-65))]
    graph_store.apply(tenant, [old[1]], [new[1]])
    assert triples_of(graph_store, tenant) == set(new)
    assert graph_store.count(tenant) == 2


def test_deletes_go_before_inserts_and_both_are_idempotent(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    t1, t2 = twin_triples(tenant, 2)
    graph_store.apply(tenant, [t1], [t1, t2])  # t1 deleted, then inserted again
    assert triples_of(graph_store, tenant) == {t1, t2}
    graph_store.apply(tenant, [twin_triples(tenant, 3)[2]], [t2])  # absent / present
    assert triples_of(graph_store, tenant) == {t1, t2}


def test_blank_nodes_are_skolemised_so_a_later_diff_can_delete_them(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    node = twin_iri(tenant, "ns:ap")
    nested = BNode("location-0")
    graph_store.apply(tenant, [], [(node, NAME, nested), (nested, RSSI, Literal(1))])
    skolem = URIRef(skolem_iri(tenant, "location-0"))
    assert triples_of(graph_store, tenant) == {(node, NAME, skolem), (skolem, RSSI, Literal(1))}
    graph_store.apply(tenant, [(nested, RSSI, Literal(1))], [])
    assert triples_of(graph_store, tenant) == {(node, NAME, skolem)}


def test_typed_literals_are_deleted_by_value_whatever_their_lexical_form(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    """oxigraph stores XSD values canonically ("01" reads back as "1"); diffs still match."""
    tenant = tenant_names()
    node = twin_iri(tenant, "ns:x")
    odd = [
        (node, key_iri("a"), Literal("01", datatype=XSD.integer)),
        (node, key_iri("b"), Literal("2024-01-01T00:00:00+00:00", datatype=XSD.dateTime)),
    ]
    graph_store.apply(tenant, [], odd)
    assert graph_store.count(tenant) == 2
    graph_store.apply(tenant, odd, [])
    assert graph_store.count(tenant) == 0


def test_pyoxigraph_terms_are_accepted_too(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    subject = ox.NamedNode(str(twin_iri(tenant, "ns:x")))
    graph_store.apply(tenant, [], [(subject, ox.NamedNode(str(NAME)), ox.Literal("x"))])
    assert triples_of(graph_store, tenant) == {(URIRef(subject.value), NAME, Literal("x"))}


def test_apply_many_is_one_transaction_and_writes_nothing_on_an_invalid_term(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    a, b = tenant_names(), tenant_names()
    good = twin_triples(a, 3)
    bad = (URIRef("not an iri"), NAME, Literal("x"))
    with pytest.raises(GraphTermInvalid):
        graph_store.apply_many([(a, [], good), (b, [], [bad])])
    assert graph_store.count(a) == 0
    assert graph_store.count(b) == 0

    graph_store.apply_many([(a, [], good), (b, [], twin_triples(b, 2)), (a, [good[0]], [])])
    assert triples_of(graph_store, a) == set(good[1:])
    assert graph_store.count(b) == 2


@pytest.mark.parametrize(
    "triple",
    [
        (Literal("s"), NAME, Literal("o")),
        (URIRef("urn:s"), Literal("p"), Literal("o")),
        (URIRef("urn:s"), BNode("p"), Literal("o")),
        ("urn:s", NAME, Literal("o")),
        (URIRef("urn:s"), NAME, Literal("lone \ud800 surrogate")),
        (URIRef("urn:s"), NAME, URIRef("http://[::1")),
    ],
    ids=[
        "literal-subject",
        "literal-predicate",
        "bnode-predicate",
        "plain-str",
        "surrogate",
        "iri-the-engine-refuses",
    ],
)
def test_invalid_triples_are_refused_with_a_typed_error(
    graph_store: GraphStore, tenant_names: TenantFactory, triple: tuple
) -> None:
    tenant = tenant_names()
    with pytest.raises(GraphTermInvalid):
        graph_store.apply(tenant, [], [triple])
    assert graph_store.count(tenant) == 0


def test_readers_never_see_half_an_apply(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    left = twin_triples(tenant, 40, "ns:left")
    right = twin_triples(tenant, 40, "ns:right")
    graph_store.apply(tenant, [], left)
    stop = threading.Event()
    failures: list[BaseException] = []

    def flip() -> None:
        try:
            current, other = left, right
            while not stop.is_set():
                graph_store.apply(tenant, current, other)
                current, other = other, current
        except BaseException as exc:  # surfaced by the main thread
            failures.append(exc)

    writer = threading.Thread(target=flip)
    writer.start()
    try:
        seen = set()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            seen.add(graph_store.count(tenant))
    finally:
        stop.set()
        writer.join()
    assert not failures
    assert seen == {40}


def test_clear_clears_only_that_tenant(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    a, b = tenant_names(), tenant_names()
    graph_store.apply_many([(a, [], twin_triples(a, 5)), (b, [], twin_triples(b, 7))])
    graph_store.clear(a)
    assert graph_store.count(a) == 0
    assert graph_store.count(b) == 7
    graph_store.clear(a)  # clearing an empty graph is fine
    assert a not in graph_store.tenants()
    assert b in graph_store.tenants()


def test_load_adds_many_triples_in_batches(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    node = twin_iri(tenant, "ns:cell")

    def generate():  # a generator: load must not need a list
        for i in range(10_000):
            yield (node, key_iri(f"k{i % 50}"), Literal(i))

    assert graph_store.load(tenant, generate()) == 10_000
    assert graph_store.count(tenant) == 10_000
    assert graph_store.load(tenant, [(node, NAME, Literal("cell"))]) == 1
    assert graph_store.count(tenant) == 10_001


def test_load_of_an_invalid_triple_raises_typed(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    with pytest.raises(GraphTermInvalid):
        graph_store.load(tenant_names(), [(URIRef("urn:s"), NAME, object())])


# --- tenant isolation ---------------------------------------------------------------------

SECRET = "SECRET-B"
DEFAULT_MARK = "DEFAULT-GRAPH-MARK"


@pytest.fixture
def two_tenants(graph_store: GraphStore, tenant_names: TenantFactory):
    """Tenants A and B with data; B's holds markers that must never reach A's queries."""
    a, b = tenant_names(), tenant_names()
    phone_a, cell_a = twin_iri(a, "ns:phone"), twin_iri(a, "ns:cell")
    phone_b, hidden_b = twin_iri(b, "ns:phone"), twin_iri(b, "ns:hidden")
    graph_store.apply_many(
        [
            (a, [], [(phone_a, NAME, Literal("visible-a")), (phone_a, OBSERVES, cell_a)]),
            (b, [], [(phone_b, NAME, Literal(SECRET)), (phone_b, OBSERVES, hidden_b)]),
        ]
    )
    # A triple in the store's default graph, which belongs to no tenant.
    default = (ox.NamedNode("urn:default:s"), ox.NamedNode(str(NAME)), ox.Literal(DEFAULT_MARK))
    if isinstance(graph_store, OxigraphGraphStore):
        graph_store.store.add(ox.Quad(*default))
    else:
        assert isinstance(graph_store, SparqlHttpGraphStore)
        graph_store._update("INSERT DATA {{ {} {} {} }}".format(*default))
    yield a, b, phone_b, hidden_b
    if isinstance(graph_store, SparqlHttpGraphStore):
        graph_store._update("DELETE DATA {{ {} {} {} }}".format(*default))


def _assert_no_leak(body: bytes, hidden: URIRef) -> None:
    text = body.decode()
    assert SECRET not in text
    assert str(hidden) not in text
    assert DEFAULT_MARK not in text


ISOLATION_QUERIES = [
    "SELECT * WHERE { ?s ?p ?o }",
    "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * WHERE { GRAPH <{B}> { ?s ?p ?o } }",
    "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH <{B}> { ?s ?p ?o } } "
    "UNION { GRAPH ?g { ?s ?p ?o } } }",
    "SELECT * WHERE { ?s (<{P}>|!<{P}>)* ?o }",
    "SELECT * WHERE { <{BS}> (<{P}>|!<{P}>)+ ?o }",
    "SELECT * WHERE { GRAPH ?g { <{BS}> (<{P}>|!<{P}>)+ ?o } }",
    "SELECT * WHERE { BIND(<{B}> AS ?g) GRAPH ?g { ?s ?p ?o } }",
    "SELECT * WHERE { VALUES ?g { <{B}> } GRAPH ?g { ?s ?p ?o } }",
    "SELECT * WHERE { { SELECT ?s ?o WHERE { GRAPH <{B}> { ?s ?p ?o } } } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { GRAPH <{B}> { ?x ?y ?z } } }",
    "SELECT ?o WHERE { OPTIONAL { GRAPH <{B}> { <{BS}> ?p ?o } } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <{B}> { ?s ?p ?o } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "DESCRIBE <{BS}>",
    "DESCRIBE ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
]


@pytest.mark.parametrize("template", ISOLATION_QUERIES)
def test_queries_see_only_the_tenant_graph(
    graph_store: GraphStore, two_tenants: tuple, template: str
) -> None:
    a, b, phone_b, hidden_b = two_tenants
    text = (
        template.replace("{B}", str(tenant_graph(b)))
        .replace("{BS}", str(phone_b))
        .replace("{P}", str(OBSERVES))
    )
    result = graph_store.query(a, text)
    _assert_no_leak(result.body, hidden_b)
    if result.form is QueryForm.SELECT:
        # B's IRIs may come back only where the query itself names them.
        b_iris = {str(phone_b), str(hidden_b), str(tenant_graph(b))}
        for binding in json.loads(result.body)["results"]["bindings"]:
            for term in binding.values():
                assert term["value"] not in b_iris or term["value"] in text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("ASK { GRAPH <{B}> { ?s ?p ?o } }", False),
        ("ASK { GRAPH ?g { <{BS}> ?p ?o } }", False),
        ("ASK { ?s ?p '{SECRET}' }", False),
        ("ASK { GRAPH <{A}> { ?s ?p 'visible-a' } }", True),
        ("ASK { ?s ?p 'visible-a' }", True),
    ],
)
def test_ask_cannot_probe_other_graphs(
    graph_store: GraphStore, two_tenants: tuple, template: str, expected: bool
) -> None:
    a, b, phone_b, _ = two_tenants
    text = (
        template.replace("{B}", str(tenant_graph(b)))
        .replace("{A}", str(tenant_graph(a)))
        .replace("{BS}", str(phone_b))
        .replace("{SECRET}", SECRET)
    )
    assert json.loads(graph_store.query(a, text).body)["boolean"] is expected


def test_the_only_named_graph_is_the_tenant_graph(
    graph_store: GraphStore, two_tenants: tuple
) -> None:
    a = two_tenants[0]
    result = graph_store.query(a, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    values = [row["g"]["value"] for row in json.loads(result.body)["results"]["bindings"]]
    assert values == [str(tenant_graph(a))]
    count = graph_store.query(a, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert json.loads(count.body)["results"]["bindings"][0]["n"]["value"] == "2"


FORBIDDEN_QUERIES = [
    "SELECT * FROM <{B}> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <{B}> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "select * from <{B}> where { ?s ?p ?o }",
    "SELECT * FROM <{A}> WHERE { ?s ?p ?o }",
    "SELECT * WHERE { SERVICE <{URL}/query> { GRAPH <{B}> { ?s ?p ?o } } }",
    "SELECT * WHERE { SERVICE SILENT <{URL}/query> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o . \\u0053ERVICE <{URL}/query> { ?s ?p ?o } }",
    "PREFIX X: <{URL}/> SELECT * WHERE { ?s ?p ?o . serviceX:query { GRAPH <{B}> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?s ?p 1SERVICE <{URL}/query> { ?s ?p ?o } }",
    "INSERT DATA { GRAPH <{B}> { <urn:x> <urn:y> 'z' } }",
    "DELETE DATA { GRAPH <{B}> { <{BS}> <{NAME}> '{SECRET}' } }",
    "DELETE WHERE { GRAPH <{B}> { ?s ?p ?o } }",
    "INSERT { GRAPH <{A}> { ?s ?p ?o } } WHERE { GRAPH <{B}> { ?s ?p ?o } }",
    "WITH <{B}> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "LOAD <{URL}/store?graph={B}> INTO GRAPH <{A}>",
    "CLEAR GRAPH <{B}>",
    "CLEAR ALL",
    "DROP GRAPH <{B}>",
    "DROP SILENT ALL",
    "CREATE GRAPH <urn:new>",
    "ADD <{B}> TO <{A}>",
    "MOVE <{B}> TO <{A}>",
    "COPY <{B}> TO <{A}>",
    "PREFIX ex: <urn:x:> BASE <urn:y:> DROP ALL",
]


@pytest.mark.parametrize("template", FORBIDDEN_QUERIES)
def test_from_service_and_updates_are_refused(
    graph_store: GraphStore, two_tenants: tuple, oxigraph_url: str, template: str
) -> None:
    a, b, phone_b, _ = two_tenants
    text = (
        template.replace("{B}", str(tenant_graph(b)))
        .replace("{A}", str(tenant_graph(a)))
        .replace("{BS}", str(phone_b))
        .replace("{NAME}", str(NAME))
        .replace("{SECRET}", SECRET)
        .replace("{URL}", oxigraph_url)
    )
    with pytest.raises(SparqlQueryForbidden) as info:
        graph_store.query(a, text)
    assert info.value.status == 403
    assert graph_store.count(b) == 2
    assert graph_store.count(a) == 2


def test_an_update_after_a_query_is_refused_by_the_engine(
    graph_store: GraphStore, two_tenants: tuple
) -> None:
    a, b, _, _ = two_tenants
    with pytest.raises(SparqlQueryInvalid):
        graph_store.query(a, f"SELECT * WHERE {{ ?s ?p ?o }} ; DROP GRAPH <{tenant_graph(b)}>")
    assert graph_store.count(b) == 2


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM <{B}> WHERE { ?s ?p ?o }",
        "SELECT * FROM <{B}> FROM NAMED <{B}> "
        "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
        "CONSTRUCT { ?s ?p ?o } FROM <{B}> WHERE { ?s ?p ?o }",
    ],
)
def test_the_engine_lets_the_protocol_dataset_override_from(
    graph_store: GraphStore, two_tenants: tuple, template: str
) -> None:
    """Below the FROM check: the dataset alone keeps B out (SPARQL 1.1 Protocol §2.1.4)."""
    a, b, _, hidden_b = two_tenants
    text = template.replace("{B}", str(tenant_graph(b)))
    form = QueryForm.CONSTRUCT if text.startswith("CONSTRUCT") else QueryForm.SELECT
    with graph_store._evaluate(a, text, form, 10.0) as raw:
        rendered = " ".join(str(item) for item in raw)
    assert "visible-a" in rendered
    _assert_no_leak(rendered.encode(), hidden_b)


def test_service_would_leak_without_the_check(
    graph_store: GraphStore, two_tenants: tuple, oxigraph_url: str
) -> None:
    """Why SERVICE is refused: a federated call escapes the protocol dataset.

    The endpoint answering the SERVICE call (here ``oxigraph serve``, for the HTTP stores
    the very store) evaluates the inner pattern over its whole store.
    """
    a, b, phone_b, _ = two_tenants
    remote = SparqlHttpGraphStore.for_oxigraph(oxigraph_url)
    with remote:
        if not isinstance(graph_store, SparqlHttpGraphStore):
            remote.apply(b, [], [(phone_b, NAME, Literal(SECRET))])
        text = (
            f"SELECT * WHERE {{ SERVICE <{oxigraph_url}/query> "
            f"{{ GRAPH <{tenant_graph(b)}> {{ ?s ?p ?o }} }} }}"
        )
        try:
            with graph_store._evaluate(a, text, QueryForm.SELECT, 10.0) as raw:
                rendered = " ".join(str(item) for item in raw)
            assert SECRET in rendered
            with pytest.raises(SparqlQueryForbidden):
                graph_store.query(a, text)
        finally:
            if not isinstance(graph_store, SparqlHttpGraphStore):
                remote.clear(b)


# --- formats -----------------------------------------------------------------------------

TRICKY = [
    Literal("plain"),
    Literal('with "quotes", commas,\ttabs\nnewlines\r\nand \\ backslashes'),
    Literal("ünïcødé ✓ 𝄞 <tag> & amp"),
    Literal("colour", lang="en-GB"),
    Literal(42),
    Literal(3.5),
    Literal(True),
    Literal("2024-01-01T00:00:00Z", datatype=XSD.dateTime),
    URIRef("urn:ndtwin:test:target"),
]


@pytest.fixture
def tricky_tenant(graph_store: GraphStore, tenant_names: TenantFactory):
    tenant = tenant_names()
    subject = twin_iri(tenant, "ns:tricky")
    triples = [(subject, key_iri(f"k{i}"), value) for i, value in enumerate(TRICKY)]
    graph_store.apply(tenant, [], triples)
    return tenant, subject, triples


SELECT_TRICKY = (
    "SELECT ?p ?o ?missing WHERE { ?s ?p ?o OPTIONAL { ?s <urn:none> ?missing } } ORDER BY ?p"
)


def _term_from_json(term: dict) -> object:
    if term["type"] == "uri":
        return URIRef(term["value"])
    if "xml:lang" in term:
        return Literal(term["value"], lang=term["xml:lang"])
    return Literal(term["value"], datatype=URIRef(term["datatype"]) if "datatype" in term else None)


def _term_from_xml(element: ET.Element) -> object:
    if element.tag == f"{RESULTS_NS}uri":
        return URIRef(element.text or "")
    lang = element.get("{http://www.w3.org/XML/1998/namespace}lang")
    datatype = element.get("datatype")
    return Literal(element.text or "", lang=lang, datatype=URIRef(datatype) if datatype else None)


def test_select_results_parse_back_from_json(graph_store: GraphStore, tricky_tenant: tuple) -> None:
    tenant, _, triples = tricky_tenant
    result = graph_store.query(tenant, SELECT_TRICKY, "application/sparql-results+json")
    assert result.media_type == "application/sparql-results+json"
    assert result.rows == len(TRICKY)
    doc = json.loads(result.body)
    assert doc["head"]["vars"] == ["p", "o", "missing"]
    got = {(URIRef(b["p"]["value"]), _term_from_json(b["o"])) for b in doc["results"]["bindings"]}
    assert got == {(p, o) for _, p, o in triples}
    assert all("missing" not in b for b in doc["results"]["bindings"])


def test_select_results_parse_back_from_xml(graph_store: GraphStore, tricky_tenant: tuple) -> None:
    tenant, _, triples = tricky_tenant
    result = graph_store.query(tenant, SELECT_TRICKY, "application/sparql-results+xml")
    root = ET.fromstring(result.body)
    names = [v.get("name") for v in root.iter(f"{RESULTS_NS}variable")]
    assert names == ["p", "o", "missing"]
    got = set()
    for row in root.iter(f"{RESULTS_NS}result"):
        bound = {b.get("name"): _term_from_xml(b[0]) for b in row}
        assert "missing" not in bound
        got.add((bound["p"], bound["o"]))
    assert got == {(p, o) for _, p, o in triples}


def _json_rows(store: GraphStore, tenant: str) -> list[dict]:
    result = store.query(tenant, SELECT_TRICKY, "application/sparql-results+json")
    rows: list[dict] = json.loads(result.body)["results"]["bindings"]
    return rows


def test_select_results_parse_back_from_csv(graph_store: GraphStore, tricky_tenant: tuple) -> None:
    """CSV keeps lexical forms only (CSV/TSV §3.2); they must match the JSON result's."""
    tenant = tricky_tenant[0]
    result = graph_store.query(tenant, SELECT_TRICKY, "text/csv")
    rows = list(csv.reader(io.StringIO(result.body.decode(), newline="")))
    assert rows[0] == ["p", "o", "missing"]
    expected = [(b["p"]["value"], b["o"]["value"], "") for b in _json_rows(graph_store, tenant)]
    assert [tuple(r) for r in rows[1:]] == expected
    assert len(expected) == len(TRICKY)
    assert result.body.endswith(b"\r\n")


def test_select_results_parse_back_from_tsv(graph_store: GraphStore, tricky_tenant: tuple) -> None:
    """TSV keeps terms in Turtle syntax (CSV/TSV §3.3): the same terms as the JSON result."""
    tenant = tricky_tenant[0]
    result = graph_store.query(tenant, SELECT_TRICKY, "text/tab-separated-values")
    lines = result.body.decode().splitlines()
    assert lines[0] == "?p\t?o\t?missing"
    assert len(lines) == len(TRICKY) + 1
    assert all(line.count("\t") == 2 for line in lines)
    parsed = ox.parse_query_results(result.body, format=ox.QueryResultsFormat.TSV)
    assert isinstance(parsed, ox.QuerySolutions)
    got = [(str(row["p"]), str(row["o"]), row["missing"]) for row in parsed]
    json_result = graph_store.query(tenant, SELECT_TRICKY, "application/sparql-results+json")
    reference = ox.parse_query_results(json_result.body, format=ox.QueryResultsFormat.JSON)
    assert isinstance(reference, ox.QuerySolutions)
    assert got == [(str(row["p"]), str(row["o"]), None) for row in reference]


@pytest.mark.parametrize(
    "accept", ["application/sparql-results+json", "application/sparql-results+xml"]
)
def test_ask_results_parse_back(graph_store: GraphStore, tricky_tenant: tuple, accept: str) -> None:
    tenant = tricky_tenant[0]
    for text, expected in [("ASK { ?s ?p 42 }", True), ("ASK { ?s ?p 43 }", False)]:
        result = graph_store.query(tenant, text, accept)
        assert result.media_type == accept
        if accept.endswith("json"):
            assert json.loads(result.body) == {"head": {}, "boolean": expected}
        else:
            value = ET.fromstring(result.body).find(f"{RESULTS_NS}boolean")
            assert value is not None and value.text == ("true" if expected else "false")


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
    ],
)
def test_graph_results_parse_back(
    graph_store: GraphStore, tricky_tenant: tuple, accept: str, rdflib_format: str
) -> None:
    tenant, _, triples = tricky_tenant
    for text in ("CONSTRUCT WHERE { ?s ?p ?o }", f"DESCRIBE <{tricky_tenant[1]}>"):
        result = graph_store.query(tenant, text, accept)
        assert result.media_type == accept
        assert result.rows == len(TRICKY)
        graph = Graph()
        graph.parse(data=result.body.decode(), format=rdflib_format)
        assert set(graph) == set(triples)


def test_unacceptable_formats_are_refused(graph_store: GraphStore, tricky_tenant: tuple) -> None:
    tenant = tricky_tenant[0]
    with pytest.raises(SparqlFormatNotAcceptable):
        graph_store.query(tenant, "ASK { ?s ?p ?o }", "text/csv")
    with pytest.raises(SparqlFormatNotAcceptable):
        graph_store.query(tenant, "CONSTRUCT WHERE { ?s ?p ?o }", "application/sparql-results+json")
    result = graph_store.query(tenant, "SELECT * WHERE { ?s ?p ?o }", "text/csv;q=0.5, */*;q=0.1")
    assert result.media_type == "text/csv"


# --- limits ------------------------------------------------------------------------------


def test_row_cap_is_enforced_with_a_typed_error(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    graph_store.apply(tenant, [], twin_triples(tenant, 30))
    for text in ("SELECT * WHERE { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }"):
        with pytest.raises(SparqlQueryTooLarge) as info:
            graph_store.query(tenant, text, max_rows=10)
        assert info.value.code == "sparql:query.toolarge"
        assert graph_store.query(tenant, text, max_rows=30).rows == 30
    assert graph_store.query(tenant, "SELECT * WHERE { ?s ?p ?o } LIMIT 10", max_rows=10).rows == 10


def test_streaming_query_is_stopped_at_the_deadline(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    tenant = tenant_names()
    graph_store.apply(tenant, [], twin_triples(tenant, 300))
    started = time.monotonic()
    with pytest.raises(SparqlQueryTimeout) as info:
        graph_store.query(
            tenant, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", timeout_s=0.3
        )
    assert info.value.code == "sparql:query.timeout"
    assert time.monotonic() - started < 5


def test_blocking_query_past_the_deadline_still_fails(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    """An aggregate yields nothing until done; its result must not be returned late."""
    tenant = tenant_names()
    graph_store.apply(tenant, [], twin_triples(tenant, 150))
    with pytest.raises(SparqlQueryTimeout):
        graph_store.query(
            tenant,
            "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
            timeout_s=0.05,
        )


def test_query_text_over_the_length_limit_is_refused(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    text = "SELECT * WHERE { ?s ?p ?o }" + " " * (70 * 1024)
    with pytest.raises(SparqlQueryTooLarge):
        graph_store.query(tenant_names(), text)


@pytest.mark.parametrize(
    "text", ["SELECT * WHERE {", "SELECT ?x WHERE { ?x ?y }", "ASK { FILTER( }"]
)
def test_syntax_errors_are_typed(
    graph_store: GraphStore, tenant_names: TenantFactory, text: str
) -> None:
    with pytest.raises(SparqlQueryInvalid) as info:
        graph_store.query(tenant_names(), text)
    assert info.value.status == 400


# --- availability -----------------------------------------------------------------------


def test_unreachable_endpoint_raises_unavailable_with_the_cause() -> None:
    store = SparqlHttpGraphStore.for_oxigraph(f"http://127.0.0.1:{closed_port()}")
    with store:
        for call in (
            lambda: store.apply("acme", [], [(URIRef("urn:s"), NAME, Literal(1))]),
            lambda: store.count("acme"),
            lambda: store.clear("acme"),
            lambda: store.query("acme", "SELECT * WHERE { ?s ?p ?o }"),
        ):
            with pytest.raises(GraphStoreUnavailable) as info:
                call()
            assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_embedded_directory_is_held_by_one_store(tmp_path) -> None:
    with OxigraphGraphStore(tmp_path / "g"):
        with pytest.raises(GraphStoreUnavailable) as info:
            OxigraphGraphStore(tmp_path / "g").open()
        assert isinstance(info.value.__cause__, OSError)


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_projection_lines_apply_like_triples(
    graph_store: GraphStore, tenant_names: TenantFactory
) -> None:
    # The projector's fast path (N-Triples lines printed by the projection) must leave the
    # graph exactly as the rdflib-triple path does, on every store kind.
    from server.core.projector import project_entity, project_lines

    tenant = tenant_names()
    old = {
        "thingId": "ns:cell",
        "attributes": {"pci": 1, "name": 'a "quoted" \\ name'},
        "_revision": 1,
    }
    new = {"thingId": "ns:cell", "attributes": {"pci": 2, "zone": None}, "_revision": 2}
    graph_store.apply_ntriples([(tenant, [], sorted(project_lines(tenant, "twin", old)))])
    assert triples_of(graph_store, tenant) == project_entity(tenant, "twin", old)
    before, after = project_lines(tenant, "twin", old), project_lines(tenant, "twin", new)
    graph_store.apply_ntriples([(tenant, sorted(before - after), sorted(after - before))])
    assert triples_of(graph_store, tenant) == project_entity(tenant, "twin", new)
