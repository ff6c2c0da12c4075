"""Turn decided changes into one atomic `WriteBatch`: the apply half of decide-then-apply.

Every write path (a single twin command, a relationship command, an adapter's batch
upsert) fills a :class:`WritePlan`; the plan validates each changed twin and
relationship, derives the change event, the history points and the outbox entry the
graph projector reads, and the store commits it all at once or not at all.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from server.core import errors
from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.stores.records import (
    ChangeEvent,
    EventAction,
    HistoryPoint,
    OutboxEntry,
    RelationshipDelete,
    RelationshipPut,
    RelationshipRecord,
    TwinDelete,
    TwinPut,
    TwinRecord,
    WriteBatch,
    format_time,
)
from server.core.validation.base import TwinValidator

__all__ = [
    "MAX_THING_BYTES",
    "WRITE_ATTEMPTS",
    "WritePlan",
    "flatten_leaves",
    "pause_after_conflict",
    "record_view",
    "relationship_view",
]

#: How often an unconditional write re-reads and re-plans after another writer committed
#: the same entity first. Without a client precondition a lost race is never the
#: client's error (Ditto answers 412 only to If-Match/If-None-Match), so writers of a hot
#: twin keep trying, pausing a little longer each time.
WRITE_ATTEMPTS = 40


def pause_after_conflict(attempt: int) -> None:
    """Writers that collided tend to collide again in lockstep: a short random pause,
    growing with ``attempt`` and capped at 20 ms, lets one of them through."""
    time.sleep(random.uniform(0, min(0.02, 0.001 * (attempt + 1))))


#: Ditto's limit on a thing's size (ditto-api notes §1.1).
MAX_THING_BYTES = 100 * 1024


def record_view(record: TwinRecord) -> dict[str, Any]:
    """The document plus the read-only fields, as RQL conditions and ``fields`` see it."""
    view = dict(record.doc)
    view["_revision"] = record.revision
    view["_created"] = format_time(record.created)
    view["_modified"] = format_time(record.modified)
    view["_namespace"] = record.thing_id.partition(":")[0]
    return view


def relationship_view(record: RelationshipRecord) -> dict[str, Any]:
    """The JSON form of a relationship that every face returns."""
    return {
        "relationshipId": record.id,
        "source": record.source,
        "target": record.target,
        "type": record.type,
        "properties": record.properties,
        "_revision": record.revision,
        "_created": format_time(record.created),
        "_modified": format_time(record.modified),
    }


def _leaves(prefix: str, values: dict[str, Any], out: dict[str, Any]) -> None:
    """Leaf values below ``prefix``; an empty object or an array is a leaf."""
    for key, value in values.items():
        if isinstance(value, dict) and value:
            _leaves(f"{prefix}/{key}", value, out)
        else:
            out[f"{prefix}/{key}"] = value


def flatten_leaves(doc: dict[str, Any]) -> dict[str, Any]:
    """Leaf values of attributes and feature (desired) properties by JSON pointer."""
    out: dict[str, Any] = {}
    attributes = doc.get("attributes")
    if isinstance(attributes, dict):
        _leaves("/attributes", attributes, out)
    features = doc.get("features")
    if isinstance(features, dict):
        for fid, feature in features.items():
            if not isinstance(feature, dict):
                continue
            for area in ("properties", "desiredProperties"):
                values = feature.get(area)
                if isinstance(values, dict):
                    _leaves(f"/features/{fid}/{area}", values, out)
    return out


def _flat_props(properties: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _leaves("/properties", properties, out)
    return out


def _history(
    batch: WriteBatch,
    tenant: TenantId,
    thing_id: ThingId,
    prefix: str,
    old: dict[str, Any],
    new: dict[str, Any],
    now: datetime,
    revision: int,
) -> None:
    for pointer, leaf in new.items():
        if pointer not in old or old[pointer] != leaf:
            batch.history.append(
                HistoryPoint(tenant, thing_id, prefix + pointer, now, leaf, revision)
            )
    for pointer in old.keys() - new.keys():
        batch.history.append(HistoryPoint(tenant, thing_id, prefix + pointer, now, None, revision))


@dataclass
class WritePlan:
    """Accumulates the changes of one command into a batch for one tenant."""

    tenant: TenantId
    now: datetime
    validator: TwinValidator
    batch: WriteBatch = field(default_factory=WriteBatch)
    #: Twins as they will be after this plan (None: deleted), for later steps of a batch.
    twins: dict[str, TwinRecord | None] = field(default_factory=dict)
    relationships: dict[str, RelationshipRecord | None] = field(default_factory=dict)

    # -- twins ---------------------------------------------------------------------
    def put_twin(
        self,
        current: TwinRecord | None,
        new_doc: dict[str, Any],
        path: str,
        action: EventAction,
        value: Any,
    ) -> TwinRecord | None:
        """Plan a create/modify/merge; returns the new record, or None for a no-op."""
        given = new_doc["thingId"]
        thing_id = given if type(given) is ThingId else ThingId(given)
        if current is not None and current.doc == new_doc:
            return None
        size = len(orjson.dumps(new_doc))
        if size > MAX_THING_BYTES:
            raise errors.ThingTooLarge(thing_id, size, MAX_THING_BYTES)
        violations = self.validator.validate_twin(new_doc)
        if violations:
            raise errors.PayloadValidationError(violations)
        revision = current.revision + 1 if current else 1
        record = TwinRecord(
            self.tenant,
            thing_id,
            revision,
            current.created if current else self.now,
            self.now,
            new_doc,
        )
        self.batch.twin_puts.append(TwinPut(record, current.revision if current else 0))
        event_value = new_doc if path == "/" and action in ("created", "modified") else value
        self.batch.events.append(
            ChangeEvent(
                self.tenant, "twin", action, thing_id, path, event_value, revision, self.now
            )
        )
        _history(
            self.batch,
            self.tenant,
            thing_id,
            "",
            flatten_leaves(current.doc) if current else {},
            flatten_leaves(new_doc),
            self.now,
            revision,
        )
        self.batch.outbox.append(
            OutboxEntry(
                0,
                self.tenant,
                "twin",
                thing_id,
                record_view(current) if current else None,
                record_view(record),
            )
        )
        self.twins[thing_id] = record
        return record

    def delete_twin(self, current: TwinRecord, touching: list[RelationshipRecord]) -> None:
        """Plan a twin's deletion, cascading to every relationship that touches it."""
        revision = current.revision + 1
        self.batch.twin_deletes.append(TwinDelete(current.thing_id, current.revision, self.now))
        self.batch.events.append(
            ChangeEvent(
                self.tenant, "twin", "deleted", current.thing_id, "/", None, revision, self.now
            )
        )
        _history(
            self.batch,
            self.tenant,
            current.thing_id,
            "",
            flatten_leaves(current.doc),
            {},
            self.now,
            revision,
        )
        self.batch.outbox.append(
            OutboxEntry(0, self.tenant, "twin", current.thing_id, record_view(current), None)
        )
        self.twins[current.thing_id] = None
        for rel in touching:
            if self.relationships.get(rel.id, rel) is not None:
                self.delete_relationship(rel)

    # -- relationships -------------------------------------------------------------
    def put_relationship(
        self,
        current: RelationshipRecord | None,
        rel_id: RelationshipId,
        source: ThingId,
        target: ThingId,
        rel_type: str,
        properties: dict[str, Any],
    ) -> RelationshipRecord | None:
        if current is not None and (
            current.source,
            current.target,
            current.type,
            current.properties,
        ) == (source, target, rel_type, properties):
            return None
        violations = self.validator.validate_relationship(rel_type, properties)
        if violations:
            raise errors.PayloadValidationError(violations)
        revision = current.revision + 1 if current else 1
        record = RelationshipRecord(
            self.tenant,
            rel_id,
            source,
            target,
            rel_type,
            properties,
            revision,
            current.created if current else self.now,
            self.now,
        )
        self.batch.relationship_puts.append(
            RelationshipPut(record, current.revision if current else 0)
        )
        action: EventAction = "modified" if current else "created"
        view = relationship_view(record)
        self.batch.events.append(
            ChangeEvent(self.tenant, "relationship", action, rel_id, "/", view, revision, self.now)
        )
        _history(
            self.batch,
            self.tenant,
            source,
            f"/relationships/{rel_id}",
            _flat_props(current.properties) if current else {},
            _flat_props(properties),
            self.now,
            revision,
        )
        self.batch.outbox.append(
            OutboxEntry(
                0,
                self.tenant,
                "relationship",
                rel_id,
                relationship_view(current) if current else None,
                view,
            )
        )
        self.relationships[rel_id] = record
        return record

    def delete_relationship(self, current: RelationshipRecord) -> None:
        revision = current.revision + 1
        self.batch.relationship_deletes.append(RelationshipDelete(current.id, current.revision))
        self.batch.events.append(
            ChangeEvent(
                self.tenant, "relationship", "deleted", current.id, "/", None, revision, self.now
            )
        )
        self.batch.outbox.append(
            OutboxEntry(
                0, self.tenant, "relationship", current.id, relationship_view(current), None
            )
        )
        self.relationships[current.id] = None
