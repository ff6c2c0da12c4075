"""Frozen records the document stores persist and return, and the atomic `WriteBatch`.

Timestamps are timezone-aware UTC `datetime` values chosen by the core (decide, then
apply): stores never invent times. A store keeps them at microsecond precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from server.core.ids import RelationshipId, TenantId, ThingId

__all__ = [
    "ChangeEvent",
    "EntityKind",
    "EventAction",
    "HistoryBucket",
    "HistoryPoint",
    "OutboxEntry",
    "OutboxKind",
    "RelationshipDelete",
    "RelationshipPut",
    "RelationshipRecord",
    "SearchPage",
    "TenantRecord",
    "TwinDelete",
    "TwinPut",
    "TwinRecord",
    "WriteBatch",
    "format_time",
    "utc_now",
]

EntityKind = Literal["twin", "relationship"]
OutboxKind = Literal["twin", "relationship", "tenant"]
EventAction = Literal["created", "modified", "merged", "deleted"]


def utc_now() -> datetime:
    """The current time as an aware UTC datetime, truncated to microseconds."""
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """ISO-8601 UTC with exactly six fractional digits and ``Z``.

    A fixed width makes the text sort in time order, which RQL range filters on
    ``_created``/``_modified`` rely on in both stores.
    """
    # One write formats its two times (created, now) several times each (record, views,
    # event): remember the last two. Tuples are replaced atomically; threads may share.
    global _formatted
    recent = _formatted
    if recent[0] is value:
        return recent[1]
    if recent[2] is value:
        return recent[3]
    aware = value if value.tzinfo is UTC else value.astimezone(UTC)
    # isoformat is several times faster than strftime; "+00:00" becomes "Z".
    text = aware.isoformat(timespec="microseconds")[:-6] + "Z"
    _formatted = (value, text, recent[0], recent[1])
    return text


_formatted: tuple[datetime | None, str, datetime | None, str] = (None, "", None, "")


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A tenant: its name, the hash of its API key and when it was created."""

    tenant: TenantId
    api_key_hash: str
    created: datetime


@dataclass(frozen=True, slots=True)
class TwinRecord:
    """One revision of a twin.

    ``doc`` is the Ditto thing JSON (``thingId``, ``policyId``, ``definition``,
    ``attributes``, ``features``) without any ``_``-prefixed field; ``revision``,
    ``created`` and ``modified`` carry those instead.
    """

    tenant: TenantId
    thing_id: ThingId
    revision: int
    created: datetime
    modified: datetime
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RelationshipRecord:
    """A typed, directed edge between two twins of one tenant, with its own properties."""

    tenant: TenantId
    id: RelationshipId
    source: ThingId
    target: ThingId
    type: str
    properties: dict[str, Any]
    revision: int
    created: datetime
    modified: datetime


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One entry of a tenant's ordered change stream.

    ``seq`` is assigned by the store at commit (per tenant, strictly increasing, no gaps);
    pass 0 when appending. ``path`` is the JSON pointer inside the entity that changed
    (``"/"`` for the whole entity) and ``value`` the new value there (None on delete).
    """

    tenant: TenantId
    kind: EntityKind
    action: EventAction
    entity_id: str
    path: str
    value: Any
    revision: int
    timestamp: datetime
    seq: int = 0


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One property value of a twin at a time: the time-series row for history queries."""

    tenant: TenantId
    thing_id: ThingId
    path: str
    time: datetime
    value: Any
    revision: int


@dataclass(frozen=True, slots=True)
class HistoryBucket:
    """Aggregates of one path over one time bucket ``[start, start + bucket)``.

    ``count`` counts every point; ``minimum``/``maximum``/``mean`` cover the numeric points
    only (booleans are not numbers) and are None when there are none.
    """

    path: str
    start: datetime
    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A committed change the graph projector has yet to apply.

    ``old_doc`` is None for a create and ``new_doc`` None for a delete. ``id`` is assigned
    by the store (pass 0 when appending) and grows with commit order. Deleting a tenant
    appends one entry of kind ``"tenant"`` (both docs None) so the projector drops the
    tenant's graphs even after a crash.
    """

    id: int
    tenant: TenantId
    kind: OutboxKind
    entity_id: str
    old_doc: dict[str, Any] | None
    new_doc: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class TwinPut:
    """Store ``record`` if the twin is at ``expected_revision``.

    None accepts any state, 0 requires that the twin does not exist, n requires revision n.
    """

    record: TwinRecord
    expected_revision: int | None = None


@dataclass(frozen=True, slots=True)
class TwinDelete:
    """Delete a twin (it must exist) if it is at ``expected_revision`` (None: any).

    ``at`` is the deletion time; the store keeps it as a tombstone so that as-of-time
    reads after it find nothing.
    """

    thing_id: ThingId
    expected_revision: int | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RelationshipPut:
    """Store a relationship if it is at ``expected_revision`` (same rules as `TwinPut`)."""

    record: RelationshipRecord
    expected_revision: int | None = None


@dataclass(frozen=True, slots=True)
class RelationshipDelete:
    """Delete a relationship (it must exist) if it is at ``expected_revision``."""

    relationship_id: RelationshipId
    expected_revision: int | None = None


@dataclass(slots=True)
class WriteBatch:
    """Everything one command writes, committed in one transaction or not at all.

    The store applies puts and deletes, then appends ``events`` (assigning ``seq``),
    ``history`` and ``outbox``. Any revision mismatch raises `RevisionMismatch` (a
    `PreconditionFailed`); deleting something absent raises the matching not-found error.
    In both cases nothing of the batch is written.
    """

    twin_puts: list[TwinPut] = field(default_factory=list)
    twin_deletes: list[TwinDelete] = field(default_factory=list)
    relationship_puts: list[RelationshipPut] = field(default_factory=list)
    relationship_deletes: list[RelationshipDelete] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    history: list[HistoryPoint] = field(default_factory=list)
    outbox: list[OutboxEntry] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the batch writes nothing."""
        return not (
            self.twin_puts
            or self.twin_deletes
            or self.relationship_puts
            or self.relationship_deletes
            or self.events
            or self.history
            or self.outbox
        )


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results; ``cursor`` is None on the last page."""

    items: list[TwinRecord]
    cursor: str | None
