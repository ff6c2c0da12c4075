"""Printing projector triples as N-Triples (`server.core.graph.terms`)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from server.core.graph.errors import GraphTermInvalid
from server.core.graph.terms import graph_node, skolem_iri, tenant_of_graph, to_ntriples
from server.modeling.vocab import key_iri, tenant_graph, twin_iri


def _parse(lines: list[str]) -> list[ox.Triple]:
    return [q.triple for q in ox.parse("\n".join(lines), format=ox.RdfFormat.N_TRIPLES)]


def test_rdflib_terms_print_as_ntriples_pyoxigraph_reads_back() -> None:
    s = twin_iri("acme", "ns:phone")
    awkward = 'quote " backslash \\ newline \n cr \r tab \t \\u0022 é 𝄞'
    lines = list(
        to_ntriples(
            "acme",
            [
                (s, key_iri("name"), Literal("phone")),
                (s, key_iri("rssi"), Literal(-70)),
                (s, key_iri("label"), Literal("hi", lang="en-GB")),
                (s, key_iri("when"), Literal("2024-05-01", datatype=XSD.date)),
                (s, key_iri("peer"), URIRef("urn:x:peer")),
                (s, key_iri("text"), Literal(awkward)),
            ],
        )
    )
    subject = ox.NamedNode(str(s))
    assert [t.subject for t in _parse(lines)] == [subject] * 6
    assert [t.object for t in _parse(lines)] == [
        ox.Literal("phone"),
        ox.Literal("-70", datatype=ox.NamedNode(str(XSD.integer))),
        ox.Literal("hi", language="en-gb"),
        ox.Literal("2024-05-01", datatype=ox.NamedNode(str(XSD.date))),
        ox.NamedNode("urn:x:peer"),
        ox.Literal(awkward),
    ]


def test_pyoxigraph_terms_print_as_themselves() -> None:
    triple = (ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o", language="fr"))
    (line,) = to_ntriples("acme", [triple])
    assert _parse([line]) == [ox.Triple(*triple)]


def test_blank_nodes_become_stable_tenant_scoped_iris() -> None:
    lines = list(
        to_ntriples(
            "acme",
            [
                (BNode("b 0"), key_iri("x"), BNode("b/1")),
                (ox.BlankNode("b0"), key_iri("x"), Literal(1)),
            ],
        )
    )
    first, second = _parse(lines)
    assert first.subject == ox.NamedNode(skolem_iri("acme", "b 0"))
    assert first.object == ox.NamedNode(skolem_iri("acme", "b/1"))
    assert second.subject == ox.NamedNode(skolem_iri("acme", "b0"))
    assert skolem_iri("acme", "b0") != skolem_iri("other", "b0")
    assert skolem_iri("acme", "b0").startswith(str(tenant_graph("acme")) + "/")


@pytest.mark.parametrize("tenant", ["acme", "a-b-9", "z"])
def test_tenant_of_graph_inverts_tenant_graph(tenant: str) -> None:
    assert tenant_of_graph(str(tenant_graph(tenant))) == tenant
    assert graph_node(tenant).value == str(tenant_graph(tenant))


@pytest.mark.parametrize("iri", ["urn:other:g", str(tenant_graph("")), "http://x/"])
def test_tenant_of_graph_ignores_other_graphs(iri: str) -> None:
    assert tenant_of_graph(iri) is None


@pytest.mark.parametrize(
    "triple",
    [
        (URIRef("http://x/ y"), key_iri("p"), Literal(1)),
        (URIRef("urn:s"), key_iri("p"), URIRef("no-scheme")),
        (URIRef("urn:s> <urn:p> <urn:o> } } ; DROP ALL ; #"), key_iri("p"), Literal(1)),
        (URIRef("urn:s"), key_iri("p"), Literal("x", datatype=URIRef("urn:a b"))),
        (Literal("s"), key_iri("p"), Literal(1)),
        (ox.Literal("s"), key_iri("p"), Literal(1)),
        (URIRef("urn:s"), Literal("p"), Literal(1)),
        (URIRef("urn:s"), BNode("p"), Literal(1)),
        (URIRef("urn:s"), key_iri("p"), 1),
        (URIRef("urn:s"), key_iri("p")),
        "urn:s urn:p urn:o",
    ],
    ids=[
        "space-in-iri",
        "relative-iri",
        "injection",
        "bad-datatype",
        "literal-subject",
        "ox-literal-subject",
        "literal-predicate",
        "bnode-predicate",
        "python-int",
        "pair",
        "string",
    ],
)
def test_invalid_terms_raise_typed_errors(triple: tuple) -> None:
    with pytest.raises(GraphTermInvalid) as info:
        list(to_ntriples("acme", [triple]))
    assert info.value.status == 400


def test_language_tags_are_checked() -> None:
    lit = Literal("x", lang="en")
    object.__setattr__(lit, "_language", "en } ; DROP ALL")
    with pytest.raises(GraphTermInvalid, match="language tag"):
        list(to_ntriples("acme", [(URIRef("urn:s"), key_iri("p"), lit)]))
