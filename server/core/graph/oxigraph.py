"""The embedded graph store: pyoxigraph (RocksDB) in the data directory, or in memory."""

from __future__ import annotations

import itertools
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
from server.core.graph.terms import Triple, graph_node, tenant_of_graph, to_ntriples

__all__ = ["LOAD_CHUNK", "OxigraphGraphStore", "update_text"]

LOAD_CHUNK = 200_000
"""Triples per bulk-load call: bounds the text held in memory while loading.

A load of fewer triples is one ordinary transaction instead: each bulk-load call writes
new RocksDB files, and many small ones slow every later read until they are compacted.
"""


def update_text(changes: Sequence[tuple[ox.NamedNode, list[str], list[str]]]) -> str:
    """One SPARQL 1.1 Update request for ``(graph, delete, insert)`` changes, in order.

    ``delete`` and ``insert`` are N-Triples lines (`terms.to_ntriples`), which are valid
    SPARQL triples. The request is ``DELETE DATA``/``INSERT DATA`` operations joined by
    ``;`` (Update §3.1.1, §3.1.2), which an engine applies as one unit.
    """
    ops: list[str] = []
    for graph, delete, insert in changes:
        for keyword, lines in (("DELETE", delete), ("INSERT", insert)):
            if lines:
                ops.append(f"{keyword} DATA {{ GRAPH {graph} {{\n" + "\n".join(lines) + "\n} }")
    return " ;\n".join(ops)


class OxigraphGraphStore(GraphStore):
    """`GraphStore` on an embedded pyoxigraph ``Store``.

    Parameters
    ----------
    path:
        Directory of the RocksDB files (created if missing); None keeps the graph in
        memory. One process at a time may open a directory.

    Every diff is one ``DELETE DATA``/``INSERT DATA`` update, the one transaction
    pyoxigraph offers its Python callers for mixed changes. A load of `LOAD_CHUNK` triples
    or more goes through pyoxigraph's bulk loader chunk by chunk, then compacts; a smaller
    one is a single transaction, so loading twin by twin stays cheap.

    The query time limit is checked between solutions (pyoxigraph has no query timeout):
    a query whose first solution needs a full sort or aggregate over a large graph can
    overrun it by that step.
    """

    local = True

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
        # Print everything first: an invalid term must fail before anything is written.
        prepared = [
            (graph_node(t), list(to_ntriples(t, delete)), list(to_ntriples(t, insert)))
            for t, delete, insert in changes
        ]
        text = update_text(prepared)
        if text:
            with _mapped("write", GraphTermInvalid):
                self.store.update(text)  # one transaction (pyoxigraph docs)

    def apply_ntriples(self, changes: Sequence[tuple[str, list[str], list[str]]]) -> None:
        """`apply_many` for N-Triples lines that ndtwin's projection printed itself.

        The projection builds every IRI through `server.modeling.vocab` (percent-encoded)
        and escapes every literal, so the lines are trusted and skip re-printing, which
        is most of the cost of a write's graph update.
        """
        text = update_text([(graph_node(t), delete, insert) for t, delete, insert in changes])
        if text:
            with _mapped("write", GraphTermInvalid):
                self.store.update(text)

    def clear(self, tenant: str) -> None:
        with _mapped("clear"):
            self.store.remove_graph(graph_node(tenant))

    def load(self, tenant: str, triples: Iterable[Triple]) -> int:
        graph = graph_node(tenant)
        store = self.store
        total = 0
        lines = to_ntriples(tenant, triples)
        while True:
            chunk = list(itertools.islice(lines, LOAD_CHUNK))
            if not chunk:
                break
            with _mapped("load", GraphTermInvalid):
                data = ("\n".join(chunk) + "\n").encode()
                if total == 0 and len(chunk) < LOAD_CHUNK:
                    store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
                    return len(chunk)
                store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
            total += len(chunk)
        if total:
            # Merge the bulk loader's files, so that reads do not consult each of them.
            with _mapped("compact after a bulk load"):
                store.optimize()
        return total

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
