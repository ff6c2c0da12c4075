"""Builders for `TwinStore` contract tests: records, batches and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.stores import (
    ChangeEvent,
    RelationshipPut,
    RelationshipRecord,
    TwinPut,
    TwinRecord,
    TwinStore,
    WriteBatch,
)

__all__ = ["T0", "at", "created_event", "put_relationships", "put_twins", "relationship", "twin"]

T0 = datetime(2025, 1, 1, tzinfo=UTC)
"""The fixed origin of test time."""


def at(seconds: float) -> datetime:
    """``T0`` plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def twin(
    tenant: TenantId,
    thing_id: str,
    doc: dict[str, Any] | None = None,
    *,
    revision: int = 1,
    created: datetime = T0,
    modified: datetime | None = None,
) -> TwinRecord:
    """A twin record whose doc carries its ``thingId``."""
    tid = ThingId(thing_id)
    body = {"thingId": thing_id, "policyId": thing_id, **(doc or {})}
    return TwinRecord(tenant, tid, revision, created, modified or created, body)


def created_event(record: TwinRecord) -> ChangeEvent:
    """The "created" event of a twin record."""
    return ChangeEvent(
        record.tenant,
        "twin",
        "created",
        record.thing_id,
        "/",
        record.doc,
        record.revision,
        record.modified,
    )


def put_twins(
    store: TwinStore, tenant: TenantId, *records: TwinRecord, expected: int | None = None
) -> list[ChangeEvent]:
    """Commit records (each with ``expected``) and one event each."""
    batch = WriteBatch(
        twin_puts=[TwinPut(r, expected) for r in records],
        events=[created_event(r) for r in records],
    )
    return store.commit(tenant, batch)


def relationship(
    tenant: TenantId,
    rel_id: str,
    source: str,
    target: str,
    rel_type: str = "observes",
    properties: dict[str, Any] | None = None,
    *,
    revision: int = 1,
) -> RelationshipRecord:
    """A relationship record."""
    return RelationshipRecord(
        tenant,
        RelationshipId(rel_id),
        ThingId(source),
        ThingId(target),
        rel_type,
        properties or {},
        revision,
        T0,
        T0,
    )


def put_relationships(store: TwinStore, tenant: TenantId, *records: RelationshipRecord) -> None:
    """Commit relationship records."""
    store.commit(tenant, WriteBatch(relationship_puts=[RelationshipPut(r) for r in records]))
