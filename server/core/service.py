"""The one service core: every face (REST, gRPC, MQTT, conformance kit) calls this.

:class:`Core` wires a document store, a graph store and a validator together and
exposes the operations grouped by resource: ``core.twins``, ``core.relationships``,
``core.batch``, ``core.tenants``, plus SPARQL, history and the change stream. It holds
no web or gRPC types (a layering test checks that), and it is synchronous: faces call
it from worker threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from server.core import errors
from server.core.batch import BatchService
from server.core.catalog import ModelCatalog
from server.core.context import Caller
from server.core.graph.base import GraphStore, QueryResult
from server.core.ids import TenantId, ThingId
from server.core.projector import BackgroundProjection, GraphProjector
from server.core.relationships.service import RelationshipService
from server.core.stores.base import TwinStore
from server.core.stores.records import ChangeEvent, HistoryBucket, HistoryPoint, utc_now
from server.core.tenants import TenantService
from server.core.twins.service import TwinService
from server.core.validation.base import TwinValidator
from server.core.writes import record_view, relationship_view

__all__ = ["Core", "CoreSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CoreSettings:
    """Knobs of the core that are not the choice of stores."""

    #: How committed writes reach the graph. "background" (default): a projector thread
    #: applies them in batches right after the commit, and every graph read through the
    #: core first applies what is still pending, so SPARQL reads its writes. "inline": the
    #: writer applies them before it returns. "manual": only :meth:`Core.drain_graph` (and
    #: start-up) applies them; for tools and crash tests.
    projection: Literal["background", "inline", "manual"] = "background"
    #: Keep history points, events and old revisions this long (None: forever).
    retention_seconds: float | None = None
    #: Most history points one query may return.
    max_history_points: int = 10_000


class Core:
    """The service core over one document store, one graph store and one validator."""

    def __init__(
        self,
        store: TwinStore,
        graph: GraphStore,
        validator: TwinValidator,
        settings: CoreSettings | None = None,
        catalog: ModelCatalog | None = None,
    ) -> None:
        self.store = store
        self.graph = graph
        self.validator = validator
        self.settings = settings or CoreSettings()
        self.catalog = catalog
        self.projector = GraphProjector(
            store, graph, class_of=catalog.class_iri if catalog else None
        )
        self._background = (
            BackgroundProjection(self.projector)
            if self.settings.projection == "background"
            else None
        )
        # Commits of this process not yet known to be in the graph: a read drains first.
        self._unprojected = threading.Event()
        self.twins = TwinService(store, validator, self._committed)
        self.relationships = RelationshipService(store, validator, self._committed)
        self.batch = BatchService(store, validator, self._committed)
        # The store records the deletion in the outbox; the projector clears the graph.
        self.tenants = TenantService(store, on_delete=lambda _: self._committed([]))

    # -- lifecycle --------------------------------------------------------------------
    def open(self) -> None:
        """Open both stores, repair the graph from the outbox (crash recovery) and apply
        the retention setting once."""
        self.store.open()
        self.graph.open()
        repaired = self.projector.drain()
        if repaired:
            log.info("graph: applied %d pending outbox entries at start-up", repaired)
        if self._background is not None:
            self._background.start()
        pruned = self.prune()
        if pruned:
            log.info("retention: removed %d old history points, events and revisions", pruned)

    def close(self) -> None:
        if self._background is not None:
            self._background.stop()
        self.store.close()
        self.graph.close()

    def __enter__(self) -> Core:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _committed(self, events: list[ChangeEvent]) -> None:
        if self.settings.projection == "inline":
            self.projector.drain()
        elif self._background is not None:
            self._unprojected.set()
            self._background.notify()

    def runs_inline(self, write: bool) -> bool:
        """Whether a point call (one twin read, or one twin write) is cheap enough to run on
        the caller's event loop rather than be handed to a worker thread.

        With an embedded store such a call costs tens of microseconds, while the hand-off
        to a thread and back costs more under load (interpreter-lock switches between the
        loop and the workers): measured with wrk on 2 cores, GET rose from about 2.6k to
        5k req/s. A write qualifies only when nothing in it can wait long: no network
        round trip (store, or graph with inline projection), a fast validator, and no
        other write of this process holding the store's writer at that moment.
        """
        if not self.store.local:
            return False
        if not write:
            return True
        if self.settings.projection == "inline" and not self.graph.local:
            return False
        return self.validator.fast and not self.store.writer_busy()

    def drain_graph(self) -> int:
        """Apply every pending outbox entry to the graph now."""
        self._unprojected.clear()
        return self.projector.drain()

    def fresh_graph(self) -> GraphStore:
        """The graph store, holding every write this process committed (read your writes).

        Readers of the graph go through here (SPARQL, counts, exports); the drain is a
        no-op unless a commit is still on its way from the projector thread.
        """
        if self._unprojected.is_set():
            self.drain_graph()
        return self.graph

    def rebuild_graph(self, tenant: str | None = None) -> int:
        """Recreate the RDF graph from the document store (``ndtwin graph rebuild``)."""
        tenants = [
            t.tenant for t in self.store.list_tenants() if tenant is None or t.tenant == tenant
        ]
        self.projector.drain()

        def twins(name: TenantId) -> Iterator[dict[str, Any]]:
            cursor: str | None = None
            while True:
                page = self.store.search(name, None, size=200, cursor=cursor)
                yield from (record_view(record) for record in page.items)
                if page.cursor is None:
                    return
                cursor = page.cursor

        def relationships(name: TenantId) -> Iterator[dict[str, Any]]:
            cursor: str | None = None
            while True:
                items, cursor = self.store.list_relationships(name, size=200, cursor=cursor)
                yield from (relationship_view(record) for record in items)
                if cursor is None:
                    return

        return sum(
            self.projector.rebuild(name, twins(name), relationships(name)) for name in tenants
        )

    # -- SPARQL ---------------------------------------------------------------------
    def query(
        self,
        caller: Caller,
        text: str,
        accept: str | None = None,
        timeout_s: float | None = None,
        max_rows: int | None = None,
    ) -> QueryResult:
        """A SPARQL 1.1 query over the caller's graph only (dataset fixed by tenant).

        ``timeout_s``/``max_rows`` may only tighten the tenant's limits (a deadline of a
        gRPC call, say); larger values are capped by the graph store.
        """
        return self.fresh_graph().query(
            caller.tenant, text, accept, timeout_s=timeout_s, max_rows=max_rows
        )

    # -- history ----------------------------------------------------------------------
    def history(
        self, caller: Caller, thing_id: str, path: str | None, start: datetime, end: datetime
    ) -> list[HistoryPoint]:
        # History outlives a deleted twin; the store scopes every query by tenant.
        tid = ThingId(thing_id)
        return self.store.history(
            caller.tenant, tid, path, start, end, self.settings.max_history_points
        )

    def history_buckets(
        self,
        caller: Caller,
        thing_id: str,
        path: str | None,
        start: datetime,
        end: datetime,
        bucket_seconds: float,
    ) -> list[HistoryBucket]:
        if not bucket_seconds > 0:
            raise errors.JsonFormatInvalid("The bucket width must be positive.")
        tid = ThingId(thing_id)
        return self.store.history_buckets(caller.tenant, tid, path, start, end, bucket_seconds)

    def prune(self, now: datetime | None = None) -> int:
        """Apply the retention setting; returns the rows removed."""
        if self.settings.retention_seconds is None:
            return 0
        cutoff = (now or utc_now()) - timedelta(seconds=self.settings.retention_seconds)
        return self.store.prune(cutoff)

    # -- change stream --------------------------------------------------------------
    def events(
        self, caller: Caller, after_seq: int = 0, timeout: float = 0.0, limit: int = 1000
    ) -> list[ChangeEvent]:
        """Committed events after ``after_seq``; waits up to ``timeout`` for new ones."""
        if timeout > 0:
            return self.store.wait_for_events(caller.tenant, after_seq, timeout, limit)
        return self.store.read_events(caller.tenant, after_seq, limit)

    def last_seq(self, caller: Caller) -> int:
        return self.store.last_seq(caller.tenant)
