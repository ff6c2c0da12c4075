"""Conversion of projector triples into pyoxigraph quads (`server.core.graph.terms`)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from server.core.graph.errors import GraphTermInvalid
from server.core.graph.terms import graph_node, skolem_iri, tenant_of_graph, to_quads
from server.modeling.vocab import key_iri, tenant_graph, twin_iri


def test_rdflib_terms_become_quads_in_the_tenant_graph() -> None:
    s = twin_iri("acme", "ns:phone")
    quads = list(
        to_quads(
            "acme",
            [
                (s, key_iri("name"), Literal("phone")),
                (s, key_iri("rssi"), Literal(-70)),
                (s, key_iri("label"), Literal("hi", lang="en")),
                (s, key_iri("when"), Literal("2024-05-01", datatype=XSD.date)),
                (s, key_iri("peer"), URIRef("urn:x:peer")),
            ],
        )
    )
    graph = ox.NamedNode(str(tenant_graph("acme")))
    assert all(q.graph_name == graph for q in quads)
    assert all(q.subject == ox.NamedNode(str(s)) for q in quads)
    assert [q.object for q in quads] == [
        ox.Literal("phone"),
        ox.Literal("-70", datatype=ox.NamedNode(str(XSD.integer))),
        ox.Literal("hi", language="en"),
        ox.Literal("2024-05-01", datatype=ox.NamedNode(str(XSD.date))),
        ox.NamedNode("urn:x:peer"),
    ]


def test_pyoxigraph_terms_pass_through() -> None:
    triple = (ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"))
    (quad,) = to_quads("acme", [triple])
    assert (quad.subject, quad.predicate, quad.object) == triple


def test_blank_nodes_become_stable_tenant_scoped_iris() -> None:
    (q1,) = to_quads("acme", [(BNode("b 0"), key_iri("x"), BNode("b/1"))])
    (q2,) = to_quads("acme", [(ox.BlankNode("b0"), key_iri("x"), Literal(1))])
    assert q1.subject == ox.NamedNode(skolem_iri("acme", "b 0"))
    assert q1.object == ox.NamedNode(skolem_iri("acme", "b/1"))
    assert q2.subject == ox.NamedNode(skolem_iri("acme", "b0"))
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
        (URIRef("urn:s"), key_iri("p"), URIRef("no scheme")),
        (Literal("s"), key_iri("p"), Literal(1)),
        (URIRef("urn:s"), BNode("p"), Literal(1)),
        (URIRef("urn:s"), key_iri("p"), 1),
        (URIRef("urn:s"), key_iri("p")),
        (URIRef("urn:s"), key_iri("p"), Literal("\ud800")),
    ],
)
def test_invalid_terms_raise_typed_errors(triple: tuple) -> None:
    with pytest.raises(GraphTermInvalid) as info:
        list(to_quads("acme", [triple]))
    assert info.value.status == 400
