"""Conversion of the triples the projector hands over into pyoxigraph quads.

The canonical triple type of the graph stores is a tuple of **rdflib** terms,
``(URIRef | BNode, URIRef, URIRef | BNode | Literal)``, because `server.modeling.vocab` and
the twin projection build rdflib terms. pyoxigraph terms are accepted too and pass through
unchanged. Both stores convert to pyoxigraph quads: the embedded store writes them natively,
and the HTTP store prints them as N-Triples, which also makes pyoxigraph the one validator
of IRIs and language tags (a bad IRI can never be spliced into an update request).

Blank nodes are skolemised (RDF 1.1 Concepts §3.5) into IRIs scoped to the tenant's graph:
SPARQL 1.1 Update §3.1.2 forbids blank nodes in ``DELETE DATA``, and an endpoint relabels
the ones in ``INSERT DATA``, so a blank node could never be deleted by an exact diff later.
The same ``BNode("b0")`` of a tenant always maps to the same IRI.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TypeAlias
from urllib.parse import quote, unquote

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

from server.core.graph.errors import GraphTermInvalid
from server.modeling.vocab import tenant_graph

__all__ = [
    "Object",
    "Predicate",
    "Subject",
    "Triple",
    "graph_node",
    "skolem_iri",
    "tenant_of_graph",
    "to_quads",
]

Subject: TypeAlias = URIRef | BNode | ox.NamedNode | ox.BlankNode
Predicate: TypeAlias = URIRef | ox.NamedNode
Object: TypeAlias = URIRef | BNode | Literal | ox.NamedNode | ox.BlankNode | ox.Literal
Triple: TypeAlias = tuple[Subject, Predicate, Object]

_GRAPH_PREFIX = str(tenant_graph(""))


@lru_cache(maxsize=1024)
def graph_node(tenant: str) -> ox.NamedNode:
    """The pyoxigraph node of ``tenant``'s named graph (`vocab.tenant_graph`)."""
    return ox.NamedNode(str(tenant_graph(tenant)))


def tenant_of_graph(iri: str) -> str | None:
    """The tenant whose named graph is ``iri``, or None for any other graph."""
    if not iri.startswith(_GRAPH_PREFIX) or len(iri) == len(_GRAPH_PREFIX):
        return None
    return unquote(iri[len(_GRAPH_PREFIX) :])


def skolem_iri(tenant: str, label: str) -> str:
    """The IRI that stands for blank node ``label`` of ``tenant``.

    ``/`` never occurs in an encoded tenant name, so the suffix cannot be confused with
    another tenant's graph.
    """
    return f"{tenant_graph(tenant)}/genid/{quote(label, safe='')}"


class _Converter:
    """Per-call converter; caches predicate nodes since a diff repeats few predicates."""

    __slots__ = ("_predicates", "_tenant")

    def __init__(self, tenant: str) -> None:
        self._tenant = tenant
        self._predicates: dict[str, ox.NamedNode] = {}

    def node(self, term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        kind = type(term)
        if kind is URIRef:
            return ox.NamedNode(str(term))
        if kind is Literal:
            return self.literal(term)  # type: ignore[arg-type]
        if kind is BNode:
            return ox.NamedNode(skolem_iri(self._tenant, str(term)))
        if kind is ox.BlankNode:
            return ox.NamedNode(skolem_iri(self._tenant, term.value))  # type: ignore[attr-defined]
        if kind is ox.NamedNode or kind is ox.Literal:
            return term  # type: ignore[return-value]
        # Subclasses (rdflib's own, or a caller's) take the slow path.
        if isinstance(term, URIRef):
            return ox.NamedNode(str(term))
        if isinstance(term, Literal):
            return self.literal(term)
        if isinstance(term, BNode):
            return ox.NamedNode(skolem_iri(self._tenant, str(term)))
        raise GraphTermInvalid(f"{term!r} is not an RDF term.")

    def predicate(self, term: object) -> ox.NamedNode:
        if type(term) is ox.NamedNode:
            return term
        if not isinstance(term, URIRef):
            raise GraphTermInvalid(f"Predicate {term!r} is not an IRI.")
        key = str(term)
        node = self._predicates.get(key)
        if node is None:
            node = self._predicates[key] = ox.NamedNode(key)
        return node

    @staticmethod
    def literal(term: Literal) -> ox.Literal:
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))


def to_quads(tenant: str, triples: Iterable[Triple]) -> Iterator[ox.Quad]:
    """Quads of ``triples`` in ``tenant``'s named graph.

    Raises `GraphTermInvalid` (cause chained) for an IRI, literal or language tag that is
    not valid RDF, or for a literal in subject or predicate position.
    """
    graph = graph_node(tenant)
    conv = _Converter(tenant)
    for triple in triples:
        try:
            s, p, o = triple
            subject = conv.node(s)
            if type(subject) is ox.Literal:
                raise GraphTermInvalid(f"Subject {s!r} is a literal.")
            yield ox.Quad(subject, conv.predicate(p), conv.node(o), graph)
        except (ValueError, TypeError) as exc:
            raise GraphTermInvalid(f"Triple {triple!r} is not valid RDF: {exc}") from exc
