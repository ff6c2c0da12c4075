"""Errors of the RDF graph stores and of the tenant-scoped SPARQL query path.

They join the core's one error tree (`server.core.errors.NdtError`), so a face renders
them like any other: Ditto error JSON over REST, ``google.rpc.Status`` over gRPC.

Tree::

    NdtError
    ├── BadRequest
    │   ├── SparqlQueryInvalid     sparql:query.invalid      400  syntax errors
    │   └── GraphTermInvalid       graph:term.invalid        400  a triple that is not RDF
    ├── SparqlQueryForbidden       sparql:query.forbidden    403  SERVICE, updates, FROM
    ├── SparqlFormatNotAcceptable  sparql:format.notacceptable 406
    ├── SparqlQueryTimeout         sparql:query.timeout      408
    ├── SparqlQueryTooLarge        sparql:query.toolarge     413  query text or row cap
    └── StoreUnavailable
        └── GraphStoreUnavailable  graph:store.unavailable   503

Foreign exceptions (pyoxigraph's ``SyntaxError``/``OSError``/``ValueError``, httpx's
transport errors) are turned into these inside the store modules, with the cause chained.
"""

from __future__ import annotations

from server.core.errors import BadRequest, NdtError, StoreUnavailable

__all__ = [
    "GraphStoreUnavailable",
    "GraphTermInvalid",
    "SparqlFormatNotAcceptable",
    "SparqlQueryForbidden",
    "SparqlQueryInvalid",
    "SparqlQueryTimeout",
    "SparqlQueryTooLarge",
]


class SparqlQueryInvalid(BadRequest):
    """The query text is not a SPARQL 1.1 query the engine can parse."""

    code = "sparql:query.invalid"
    default_message = "The SPARQL query is not valid."
    default_description = "Check the query against the SPARQL 1.1 grammar."


class SparqlQueryForbidden(NdtError):
    """The query uses something the tenant query path refuses (SERVICE, updates, FROM)."""

    code = "sparql:query.forbidden"
    status = 403
    grpc_code = "PERMISSION_DENIED"
    default_message = "The SPARQL query uses a feature that is not permitted."
    default_description = (
        "Queries see only the tenant's own graph: SERVICE, FROM/FROM NAMED and every form "
        "of update are refused."
    )


class SparqlFormatNotAcceptable(NdtError):
    """No result serialisation the client accepts fits the query form."""

    code = "sparql:format.notacceptable"
    status = 406
    grpc_code = "INVALID_ARGUMENT"
    default_message = "None of the accepted media types can represent this result."


class SparqlQueryTimeout(NdtError):
    """The query ran past the tenant's time limit; nothing was returned."""

    code = "sparql:query.timeout"
    # Ditto answers a command that ran out of time with 408 (gateway:command.timeout).
    status = 408
    grpc_code = "DEADLINE_EXCEEDED"
    default_message = "The SPARQL query ran past its time limit."
    default_description = "Narrow the query (fewer patterns, a LIMIT) or ask for a higher limit."


class SparqlQueryTooLarge(NdtError):
    """The query text or its result is larger than the tenant's limits allow."""

    code = "sparql:query.toolarge"
    status = 413
    grpc_code = "RESOURCE_EXHAUSTED"
    default_message = "The SPARQL query or its result exceeds the allowed size."
    default_description = "Add a LIMIT, or select fewer rows."


class GraphTermInvalid(BadRequest):
    """A triple handed to the store holds a term that is not valid RDF (e.g. a bad IRI)."""

    code = "graph:term.invalid"
    default_message = "A triple holds an invalid RDF term."


class GraphStoreUnavailable(StoreUnavailable):
    """The RDF store could not be reached, or failed while reading or writing."""

    code = "graph:store.unavailable"
    default_message = "The graph store is unavailable."
