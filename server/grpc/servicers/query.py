"""``ndtwin.v1.QueryService``: SPARQL over the tenant's graph, one message per row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pyoxigraph as ox

from server.core.graph.formats import N_TRIPLES, SPARQL_JSON
from server.core.service import Core
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import query_pb2 as pb
from server.grpc.names import parse_parent

__all__ = ["QueryServicer", "term_from_json", "term_from_oxigraph"]

#: SELECT/ASK as SPARQL JSON results, CONSTRUCT/DESCRIBE as N-Triples: both parse exactly.
_ACCEPT = f"{SPARQL_JSON}, {N_TRIPLES}"
_KINDS = {
    "uri": pb.RdfTerm.KIND_IRI,
    "bnode": pb.RdfTerm.KIND_BLANK,
    "literal": pb.RdfTerm.KIND_LITERAL,
    "typed-literal": pb.RdfTerm.KIND_LITERAL,
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def term_from_json(term: dict[str, Any]) -> pb.RdfTerm:
    """A term of SPARQL 1.1 Query Results JSON (§3.2.2) as an ``RdfTerm``."""
    out = pb.RdfTerm(
        kind=_KINDS.get(term.get("type", ""), pb.RdfTerm.KIND_UNSPECIFIED),
        value=str(term.get("value", "")),
    )
    if "xml:lang" in term:
        out.language = term["xml:lang"]
    elif "datatype" in term:
        out.datatype = term["datatype"]
    elif out.kind == pb.RdfTerm.KIND_LITERAL:
        out.datatype = _XSD_STRING
    return out


def term_from_oxigraph(term: Any) -> pb.RdfTerm:
    """A pyoxigraph term as an ``RdfTerm``."""
    if isinstance(term, ox.NamedNode):
        return pb.RdfTerm(kind=pb.RdfTerm.KIND_IRI, value=term.value)
    if isinstance(term, ox.BlankNode):
        return pb.RdfTerm(kind=pb.RdfTerm.KIND_BLANK, value=term.value)
    if isinstance(term, ox.Literal):
        out = pb.RdfTerm(kind=pb.RdfTerm.KIND_LITERAL, value=term.value)
        if term.language:
            out.language = term.language
        else:
            out.datatype = term.datatype.value
        return out
    return pb.RdfTerm(value=str(term))


class QueryServicer:
    """Run read-only SPARQL and stream the result."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def Query(self, request: pb.QueryRequest, call: Call) -> AsyncIterator[pb.QueryResponse]:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        # The client's deadline bounds the query itself, not only our wait for it.
        result = await call.run(
            self._core.query, caller, request.query, _ACCEPT, timeout_s=call.remaining()
        )
        header = pb.QueryHeader(form=result.form.value, row_count=result.rows)
        if result.media_type == SPARQL_JSON:
            body = orjson.loads(result.body)
            if "boolean" in body:
                yield pb.QueryResponse(header=header)
                yield pb.QueryResponse(boolean=bool(body["boolean"]))
                return
            header.variables.extend(body.get("head", {}).get("vars", []))
            yield pb.QueryResponse(header=header)
            for binding in body.get("results", {}).get("bindings", []):
                solution = pb.Solution()
                for name, term in binding.items():
                    solution.bindings[name].CopyFrom(term_from_json(term))
                yield pb.QueryResponse(solution=solution)
            return
        yield pb.QueryResponse(header=header)
        for triple in ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES):
            yield pb.QueryResponse(
                triple=pb.Triple(
                    subject=term_from_oxigraph(triple.subject),
                    predicate=term_from_oxigraph(triple.predicate),
                    object=term_from_oxigraph(triple.object),
                )
            )
