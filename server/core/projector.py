"""Keep the RDF graph in step with the document store through the outbox.

The document store is the source of truth. Every committed write carries an outbox
entry with the entity's old and new JSON; the projector turns both into triples and
applies the exact difference to the tenant's graph. Entries are applied strictly in
commit order under one lock, so two writers of the same twin can never be projected out
of order. An entry is acknowledged after its change is in the graph; a crash between
the two commits leaves it pending, and the next :meth:`GraphProjector.drain` (at the
latest at start-up) applies it again. Re-applying a run of diffs in order converges on
the same graph, so the replay is safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from server.core.graph.base import GraphStore
from server.core.graph.terms import Triple
from server.core.stores.base import TwinStore
from server.core.stores.records import OutboxEntry
from server.modeling import projection, vocab

__all__ = ["BackgroundProjection", "GraphProjector", "project_entity"]

log = logging.getLogger(__name__)


ClassOf = Callable[[str], "str | None"]


def _default_class_of(definition: str) -> str | None:
    iri = vocab.definition_class_iri(definition)
    return None if iri is None else str(iri)


def project_entity(
    tenant: str, kind: str, doc: dict[str, Any] | None, class_of: ClassOf = _default_class_of
) -> set[Triple]:
    """The triples of one twin or relationship JSON (empty for None)."""
    if doc is None:
        return set()
    if kind == "twin":
        return set(projection.project_twin(tenant, doc, class_of))
    return set(projection.project_relationship(tenant, _relationship_json(doc), class_of))


def project_lines(
    tenant: str, kind: str, doc: dict[str, Any] | None, class_of: ClassOf = _default_class_of
) -> set[str]:
    """The same triples as N-Triples lines (``s p o .``): the projector's fast path."""
    if doc is None:
        return set()
    if kind == "twin":
        text = projection.project_twin_nquads(tenant, doc, class_of)
    else:
        text = projection.project_relationship_nquads(tenant, _relationship_json(doc), class_of)
    # Each N-Quads line ends in " <graph> ."; drop the graph to get the N-Triples line.
    cut = _graph_suffix_length(tenant)
    return {line[:-cut] + " ." for line in text.splitlines() if line}


@lru_cache(maxsize=1024)
def _graph_suffix_length(tenant: str) -> int:
    return len(f" <{vocab.tenant_graph(tenant)}> .")


def _revision(doc: dict[str, Any]) -> Any:
    return doc.get("_revision")


class LRU(OrderedDict[tuple[str, str], tuple[Any, set[str]]]):
    """A small bounded mapping: the oldest entry goes when a new one exceeds the size."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: tuple[str, str], value: tuple[Any, set[str]]) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


def _relationship_json(view: dict[str, Any]) -> dict[str, Any]:
    rel = dict(view)
    rel.setdefault("id", rel.get("relationshipId"))
    return rel


class GraphProjector:
    """Applies pending outbox entries to the graph store, oldest first."""

    def __init__(
        self,
        store: TwinStore,
        graph: GraphStore,
        batch_size: int = 256,
        class_of: ClassOf | None = None,
    ) -> None:
        self._class_of = class_of or _default_class_of
        self._store = store
        self._graph = graph
        self._batch = batch_size
        self._lock = threading.Lock()
        self.failures = 0
        #: Whether the last drain stopped on a graph failure (entries are still pending).
        self.failing = False
        # Last projected state per entity, bounded; saves re-projecting an entry's old doc.
        self._last: LRU = LRU(4096)

    def drain(self) -> int:
        """Apply everything pending now; returns how many entries were applied.

        A graph failure leaves the entries pending (logged, counted); the next drain,
        from the next write or from start-up, retries them.
        """
        applied = 0
        with self._lock:
            while True:
                entries = self._store.pending_outbox(self._batch)
                if not entries:
                    self.failing = False
                    return applied
                try:
                    self._apply(entries)
                except Exception:
                    self.failures += 1
                    self.failing = True
                    log.exception("graph projection failed; %d entries stay pending", len(entries))
                    return applied
                self._store.ack_outbox([e.id for e in entries])
                applied += len(entries)
                if len(entries) < self._batch:
                    self.failing = False
                    return applied

    def _apply(self, entries: list[OutboxEntry]) -> None:
        """Apply in order; a deleted tenant's entry clears its whole graph."""
        changes: list[tuple[str, list[str], list[str]]] = []
        for entry in entries:
            if entry.kind == "tenant":
                if changes:
                    self._graph.apply_ntriples(changes)
                    changes = []
                self._graph.clear(entry.tenant)
            else:
                changes.append(self._change(entry))
        if changes:
            self._graph.apply_ntriples(changes)

    def _change(self, entry: OutboxEntry) -> tuple[str, list[str], list[str]]:
        old = self._lines(entry, entry.old_doc)
        new = self._lines(entry, entry.new_doc)
        if entry.new_doc is not None:
            self._last[(entry.tenant, entry.entity_id)] = (_revision(entry.new_doc), new)
        else:
            self._last.pop((entry.tenant, entry.entity_id), None)
        return entry.tenant, sorted(old - new), sorted(new - old)

    def _lines(self, entry: OutboxEntry, doc: dict[str, Any] | None) -> set[str]:
        """Projected lines of ``doc``; the previous entry's new state is reused when it is
        this entry's old state (the common case of consecutive writes)."""
        if doc is None:
            return set()
        cached = self._last.get((entry.tenant, entry.entity_id))
        if cached is not None and cached[0] == _revision(doc) and doc is entry.old_doc:
            return cached[1]
        return project_lines(entry.tenant, entry.kind, doc, self._class_of)

    def rebuild(
        self, tenant: str, twins: Iterable[dict[str, Any]], relationships: Iterable[dict[str, Any]]
    ) -> int:
        """Recreate one tenant's graph from documents (``ndtwin graph rebuild``).

        One generator feeds the store's bulk loader, so memory stays flat however many
        twins the tenant has.
        """

        def triples() -> Iterator[Triple]:
            for doc in twins:
                yield from project_entity(tenant, "twin", doc, self._class_of)
            for doc in relationships:
                yield from project_entity(tenant, "relationship", doc, self._class_of)

        with self._lock:
            self._graph.clear(tenant)
            return self._graph.load(tenant, triples())


class BackgroundProjection:
    """A thread that drains the outbox shortly after each commit, in batches.

    Writers only signal (`notify`); the thread waits ``linger_s`` so that the writes of a
    burst share one outbox read and one graph update, then drains. A failed drain is
    retried every ``retry_s`` until the graph store is back. Readers that need the graph
    to hold every committed write call `GraphProjector.drain` themselves first (the core
    does before every graph read), so read-your-writes holds without waiting here.
    """

    def __init__(self, projector: GraphProjector, linger_s: float = 0.002, retry_s: float = 1.0):
        self._projector = projector
        self._linger = linger_s
        self._retry = retry_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="ndtwin-graph-projection", daemon=True
            )
            self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread after a last drain (nothing committed is left unprojected
        unless the graph store fails; then start-up applies it)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join()
        self._projector.drain()

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self._wake.wait(self._retry if self._projector.failing else None)
            if self._stop.is_set():
                return
            if woken and self._linger > 0:
                time.sleep(self._linger)
            self._wake.clear()
            self._projector.drain()
