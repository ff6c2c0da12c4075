"""The `TwinStore` contract: a narrow, synchronous transport for twin documents.

The document store is the source of truth of ndtwin. Two implementations sit side by
side - `server.core.stores.sqlite.SqliteTwinStore` (embedded default) and
`server.core.stores.postgres.PostgresTwinStore` (scale-out) - and one contract suite in
``tests/contract/`` runs against both. The API is synchronous because the core is;
faces call it from worker threads, and every implementation is thread-safe.

Rules every implementation keeps:

- every row belongs to one tenant and no read crosses tenants (also not via cursors);
- `TwinStore.commit` is atomic: puts, deletes, events, history and outbox entries of a
  `WriteBatch` all commit or none do, and a committed batch survives ``kill -9``;
- RQL runs as SQL in the database; nothing scans all twins in Python;
- foreign exceptions (sqlite3, psycopg) are mapped to `StoreUnavailable` at this border.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import ClassVar, Self

from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.rql.ast import Node, SortKey
from server.core.stores.records import (
    ChangeEvent,
    HistoryBucket,
    HistoryPoint,
    OutboxEntry,
    RelationshipRecord,
    SearchPage,
    TenantRecord,
    TwinRecord,
    WriteBatch,
)

__all__ = ["AckedOutbox", "RelationshipPage", "TwinStore"]

RelationshipPage = tuple[list[RelationshipRecord], str | None]
"""A page of relationships and the cursor of the next page (None on the last)."""


class AckedOutbox:
    """Outbox ids acknowledged by the projector whose rows are not deleted yet.

    Deleting an entry in a transaction of its own costs a commit per write (a WAL flush
    on PostgreSQL), so stores remember acknowledged ids here and delete their rows inside
    the next write transaction (or in one transaction once `limit` pile up, or on
    close). Until then `hidden` keeps them out of `TwinStore.pending_outbox`. A crash in
    between leaves them in the outbox: start-up re-applies them in id order, which yields
    the same graph. This relies on ids never being reused, which both stores guarantee.
    Thread-safe.
    """

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, ids: Sequence[int]) -> bool:
        """Remember ``ids``; True when enough pile up to delete them on their own."""
        with self._lock:
            self._ids.update(ids)
            return len(self._ids) >= self.limit

    def take(self) -> list[int]:
        """The ids to delete now (they stay hidden until `forget`)."""
        with self._lock:
            return list(self._ids)

    def forget(self, ids: Sequence[int]) -> None:
        """After the transaction that deleted ``ids`` committed."""
        if ids:
            with self._lock:
                self._ids.difference_update(ids)

    def hidden(self) -> frozenset[int]:
        """A copy to filter a pending read with; take it *before* reading, so a row
        deleted in between is simply absent from the read."""
        with self._lock:
            return frozenset(self._ids)

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._ids)


class TwinStore(ABC):
    """Persistence of tenants, twins, relationships, change events, history and outbox."""

    #: True when no call waits on a network peer (an embedded file store): a point read or
    #: an uncontended single-twin write then costs tens of microseconds, less than handing
    #: it to a worker thread (see `Core.runs_inline`).
    local: ClassVar[bool] = False

    def writer_busy(self) -> bool:
        """Whether a write of this process holds the store's writer right now (a hint:
        it may change the next instant). Stores that cannot tell say True."""
        return True

    # --- lifecycle -------------------------------------------------------------------

    @abstractmethod
    def open(self) -> None:
        """Connect and create or migrate the schema (idempotent)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and wake any `wait_for_events` caller."""

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

    # --- tenants ---------------------------------------------------------------------

    @abstractmethod
    def create_tenant(self, tenant: TenantId, api_key_hash: str, created: datetime) -> TenantRecord:
        """Create a tenant; raise `TenantConflict` if it exists."""

    @abstractmethod
    def get_tenant(self, tenant: TenantId) -> TenantRecord | None:
        """Return the tenant or None."""

    @abstractmethod
    def list_tenants(self) -> list[TenantRecord]:
        """All tenants, by name."""

    @abstractmethod
    def delete_tenant(self, tenant: TenantId) -> None:
        """Delete the tenant and all of its data in one transaction.

        Raises `TenantNotFound` if there is no such tenant.
        """

    # --- twins -----------------------------------------------------------------------

    @abstractmethod
    def get_twin(self, tenant: TenantId, thing_id: ThingId) -> TwinRecord | None:
        """The current revision of a twin, or None."""

    @abstractmethod
    def get_twins(self, tenant: TenantId, thing_ids: Sequence[ThingId]) -> list[TwinRecord]:
        """The twins with these ids, in the order asked; missing ones are omitted."""

    @abstractmethod
    def get_twin_at_revision(
        self, tenant: TenantId, thing_id: ThingId, revision: int
    ) -> TwinRecord | None:
        """The twin as it was at ``revision``, or None if not retained or never existed."""

    @abstractmethod
    def get_twin_as_of(
        self, tenant: TenantId, thing_id: ThingId, time: datetime
    ) -> TwinRecord | None:
        """The latest revision modified at or before ``time`` (None if deleted or unknown)."""

    @abstractmethod
    def search(
        self,
        tenant: TenantId,
        filter: Node | None = None,
        sort: Sequence[SortKey] = (),
        size: int = 25,
        cursor: str | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> SearchPage:
        """One page of twins matching an RQL filter (ditto-api notes §1.6).

        Parameters
        ----------
        filter:
            The parsed RQL filter, or None for all twins.
        sort:
            Sort keys; ``+thingId`` is always appended as the final tie-breaker (and is the
            default order).
        size:
            Page size, 1..200; otherwise `SearchOptionInvalid`.
        cursor:
            The opaque cursor of the previous page. It encodes the filter, sort and
            namespaces it was made with; using it with others raises `SearchOptionInvalid`.
        namespaces:
            Restrict to things in these namespaces (None: all).

        Returns
        -------
        SearchPage
            The items and the next cursor (None when this is the last page).
        """

    @abstractmethod
    def count(
        self,
        tenant: TenantId,
        filter: Node | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> int:
        """How many twins match the filter."""

    # --- relationships ---------------------------------------------------------------

    @abstractmethod
    def get_relationship(
        self, tenant: TenantId, relationship_id: RelationshipId
    ) -> RelationshipRecord | None:
        """The relationship or None."""

    @abstractmethod
    def get_relationships(
        self, tenant: TenantId, relationship_ids: Sequence[RelationshipId]
    ) -> list[RelationshipRecord]:
        """The relationships with these ids, in the order asked (an id asked twice comes
        twice); missing ones are omitted."""

    @abstractmethod
    def list_relationships(
        self,
        tenant: TenantId,
        *,
        source: ThingId | None = None,
        target: ThingId | None = None,
        type: str | None = None,
        size: int = 25,
        cursor: str | None = None,
    ) -> RelationshipPage:
        """Relationships matching every given criterion, ordered by id, one page at a time."""

    @abstractmethod
    def relationships_touching(
        self, tenant: TenantId, thing_id: ThingId
    ) -> list[RelationshipRecord]:
        """Every relationship whose source or target is ``thing_id`` (for cascading deletes)."""

    # --- writes ----------------------------------------------------------------------

    @abstractmethod
    def commit(self, tenant: TenantId, batch: WriteBatch) -> list[ChangeEvent]:
        """Apply a batch atomically and return its events with their assigned ``seq``.

        Raises `TenantNotFound` for an unknown tenant, `RevisionMismatch` when an expected
        revision does not hold, and `ThingNotFound`/`RelationshipNotFound` when a delete
        names something absent; then nothing is written.
        """

    # --- change events ---------------------------------------------------------------

    @abstractmethod
    def read_events(
        self, tenant: TenantId, after_seq: int = 0, limit: int = 1000
    ) -> list[ChangeEvent]:
        """Committed events with ``seq > after_seq``, in ``seq`` order, at most ``limit``."""

    @abstractmethod
    def wait_for_events(
        self, tenant: TenantId, after_seq: int, timeout: float, limit: int = 1000
    ) -> list[ChangeEvent]:
        """Like `read_events`, but block up to ``timeout`` seconds until there are some.

        Writers in other processes wake the waiter too (PostgreSQL LISTEN/NOTIFY; SQLite
        by polling the file). Returns an empty list on timeout or when the store closes.
        """

    @abstractmethod
    def last_seq(self, tenant: TenantId) -> int:
        """The ``seq`` of the tenant's latest event (0 if none)."""

    # --- outbox ----------------------------------------------------------------------

    @abstractmethod
    def pending_outbox(self, limit: int = 100) -> list[OutboxEntry]:
        """Unacknowledged outbox entries of all tenants, oldest (lowest id) first.

        Ids grow with commit order and are never reused, also after deletes and reopens.
        """

    @abstractmethod
    def ack_outbox(self, ids: Sequence[int]) -> None:
        """Mark applied outbox entries; they are no longer pending (unknown ids are
        ignored). The rows may be deleted later (see `AckedOutbox`); a crash before that
        leaves them pending for the start-up replay."""

    # --- history ---------------------------------------------------------------------

    @abstractmethod
    def history(
        self,
        tenant: TenantId,
        thing_id: ThingId,
        path: str | None,
        start: datetime,
        end: datetime,
        limit: int = 10_000,
    ) -> list[HistoryPoint]:
        """Points in ``[start, end)`` ordered by time, then path.

        ``path`` selects one pointer and everything below it; None selects all paths.
        """

    @abstractmethod
    def history_buckets(
        self,
        tenant: TenantId,
        thing_id: ThingId,
        path: str | None,
        start: datetime,
        end: datetime,
        bucket_seconds: float,
    ) -> list[HistoryBucket]:
        """Per-path min/max/mean/count over buckets ``start + k * bucket_seconds``.

        Computed in SQL; ordered by path, then bucket start. Empty buckets are omitted.
        """

    def rebuild_search_index(self) -> int:
        """Recreate search structures that the store keeps itself next to the documents,
        from the documents; returns the rows written (0: the database keeps its own
        indexes current, as PostgreSQL does). For a file that a build without them
        wrote to (``ndtwin store reindex``)."""
        return 0

    @abstractmethod
    def prune(self, older_than: datetime) -> int:
        """Apply retention: drop history points, events, and superseded revisions whose
        time is before ``older_than``. Current twins are never touched. Returns rows removed.
        """
