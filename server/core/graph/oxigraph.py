"""The embedded graph store: pyoxigraph (RocksDB) in the data directory, or in memory."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from server.core.errors import NdtError
from server.core.graph.base import Change, GraphStore, QueryLimits, RawResult
from server.core.graph.errors import (
    GraphStoreUnavailable,
    GraphTermInvalid,
    SparqlQueryInvalid,
)
from server.core.graph.tenancy import QueryForm
from server.core.graph.terms import Triple, graph_node, tenant_of_graph, to_quads

__all__ = ["OxigraphGraphStore", "update_text"]


def update_text(changes: Sequence[tuple[ox.NamedNode, list[ox.Quad], list[ox.Quad]]]) -> str:
    """One SPARQL 1.1 Update request for ``(graph, delete, insert)`` changes, in order.

    Terms are printed by pyoxigraph as N-Triples, which is valid SPARQL term syntax; the
    request is ``DELETE DATA``/``INSERT DATA`` operations joined by ``;`` (Update §3.1.1,
    §3.1.2), which an engine applies as one unit.
    """
    ops: list[str] = []
    for graph, delete, insert in changes:
        for keyword, quads in (("DELETE", delete), ("INSERT", insert)):
            if quads:
                body = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
                ops.append(f"{keyword} DATA {{ GRAPH {graph} {{ {body} }} }}")
    return " ;\n".join(ops)


class OxigraphGraphStore(GraphStore):
    """`GraphStore` on an embedded pyoxigraph ``Store``.

    Parameters
    ----------
    path:
        Directory of the RocksDB files (created if missing); None keeps the graph in
        memory. One process at a time may open a directory.

    Hot writes use the native API where it is atomic (``extend`` for inserts) and a
    ``DELETE DATA``/``INSERT DATA`` update otherwise, since pyoxigraph offers no other
    transaction to its Python callers. The query time limit is checked between solutions
    (pyoxigraph has no query timeout): a query whose first solution needs a full sort or
    aggregate over a large graph can overrun it by that step.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        limits: QueryLimits | None = None,
        tenant_limits: Mapping[str, QueryLimits] | None = None,
    ) -> None:
        super().__init__(limits=limits, tenant_limits=tenant_limits)
        self.path = Path(path) if path is not None else None
        self._store: ox.Store | None = None

    def __repr__(self) -> str:
        return f"OxigraphGraphStore({str(self.path) if self.path else 'memory'!r})"

    # --- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        if self._store is not None:
            return
        try:
            self._store = ox.Store(str(self.path)) if self.path is not None else ox.Store()
        except OSError as exc:
            raise GraphStoreUnavailable(
                f"Cannot open the graph store at {self.path}: {exc}",
                description="Another process may hold the directory open.",
            ) from exc

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.flush()
            except OSError as exc:
                raise GraphStoreUnavailable(f"Flushing the graph store failed: {exc}") from exc
            # RocksDB releases its lock when the last reference goes.
            del store

    @property
    def store(self) -> ox.Store:
        """The open pyoxigraph store (for the graph rebuild and benchmarks)."""
        if self._store is None:
            raise GraphStoreUnavailable("The graph store is not open.")
        return self._store

    # --- writes ----------------------------------------------------------------------

    def apply_many(self, changes: Sequence[Change]) -> None:
        # Convert everything first: an invalid term must fail before anything is written.
        prepared = [
            (graph_node(tenant), list(to_quads(tenant, delete)), list(to_quads(tenant, insert)))
            for tenant, delete, insert in changes
        ]
        store = self.store
        with _mapped("write", GraphTermInvalid):
            if not any(delete for _, delete, _ in prepared):
                inserts = [q for _, _, insert in prepared for q in insert]
                if inserts:
                    store.extend(inserts)  # one transaction (pyoxigraph docs)
                return
            text = update_text(prepared)
            store.update(text)

    def clear(self, tenant: str) -> None:
        with _mapped("clear"):
            self.store.remove_graph(graph_node(tenant))

    def load(self, tenant: str, triples: Iterable[Triple]) -> int:
        counter = _Counter(to_quads(tenant, triples))
        with _mapped("bulk load", GraphTermInvalid):
            self.store.bulk_extend(counter)
        return counter.n

    # --- reads -----------------------------------------------------------------------

    def count(self, tenant: str) -> int:
        text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph_node(tenant)} {{ ?s ?p ?o }} }}"
        with _mapped("count"):
            solutions = self.store.query(text)
            assert isinstance(solutions, ox.QuerySolutions)
            term = next(solutions)[0]
        assert isinstance(term, ox.Literal)
        return int(term.value)

    def tenants(self) -> list[str]:
        store = self.store
        out: list[str] = []
        with _mapped("list graphs"):
            for graph in store.named_graphs():
                if not isinstance(graph, ox.NamedNode):
                    continue
                tenant = tenant_of_graph(graph.value)
                if tenant is not None and next(
                    iter(store.quads_for_pattern(None, None, None, graph)), None
                ):
                    out.append(tenant)
        return sorted(out)

    @contextmanager
    def _evaluate(
        self, tenant: str, text: str, form: QueryForm, timeout_s: float
    ) -> Iterator[RawResult]:
        graph = graph_node(tenant)
        with _mapped("query"):
            # The tenant graph is the whole dataset: the default graph and the only graph
            # GRAPH can reach. pyoxigraph lets these override FROM/FROM NAMED.
            result = self.store.query(text, default_graph=[graph], named_graphs=[graph])
            yield result


class _Counter:
    """Iterator wrapper that counts what passes through."""

    __slots__ = ("_items", "n")

    def __init__(self, items: Iterator[ox.Quad]) -> None:
        self._items = items
        self.n = 0

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> ox.Quad:
        item = next(self._items)
        self.n += 1
        return item


@contextmanager
def _mapped(
    action: str, invalid: type[SparqlQueryInvalid | GraphTermInvalid] = SparqlQueryInvalid
) -> Iterator[None]:
    """Map pyoxigraph's exceptions to the graph errors, cause chained.

    ``SyntaxError`` and ``ValueError`` become ``invalid`` (the query, or for writes a term
    pyoxigraph would not print back), ``OSError`` a `GraphStoreUnavailable`.
    """
    try:
        yield
    except NdtError:
        raise
    except (SyntaxError, ValueError) as exc:
        raise invalid(f"The graph store refused to {action}: {exc}") from exc
    except (OSError, RuntimeError) as exc:
        raise GraphStoreUnavailable(f"The graph store failed to {action}: {exc}") from exc
