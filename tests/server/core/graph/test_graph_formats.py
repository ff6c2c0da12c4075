"""Content negotiation and the result writers of `server.core.graph.formats`."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from server.core.graph.errors import SparqlFormatNotAcceptable
from server.core.graph.formats import (
    CSV,
    JSON_LD,
    N_TRIPLES,
    SPARQL_JSON,
    SPARQL_XML,
    TSV,
    TURTLE,
    negotiate,
    serialize_boolean,
    serialize_graph,
    serialize_solutions,
)
from server.core.graph.tenancy import QueryForm

RESULTS = "{http://www.w3.org/2005/sparql-results#}"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize(
    ("accept", "form", "expected"),
    [
        (None, QueryForm.SELECT, SPARQL_JSON),
        ("", QueryForm.ASK, SPARQL_JSON),
        (None, QueryForm.CONSTRUCT, TURTLE),
        (None, QueryForm.DESCRIBE, TURTLE),
        ("*/*", QueryForm.SELECT, SPARQL_JSON),
        ("application/sparql-results+xml", QueryForm.SELECT, SPARQL_XML),
        ("Text/CSV", QueryForm.SELECT, CSV),
        ("text/*", QueryForm.SELECT, CSV),
        ("text/tab-separated-values; charset=utf-8", QueryForm.SELECT, TSV),
        ("text/csv;q=0.9, application/sparql-results+json;q=0.1", QueryForm.SELECT, CSV),
        ("application/sparql-results+json;q=0.5, text/csv;q=0.5", QueryForm.SELECT, SPARQL_JSON),
        ("application/json", QueryForm.SELECT, SPARQL_JSON),
        ("application/xml", QueryForm.ASK, SPARQL_XML),
        ("application/json", QueryForm.CONSTRUCT, JSON_LD),
        ("application/n-triples", QueryForm.DESCRIBE, N_TRIPLES),
        ("text/turtle;q=0, */*;q=0.2", QueryForm.CONSTRUCT, N_TRIPLES),
        ("image/png, application/*;q=0.3", QueryForm.CONSTRUCT, N_TRIPLES),
        ("garbage, text/csv;q=oops, text/tab-separated-values", QueryForm.SELECT, TSV),
    ],
)
def test_negotiate(accept: str | None, form: QueryForm, expected: str) -> None:
    assert negotiate(accept, form) == expected


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        ("text/csv", QueryForm.ASK),  # CSV/TSV define SELECT results only
        ("text/tab-separated-values", QueryForm.ASK),
        ("application/sparql-results+json", QueryForm.CONSTRUCT),
        ("text/turtle", QueryForm.SELECT),
        ("image/png", QueryForm.SELECT),
        ("application/sparql-results+json;q=0", QueryForm.SELECT),
        ("*/*;q=0", QueryForm.DESCRIBE),
    ],
)
def test_negotiate_refuses(accept: str, form: QueryForm) -> None:
    with pytest.raises(SparqlFormatNotAcceptable) as info:
        negotiate(accept, form)
    assert info.value.status == 406


VARIABLES = ["s", "o", "unbound"]


def _solutions() -> list[ox.QuerySolution]:
    """Real `QuerySolution` s, with awkward terms, from a pyoxigraph store."""
    store = ox.Store()
    s = ox.NamedNode("urn:x:s")
    values = [
        ox.Literal("tab\there, newline\nthere, cr\rthere"),
        ox.Literal('quote " comma , backslash \\'),
        ox.Literal("<b>&amp;</b> ]]>"),
        ox.Literal("bonjour", language="fr-CA"),
        ox.Literal("7", datatype=ox.NamedNode(f"{XSD}integer")),
        ox.BlankNode("b1"),
        ox.NamedNode("urn:x:o?a=1&b=2"),
    ]
    for i, value in enumerate(values):
        store.add(ox.Quad(s, ox.NamedNode(f"urn:x:p{i}"), value))
    result = store.query(
        "SELECT ?s ?o ?unbound WHERE { ?s ?p ?o OPTIONAL { ?s <urn:none> ?unbound } } ORDER BY ?p"
    )
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def test_json_follows_the_sparql_json_results_format() -> None:
    rows = _solutions()
    doc = json.loads(serialize_solutions(SPARQL_JSON, VARIABLES, rows))
    assert doc["head"] == {"vars": VARIABLES}
    objects = [b["o"] for b in doc["results"]["bindings"]]
    assert objects[0] == {"type": "literal", "value": "tab\there, newline\nthere, cr\rthere"}
    # pyoxigraph keeps language tags lower-cased (they are case-insensitive, BCP 47).
    assert objects[3] == {"type": "literal", "value": "bonjour", "xml:lang": "fr-ca"}
    assert objects[4] == {"type": "literal", "value": "7", "datatype": f"{XSD}integer"}
    assert objects[5] == {"type": "bnode", "value": "b1"}
    assert objects[6] == {"type": "uri", "value": "urn:x:o?a=1&b=2"}
    assert all("unbound" not in b for b in doc["results"]["bindings"])


def test_xml_escapes_markup_and_keeps_carriage_returns() -> None:
    rows = _solutions()
    root = ET.fromstring(serialize_solutions(SPARQL_XML, VARIABLES, rows))
    assert root.tag == f"{RESULTS}sparql"
    results = list(root.iter(f"{RESULTS}result"))
    assert len(results) == len(rows)
    first = results[0].find(f"{RESULTS}binding[@name='o']/{RESULTS}literal")
    assert first is not None and first.text == "tab\there, newline\nthere, cr\rthere"
    markup = results[2].find(f"{RESULTS}binding[@name='o']/{RESULTS}literal")
    assert markup is not None and markup.text == "<b>&amp;</b> ]]>"
    lang = results[3].find(f"{RESULTS}binding[@name='o']/{RESULTS}literal")
    assert lang is not None
    assert lang.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-ca"
    assert results[5].find(f"{RESULTS}binding[@name='o']/{RESULTS}bnode") is not None


def test_csv_quotes_fields_and_ends_lines_with_crlf() -> None:
    rows = _solutions()
    body = serialize_solutions(CSV, VARIABLES, rows).decode()
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    assert parsed[0] == VARIABLES
    assert parsed[1] == ["urn:x:s", "tab\there, newline\nthere, cr\rthere", ""]
    assert parsed[2][1] == 'quote " comma , backslash \\'
    assert parsed[6][1] == "_:b1"
    assert body.endswith("\r\n")


def test_tsv_round_trips_through_pyoxigraph() -> None:
    rows = _solutions()
    body = serialize_solutions(TSV, VARIABLES, rows)
    lines = body.decode().split("\n")
    assert lines[0] == "?s\t?o\t?unbound"
    assert all(line.count("\t") == 2 for line in lines if line)
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV)
    assert isinstance(parsed, ox.QuerySolutions)
    back = [(row["s"], row["o"], row["unbound"]) for row in parsed]
    assert back == [(row["s"], row["o"], None) for row in rows]


@pytest.mark.parametrize("value", [True, False])
def test_booleans(value: bool) -> None:
    assert json.loads(serialize_boolean(SPARQL_JSON, value)) == {"head": {}, "boolean": value}
    element = ET.fromstring(serialize_boolean(SPARQL_XML, value)).find(f"{RESULTS}boolean")
    assert element is not None and element.text == str(value).lower()
    with pytest.raises(SparqlFormatNotAcceptable):
        serialize_boolean(CSV, value)


def test_graph_writers_round_trip() -> None:
    triples = [
        ox.Triple(ox.NamedNode("https://w3id.org/ndtwin/ns#x"), ox.NamedNode("urn:p"), value)
        for value in (ox.Literal("a\nb"), ox.Literal("hi", language="en"), ox.NamedNode("urn:o"))
    ]
    for media, fmt in ((TURTLE, ox.RdfFormat.TURTLE), (N_TRIPLES, ox.RdfFormat.N_TRIPLES),
                       (JSON_LD, ox.RdfFormat.JSON_LD)):  # fmt: skip
        body = serialize_graph(media, triples)
        assert {q.triple for q in ox.parse(body, format=fmt)} == set(triples)
    assert b"@prefix ndt:" in serialize_graph(TURTLE, triples)
    with pytest.raises(SparqlFormatNotAcceptable):
        serialize_graph(CSV, triples)
