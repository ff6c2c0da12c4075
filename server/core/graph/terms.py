"""Conversion of the triples the projector hands over into N-Triples text.

The canonical triple type of the graph stores is a tuple of **rdflib** terms,
``(URIRef | BNode, URIRef, URIRef | BNode | Literal)``, because `server.modeling.vocab` and
the twin projection build rdflib terms. pyoxigraph terms are accepted too.

Both stores write text: SPARQL 1.1 Update ``DELETE DATA``/``INSERT DATA`` for diffs and
N-Triples for bulk loads, parsed by the engine in one call. Building a pyoxigraph ``Quad``
per triple from Python costs several microseconds, more than printing the line, and the
text goes unchanged to an HTTP endpoint. Because the text is spliced into update requests,
every term is checked here first: IRIs must match the SPARQL/N-Triples ``IRIREF`` terminal
with a scheme (so none can close its ``<...>``), language tags the BCP 47 shape, and
literals are escaped (``\\\\``, ``\\"``, ``\\n``, ``\\r``). The engine's parser still
validates IRIs fully; what it refuses surfaces as `GraphTermInvalid` too.

Blank nodes are skolemised (RDF 1.1 Concepts §3.5) into IRIs scoped to the tenant's graph:
SPARQL 1.1 Update §3.1.2 forbids blank nodes in ``DELETE DATA``, and an endpoint relabels
the ones in ``INSERT DATA``, so a blank node could never be deleted by an exact diff later.
The same ``BNode("b0")`` of a tenant always maps to the same IRI.

Typed literals of XSD datatypes are stored by value: ``"01"^^xsd:integer`` reads back as
``"1"``, and deleting either spelling removes it.
"""

from __future__ import annotations

import re
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
    "to_ntriples",
]

Subject: TypeAlias = URIRef | BNode | ox.NamedNode | ox.BlankNode
Predicate: TypeAlias = URIRef | ox.NamedNode
Object: TypeAlias = URIRef | BNode | Literal | ox.NamedNode | ox.BlankNode | ox.Literal
Triple: TypeAlias = tuple[Subject, Predicate, Object]

_GRAPH_PREFIX = str(tenant_graph(""))
# IRIREF of SPARQL 1.1 §19.8 / N-Triples, plus a scheme (RFC 3987 absolute IRI).
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*")
_LANGUAGE = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


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


def _iri(value: str) -> str:
    if _IRI.fullmatch(value) is None:
        raise GraphTermInvalid(f"<{value}> is not an absolute IRI.")
    return f"<{value}>"


@lru_cache(maxsize=4096)
def _cached_iri(value: str) -> str:
    """`_iri` for the few IRIs that repeat (predicates, datatypes)."""
    return _iri(value)


def _literal(lexical: str, language: str | None, datatype: str | None) -> str:
    body = f'"{lexical.translate(_ESCAPES)}"'
    if language:
        if _LANGUAGE.fullmatch(language) is None:
            raise GraphTermInvalid(f"'{language}' is not a language tag.")
        return f"{body}@{language}"
    if datatype is not None:
        return f"{body}^^{_cached_iri(datatype)}"
    return body


class _Printer:
    """Prints terms of one tenant; remembers the last subject, as diffs repeat it."""

    __slots__ = ("_last", "_last_text", "_tenant")

    def __init__(self, tenant: str) -> None:
        self._tenant = tenant
        self._last: object = None
        self._last_text = ""

    def subject(self, term: object) -> str:
        if term is self._last:
            return self._last_text
        text = self.node(term, allow_literal=False)
        self._last, self._last_text = term, text
        return text

    def node(self, term: object, allow_literal: bool = True) -> str:
        kind = type(term)
        if kind is URIRef:
            return _iri(term)  # type: ignore[arg-type]
        if kind is Literal:
            if not allow_literal:
                raise GraphTermInvalid(f"Subject {term!r} is a literal.")
            lit: Literal = term  # type: ignore[assignment]
            dt = lit.datatype
            return _literal(str(lit), lit.language, None if dt is None else str(dt))
        if kind is BNode:
            return _iri(skolem_iri(self._tenant, str(term)))
        if kind is ox.NamedNode:
            return f"<{term.value}>"  # type: ignore[attr-defined]  # checked by pyoxigraph
        if kind is ox.BlankNode:
            return _iri(skolem_iri(self._tenant, term.value))  # type: ignore[attr-defined]
        if kind is ox.Literal:
            if not allow_literal:
                raise GraphTermInvalid(f"Subject {term!r} is a literal.")
            return str(term)
        # Subclasses (rdflib's own, or a caller's) take the slow path.
        if isinstance(term, URIRef):
            return _iri(str(term))
        if isinstance(term, Literal) and allow_literal:
            dt = term.datatype
            return _literal(str(term), term.language, None if dt is None else str(dt))
        if isinstance(term, BNode):
            return _iri(skolem_iri(self._tenant, str(term)))
        raise GraphTermInvalid(f"{term!r} is not an RDF term for this position.")

    @staticmethod
    def predicate(term: object) -> str:
        if isinstance(term, URIRef):
            return _cached_iri(str(term))
        if type(term) is ox.NamedNode:
            return f"<{term.value}>"
        raise GraphTermInvalid(f"Predicate {term!r} is not an IRI.")


def to_ntriples(tenant: str, triples: Iterable[Triple]) -> Iterator[str]:
    """N-Triples lines (``s p o .``, no newline) of ``triples`` for ``tenant``.

    Raises `GraphTermInvalid` for an IRI, language tag or term that is not valid RDF in its
    position (a literal subject, a blank-node predicate, a plain ``str``).
    """
    printer = _Printer(tenant)
    for triple in triples:
        try:
            s, p, o = triple
        except (TypeError, ValueError) as exc:
            raise GraphTermInvalid(f"{triple!r} is not a triple.") from exc
        yield f"{printer.subject(s)} {printer.predicate(p)} {printer.node(o)} ."
