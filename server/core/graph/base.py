"""The `GraphStore` contract: a narrow, synchronous transport for tenants' RDF graphs.

Every committed twin write is projected into its tenant's named graph
(`server.modeling.vocab.tenant_graph`); the document store stays the source of truth, and
``ndtwin graph rebuild`` recreates a graph with `GraphStore.clear` and `GraphStore.load`.
Two implementations sit side by side, with one contract suite in ``tests/contract/``:

- `server.core.graph.oxigraph.OxigraphGraphStore`: embedded pyoxigraph, on disk in the
  data directory (or in memory);
- `server.core.graph.sparql_http.SparqlHttpGraphStore`: any SPARQL 1.1 Query + Update
  endpoint (with the Graph Store Protocol where the endpoint offers it), tested against
  ``oxigraph serve``.

Rules every implementation keeps:

- writes touch only the named graph of the tenant they name;
- `GraphStore.apply_many` is one transaction where the backend allows it (both do: a
  pyoxigraph update, and one SPARQL Update request, which SPARQL 1.1 Update §2.2 asks an
  endpoint to treat atomically);
- a tenant query runs over a dataset holding only the tenant's graph (see
  `server.core.graph.tenancy`), under a time limit and a row cap;
- foreign exceptions are mapped to `server.core.graph.errors` at the store's border.

Triples are tuples of rdflib terms (see `server.core.graph.terms`); pyoxigraph terms are
accepted too.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import ClassVar, Self, TypeAlias, TypeVar

import pyoxigraph as ox

from server.core.graph import formats
from server.core.graph.errors import SparqlQueryTimeout, SparqlQueryTooLarge
from server.core.graph.tenancy import MAX_QUERY_LENGTH, QueryForm, inspect_query
from server.core.graph.terms import Triple

__all__ = [
    "Change",
    "GraphStore",
    "QueryLimits",
    "QueryResult",
    "RawResult",
]

Change: TypeAlias = tuple[str, Iterable[Triple], Iterable[Triple]]
"""One atomic change of a tenant's graph: ``(tenant, delete, insert)``."""

_T = TypeVar("_T")

RawResult: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]
"""What an engine hands back before limits and serialisation: solutions, a boolean or triples."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Per-tenant bounds of the SPARQL query path.

    ``timeout_s`` bounds the wall time of one query, ``max_rows`` the solutions (SELECT) or
    triples (CONSTRUCT/DESCRIBE) it may return, ``max_query_length`` the query text.
    """

    timeout_s: float = 10.0
    max_rows: int = 10_000
    max_query_length: int = MAX_QUERY_LENGTH

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        if self.max_rows < 0 or self.max_query_length < 1:
            raise ValueError("max_rows must be >= 0 and max_query_length >= 1")


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A serialised query result.

    ``media_type`` is the negotiated type (the body is UTF-8 for the text types), ``form``
    the query form, ``rows`` the number of solutions or triples (1 for ASK).
    """

    media_type: str
    body: bytes
    form: QueryForm
    rows: int


@dataclass(slots=True)
class _Limits:
    default: QueryLimits = field(default_factory=QueryLimits)
    per_tenant: Mapping[str, QueryLimits] = field(default_factory=dict)

    def of(self, tenant: str) -> QueryLimits:
        return self.per_tenant.get(tenant, self.default)


class GraphStore(ABC):
    """Tenants' named graphs: exact-diff writes, bulk loads and tenant-scoped SPARQL.

    Parameters
    ----------
    limits:
        Default `QueryLimits` of every tenant.
    tenant_limits:
        Overrides for some tenants, by tenant name.
    """

    #: True when updates and queries run in this process (no network round trip).
    local: ClassVar[bool] = False

    def __init__(
        self,
        *,
        limits: QueryLimits | None = None,
        tenant_limits: Mapping[str, QueryLimits] | None = None,
    ) -> None:
        self._limits = _Limits(limits or QueryLimits(), dict(tenant_limits or {}))

    # --- lifecycle -------------------------------------------------------------------

    @abstractmethod
    def open(self) -> None:
        """Open the store (create it if needed); idempotent."""

    @abstractmethod
    def close(self) -> None:
        """Release the store; idempotent."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- writes ----------------------------------------------------------------------

    def apply(self, tenant: str, delete: Iterable[Triple], insert: Iterable[Triple]) -> None:
        """Remove ``delete`` from and add ``insert`` to ``tenant``'s graph, atomically.

        Deletes go first, so a triple in both ends up present. Deleting an absent triple
        and inserting a present one are no-ops.
        """
        self.apply_many([(tenant, delete, insert)])

    @abstractmethod
    def apply_ntriples(self, changes: Sequence[tuple[str, list[str], list[str]]]) -> None:
        """Like `apply_many`, for ``(tenant, delete, insert)`` N-Triples lines (``s p o .``)
        printed by ndtwin's own projection; the fast path of the graph projector."""

    @abstractmethod
    def apply_many(self, changes: Sequence[Change]) -> None:
        """Apply several `Change` s, in order, as one transaction.

        Raises `GraphTermInvalid` before writing anything if a triple is not valid RDF,
        and `GraphStoreUnavailable` if the backend fails (then nothing was written).
        """

    @abstractmethod
    def clear(self, tenant: str) -> None:
        """Remove every triple of ``tenant``; other tenants are untouched."""

    @abstractmethod
    def load(self, tenant: str, triples: Iterable[Triple]) -> int:
        """Add many triples to ``tenant``'s graph without holding them all in memory.

        Not atomic: a failure can leave part of the triples loaded, which a rebuild
        (`clear`, then `load`) repairs. Returns the number of triples read.
        """

    # --- reads -----------------------------------------------------------------------

    @abstractmethod
    def count(self, tenant: str) -> int:
        """The number of triples in ``tenant``'s graph."""

    @abstractmethod
    def tenants(self) -> list[str]:
        """The tenants holding at least one triple, sorted."""

    def limits(self, tenant: str) -> QueryLimits:
        """The `QueryLimits` that apply to ``tenant``."""
        return self._limits.of(tenant)

    def query(
        self,
        tenant: str,
        text: str,
        accept: str | None = None,
        timeout_s: float | None = None,
        max_rows: int | None = None,
    ) -> QueryResult:
        """Run a SPARQL query over ``tenant``'s graph alone and serialise the result.

        Parameters
        ----------
        tenant:
            Whose graph the query sees; it is the whole dataset (default and only named
            graph), whatever the query says.
        text:
            A SPARQL 1.1 query. SERVICE, FROM/FROM NAMED and updates are refused.
        accept:
            An HTTP Accept field; see `formats.negotiate`.
        timeout_s, max_rows:
            Tighter bounds than the tenant's `QueryLimits` (a larger value is capped).

        Returns
        -------
        QueryResult
            The body in the negotiated media type.

        Raises
        ------
        SparqlQueryInvalid, SparqlQueryForbidden, SparqlFormatNotAcceptable,
        SparqlQueryTimeout, SparqlQueryTooLarge, GraphStoreUnavailable
        """
        limits = self.limits(tenant)
        form = inspect_query(text, max_length=limits.max_query_length)
        media_type = formats.negotiate(accept, form)
        timeout = limits.timeout_s if timeout_s is None else min(timeout_s, limits.timeout_s)
        cap = limits.max_rows if max_rows is None else min(max_rows, limits.max_rows)
        deadline = time.monotonic() + timeout
        with self._evaluate(tenant, text, form, timeout) as raw:
            if isinstance(raw, ox.QueryBoolean):
                _check_deadline(deadline, timeout)
                return QueryResult(
                    media_type, formats.serialize_boolean(media_type, bool(raw)), form, 1
                )
            if isinstance(raw, ox.QuerySolutions):
                variables = [v.value for v in raw.variables]
                rows = _collect(raw, deadline, timeout, cap)
                body = formats.serialize_solutions(media_type, variables, rows)
                return QueryResult(media_type, body, form, len(rows))
            triples = _collect(raw, deadline, timeout, cap)
            return QueryResult(
                media_type, formats.serialize_graph(media_type, triples), form, len(triples)
            )

    @abstractmethod
    def _evaluate(
        self, tenant: str, text: str, form: QueryForm, timeout_s: float
    ) -> AbstractContextManager[RawResult]:
        """Start ``text`` on the engine with ``tenant``'s graph as the whole dataset.

        The context yields lazily produced results; leaving it releases the engine's
        resources (e.g. an HTTP response). It runs no tenancy checks: `query` does those
        first, and only tests call this directly, to prove the dataset alone isolates.
        """


def _check_deadline(deadline: float, timeout: float) -> None:
    if time.monotonic() > deadline:
        raise SparqlQueryTimeout(f"The query ran longer than {timeout:g} s.")


def _collect(items: Iterable[_T], deadline: float, timeout: float, cap: int) -> list[_T]:
    """Take items until exhausted, failing past the deadline or beyond ``cap`` items.

    The deadline is checked between items: an engine step that produces nothing for a long
    time (a sort, an aggregate) is only noticed once it yields.
    """
    out: list[_T] = []
    for item in items:
        if len(out) == cap:
            raise SparqlQueryTooLarge(
                f"The query returns more than {cap} rows.",
                description="Add a LIMIT, or select fewer rows.",
            )
        out.append(item)
        if time.monotonic() > deadline:
            raise SparqlQueryTimeout(f"The query ran longer than {timeout:g} s.")
    _check_deadline(deadline, timeout)
    return out
