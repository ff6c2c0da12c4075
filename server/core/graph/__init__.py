"""Tenants' RDF graphs: the `GraphStore` contract, its embedded and HTTP stores, and SPARQL.

See `server.core.graph.base` for the contract and `server.core.graph.tenancy` for how a
tenant's query is kept to the tenant's graph.
"""

from server.core.graph.base import Change, GraphStore, QueryLimits, QueryResult
from server.core.graph.errors import (
    GraphStoreUnavailable,
    GraphTermInvalid,
    SparqlFormatNotAcceptable,
    SparqlQueryForbidden,
    SparqlQueryInvalid,
    SparqlQueryTimeout,
    SparqlQueryTooLarge,
)
from server.core.graph.factory import EMBEDDED, MEMORY, open_graph_store
from server.core.graph.oxigraph import OxigraphGraphStore
from server.core.graph.sparql_http import SparqlHttpGraphStore
from server.core.graph.tenancy import QueryForm, inspect_query
from server.core.graph.terms import Triple

__all__ = [
    "EMBEDDED",
    "MEMORY",
    "Change",
    "GraphStore",
    "GraphStoreUnavailable",
    "GraphTermInvalid",
    "OxigraphGraphStore",
    "QueryForm",
    "QueryLimits",
    "QueryResult",
    "SparqlFormatNotAcceptable",
    "SparqlHttpGraphStore",
    "SparqlQueryForbidden",
    "SparqlQueryInvalid",
    "SparqlQueryTimeout",
    "SparqlQueryTooLarge",
    "Triple",
    "inspect_query",
    "open_graph_store",
]
