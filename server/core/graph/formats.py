"""Result serialisations of the SPARQL query path, and content negotiation among them.

SELECT and ASK results are written here, from pyoxigraph terms, in the four W3C formats:
SPARQL 1.1 Query Results JSON, the SPARQL Query Results XML Format, and the SPARQL 1.1
CSV and TSV formats (the last two define SELECT results only, so ASK is JSON or XML).
CONSTRUCT and DESCRIBE graphs are written by pyoxigraph as Turtle, N-Triples or JSON-LD.
Both stores collect results under the tenant's limits first and serialise afterwards, so
an embedded and an HTTP store answer with the same bytes for the same result.

All text formats are UTF-8. XML 1.0 cannot carry most C0 control characters, even as
character references, so literals holding them only round-trip through the other formats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Final
from xml.sax.saxutils import escape, quoteattr

import orjson
import pyoxigraph as ox

from server.core.graph.errors import SparqlFormatNotAcceptable
from server.core.graph.tenancy import QueryForm
from server.modeling.vocab import KEY, NDT

__all__ = [
    "CSV",
    "JSON_LD",
    "N_TRIPLES",
    "SPARQL_JSON",
    "SPARQL_XML",
    "TSV",
    "TURTLE",
    "negotiate",
    "serialize_boolean",
    "serialize_graph",
    "serialize_solutions",
]

SPARQL_JSON: Final = "application/sparql-results+json"
SPARQL_XML: Final = "application/sparql-results+xml"
CSV: Final = "text/csv"
TSV: Final = "text/tab-separated-values"
TURTLE: Final = "text/turtle"
N_TRIPLES: Final = "application/n-triples"
JSON_LD: Final = "application/ld+json"

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"

# Offered types per form, in the server's order of preference (first is the default), and
# plain-JSON/XML aliases clients commonly send.
_OFFERS: Final[dict[bool, tuple[str, ...]]] = {
    False: (SPARQL_JSON, SPARQL_XML, CSV, TSV),
    True: (TURTLE, N_TRIPLES, JSON_LD),
}
_ALIASES: Final[dict[bool, dict[str, str]]] = {
    False: {"application/json": SPARQL_JSON, "application/xml": SPARQL_XML},
    True: {"application/json": JSON_LD},
}
_GRAPH_FORMATS: Final = {
    TURTLE: ox.RdfFormat.TURTLE,
    N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    JSON_LD: ox.RdfFormat.JSON_LD,
}
_TURTLE_PREFIXES: Final = {"ndt": str(NDT), "key": str(KEY)}


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """Parse an Accept field into (type, subtype, q) triples (RFC 9110 §12.5.1)."""
    ranges: list[tuple[str, str, float]] = []
    for item in accept.split(","):
        fields = [f.strip() for f in item.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        kind, _, sub = media.partition("/")
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((kind.strip(), sub.strip(), q))
    return ranges


def _quality(media: str, ranges: list[tuple[str, str, float]]) -> float:
    """The q of the most specific range matching ``media``; -1 if none matches."""
    kind, _, sub = media.partition("/")
    best, best_rank = -1.0, -1
    for r_kind, r_sub, q in ranges:
        if r_kind == kind and r_sub == sub:
            rank = 2
        elif r_kind == kind and r_sub == "*":
            rank = 1
        elif r_kind == "*" and r_sub == "*":
            rank = 0
        else:
            continue
        if rank > best_rank:
            best, best_rank = q, rank
    return best


def negotiate(accept: str | None, form: QueryForm) -> str:
    """Pick the result media type for ``form`` from an Accept field.

    No or an empty Accept gives the default (SPARQL JSON, or Turtle for graphs). Raises
    `SparqlFormatNotAcceptable` when every offered type has q=0 or matches no range.
    """
    graph = form.is_graph
    offers = _OFFERS[graph]
    if form is QueryForm.ASK:
        offers = (SPARQL_JSON, SPARQL_XML)
    if accept is None or not accept.strip():
        return offers[0]
    ranges = _media_ranges(accept)
    candidates: list[tuple[float, int, str]] = []
    for index, media in enumerate(offers):
        q = _quality(media, ranges)
        for alias, target in _ALIASES[graph].items():
            if target == media:
                q = max(q, _quality_exact(alias, ranges))
        if q > 0:
            candidates.append((q, -index, media))
    if not candidates:
        raise SparqlFormatNotAcceptable(
            f"None of '{accept}' can represent a {form.value} result.",
            description="Accepted: " + ", ".join(offers) + ".",
        )
    return max(candidates)[2]


def _quality_exact(media: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, sub = media.partition("/")
    return max((q for k, s, q in ranges if k == kind and s == sub), default=-1.0)


# --- SELECT / ASK ------------------------------------------------------------------------

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def _json_term(term: Term) -> dict[str, object]:
    kind = type(term)
    if kind is ox.NamedNode:
        return {"type": "uri", "value": term.value}  # type: ignore[union-attr]
    if kind is ox.Literal:
        lit: ox.Literal = term  # type: ignore[assignment]
        out: dict[str, object] = {"type": "literal", "value": lit.value}
        if lit.language:
            out["xml:lang"] = lit.language
        elif lit.datatype.value != _XSD_STRING:
            out["datatype"] = lit.datatype.value
        return out
    if kind is ox.BlankNode:
        return {"type": "bnode", "value": term.value}  # type: ignore[union-attr]
    triple: ox.Triple = term  # type: ignore[assignment]
    # SPARQL 1.2 Query Results JSON: a triple term nests its three parts.
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(triple.subject),
            "predicate": _json_term(triple.predicate),
            "object": _json_term(triple.object),
        },
    }


_XML_CR = {"\r": "&#13;"}  # else a parser's end-of-line handling (XML 1.0 §2.11) drops it


def _text(value: str) -> str:
    return escape(value, _XML_CR)


def _xml_term(term: Term) -> str:
    kind = type(term)
    if kind is ox.NamedNode:
        return f"<uri>{_text(term.value)}</uri>"  # type: ignore[union-attr]
    if kind is ox.Literal:
        lit: ox.Literal = term  # type: ignore[assignment]
        if lit.language:
            return f"<literal xml:lang={quoteattr(lit.language)}>{_text(lit.value)}</literal>"
        if lit.datatype.value != _XSD_STRING:
            dt = quoteattr(lit.datatype.value)
            return f"<literal datatype={dt}>{_text(lit.value)}</literal>"
        return f"<literal>{_text(lit.value)}</literal>"
    if kind is ox.BlankNode:
        return f"<bnode>{_text(term.value)}</bnode>"  # type: ignore[union-attr]
    triple: ox.Triple = term  # type: ignore[assignment]
    return (
        f"<triple><subject>{_xml_term(triple.subject)}</subject>"
        f"<predicate>{_xml_term(triple.predicate)}</predicate>"
        f"<object>{_xml_term(triple.object)}</object></triple>"
    )


def _csv_term(term: Term | None) -> str:
    # SPARQL 1.1 CSV/TSV §3.2: IRIs and literals lose their syntax, blank nodes keep _:.
    if term is None:
        return ""
    kind = type(term)
    if kind is ox.NamedNode or kind is ox.Literal:
        return term.value  # type: ignore[union-attr]
    if kind is ox.BlankNode:
        return f"_:{term.value}"  # type: ignore[union-attr]
    return _tsv_term(term)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _tsv_term(term: Term | None) -> str:
    # SPARQL 1.1 CSV/TSV §3.3: terms in Turtle syntax; tabs and newlines escaped.
    if term is None:
        return ""
    kind = type(term)
    if kind is ox.NamedNode:
        return f"<{term.value}>"  # type: ignore[union-attr]
    if kind is ox.Literal:
        lit: ox.Literal = term  # type: ignore[assignment]
        body = f'"{lit.value.translate(_TSV_ESCAPES)}"'
        if lit.language:
            return f"{body}@{lit.language}"
        if lit.datatype.value not in (_XSD_STRING, _RDF_LANG_STRING):
            return f"{body}^^<{lit.datatype.value}>"
        return body
    if kind is ox.BlankNode:
        return f"_:{term.value}"  # type: ignore[union-attr]
    triple: ox.Triple = term  # type: ignore[assignment]
    parts = (_tsv_term(triple.subject), _tsv_term(triple.predicate), _tsv_term(triple.object))
    return "<<( " + " ".join(parts) + " )>>"


def serialize_solutions(
    media_type: str, variables: Sequence[str], rows: Sequence[ox.QuerySolution]
) -> bytes:
    """Write SELECT results; ``rows`` are indexed by position in ``variables``."""
    width = range(len(variables))
    if media_type == SPARQL_JSON:
        bindings = []
        for row in rows:
            binding = {}
            for i in width:
                term = row[i]
                if term is not None:
                    binding[variables[i]] = _json_term(term)
            bindings.append(binding)
        return orjson.dumps({"head": {"vars": list(variables)}, "results": {"bindings": bindings}})
    if media_type == SPARQL_XML:
        out = [
            f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{_RESULTS_NS}">\n<head>',
            *(f"<variable name={quoteattr(v)}/>" for v in variables),
            "</head>\n<results>\n",
        ]
        for row in rows:
            out.append("<result>")
            for i in width:
                term = row[i]
                if term is not None:
                    name = quoteattr(variables[i])
                    out.append(f"<binding name={name}>{_xml_term(term)}</binding>")
            out.append("</result>\n")
        out.append("</results>\n</sparql>\n")
        return "".join(out).encode()
    if media_type == CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_csv_term(row[i]) for i in width])
        return buffer.getvalue().encode()
    if media_type == TSV:
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines.extend("\t".join(_tsv_term(row[i]) for i in width) for row in rows)
        return ("\n".join(lines) + "\n").encode()
    raise SparqlFormatNotAcceptable(f"'{media_type}' cannot represent SELECT results.")


def serialize_boolean(media_type: str, value: bool) -> bytes:
    """Write an ASK result (JSON or XML; CSV/TSV define no boolean form)."""
    if media_type == SPARQL_JSON:
        return orjson.dumps({"head": {}, "boolean": value})
    if media_type == SPARQL_XML:
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{_RESULTS_NS}">\n'
            f"<head/>\n<boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n"
        ).encode()
    raise SparqlFormatNotAcceptable(f"'{media_type}' cannot represent an ASK result.")


def serialize_graph(media_type: str, triples: Sequence[ox.Triple]) -> bytes:
    """Write a CONSTRUCT/DESCRIBE graph as Turtle, N-Triples or JSON-LD."""
    fmt = _GRAPH_FORMATS.get(media_type)
    if fmt is None:
        raise SparqlFormatNotAcceptable(f"'{media_type}' cannot represent an RDF graph.")
    prefixes = _TURTLE_PREFIXES if fmt == ox.RdfFormat.TURTLE else None
    data = ox.serialize(triples, format=fmt, prefixes=prefixes)
    assert data is not None  # no output given: pyoxigraph returns the bytes
    return data
