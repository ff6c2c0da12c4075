"""Batch upsert: many twins and relationships in one transaction, for adapters.

The MQTT twin-instance controller and federation peers send what they learnt as merge
patches (RFC 7396). The whole batch is decided against fresh state, validated twin by
twin and relationship by relationship, and committed atomically: one invalid member
rejects the batch and nothing is written. Unchanged members produce no revision and no
event, so re-delivering the same batch is a no-op (idempotent on redelivery).

A member may carry ``update``, a function of the entity's current state returning the
patch (or None: leave it as it is) instead of a fixed patch. It runs while the batch is
planned against fresh state and again on every retry after a concurrent write (the
store checks the revision each member was planned on), so read-modify-write values
such as counters stay exact with several writers. The same twin or relationship may
appear more than once: each later member sees the state the earlier ones leave and
writes its own revision (and history points).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.core import errors
from server.core.context import Caller
from server.core.ids import RelationshipId, ThingId
from server.core.relationships.service import check_relationship_type
from server.core.stores.base import TwinStore
from server.core.stores.records import ChangeEvent, RelationshipRecord, TwinRecord, utc_now
from server.core.twins import document as docs
from server.core.twins.paths import ResourcePath
from server.core.validation.base import TwinValidator
from server.core.writes import WRITE_ATTEMPTS, WritePlan, pause_after_conflict

__all__ = ["BatchResult", "BatchService", "RelationshipUpsert", "TwinUpsert"]

_RETRIES = WRITE_ATTEMPTS
#: What an ``update`` function gets (the current document or relationship properties,
#: None when absent) and returns (a merge patch, or None for no change).
Update = Callable[[dict[str, Any] | None], dict[str, Any] | None]
_ROOT = ResourcePath.parse("/")


@dataclass(frozen=True, slots=True)
class TwinUpsert:
    """Merge ``patch`` into the twin (created if absent); ``delete`` removes it instead.

    ``update``, when given, replaces ``patch``: it receives the current document (None
    when the twin does not exist) and returns the patch, or None to leave the twin alone.
    """

    thing_id: str
    patch: dict[str, Any] = field(default_factory=dict)
    delete: bool = False
    update: Update | None = None


@dataclass(frozen=True, slots=True)
class RelationshipUpsert:
    """Create or update a relationship (its properties merge-patched); or delete it.

    ``update``, when given, replaces ``properties``: it receives the current properties
    (None when the relationship does not exist) and returns the properties' merge patch,
    or None to leave the relationship alone.
    """

    relationship_id: str
    source: str = ""
    target: str = ""
    type: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    delete: bool = False
    update: Update | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What the batch changed: the committed events (empty when nothing changed)."""

    events: list[ChangeEvent]
    twins: list[TwinRecord]
    relationships: list[RelationshipRecord]


class BatchService:
    """Atomic multi-entity upserts."""

    def __init__(
        self,
        store: TwinStore,
        validator: TwinValidator,
        on_commit: Callable[[list[ChangeEvent]], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._validator = validator
        self._on_commit = on_commit
        self._clock = clock
        #: Plans thrown away because another writer committed first (diagnostics).
        self.conflicts = 0

    def upsert(
        self,
        caller: Caller,
        twins: Sequence[TwinUpsert] = (),
        relationships: Sequence[RelationshipUpsert] = (),
        retries: int = _RETRIES,
    ) -> BatchResult:
        """Plan against fresh state and commit; re-plan when another writer got there
        first (up to ``retries`` attempts, then `RevisionMismatch` propagates)."""
        for attempt in range(max(1, retries)):
            plan = self._plan(caller, twins, relationships)
            if plan.batch.is_empty():
                return BatchResult([], [], [])
            try:
                committed = self._store.commit(caller.tenant, plan.batch)
            except errors.RevisionMismatch:
                self.conflicts += 1
                if attempt >= retries - 1:
                    raise
                pause_after_conflict(attempt)
                continue
            if self._on_commit is not None:
                self._on_commit(committed)
            return BatchResult(
                committed,
                [r for r in plan.twins.values() if r is not None],
                [r for r in plan.relationships.values() if r is not None],
            )
        raise AssertionError("unreachable")

    def _plan(
        self,
        caller: Caller,
        twins: Sequence[TwinUpsert],
        relationships: Sequence[RelationshipUpsert],
    ) -> WritePlan:
        tenant = caller.tenant
        plan = WritePlan(tenant, self._clock(), self._validator)
        ids = [ThingId(t.thing_id) for t in twins]
        # One read for every twin the batch names, relationship ends included.
        wanted = list(ids)
        for rel in relationships:
            wanted += [ThingId(end) for end in (rel.source, rel.target) if end]
        current: dict[str, TwinRecord | None] = {tid: None for tid in wanted}
        for record in self._store.get_twins(tenant, list(dict.fromkeys(wanted))):
            current[record.thing_id] = record
        for tid, upsert in zip(ids, twins, strict=True):
            before = plan.twins.get(tid, current[tid])
            if upsert.delete:
                if before is not None:
                    touching = self._store.relationships_touching(tenant, tid)
                    plan.delete_twin(before, touching)
                continue
            if upsert.update is not None:
                patch = upsert.update(dict(before.doc) if before else None)
                if patch is None:
                    continue
                upsert = TwinUpsert(tid, patch)
            if not isinstance(upsert.patch, dict):
                raise errors.JsonFormatInvalid(f"The patch of '{tid}' must be a JSON object.")
            if upsert.patch.get("thingId", tid) != tid:
                raise errors.IdNotSettable()
            base = dict(before.doc) if before else {"thingId": tid, "policyId": tid}
            try:
                new = docs.merge_at(base, _ROOT, upsert.patch)
            except docs.DocumentError as exc:
                raise errors.JsonFormatInvalid(f"{tid}: {exc} (at '{exc.path}')") from exc
            new["thingId"] = tid
            new.setdefault("policyId", tid)
            plan.put_twin(before, new, "/", "created" if before is None else "merged", upsert.patch)
        # One read for every relationship the batch names. An invalid id is left out
        # here and raises where the loop reaches it, as a one-by-one read would.
        rids = [_relationship_id(rel.relationship_id) for rel in relationships]
        wanted_rels = [rid for rid in dict.fromkeys(rids) if rid is not None]
        stored = {r.id: r for r in self._store.get_relationships(tenant, wanted_rels)}
        for rel, parsed in zip(relationships, rids, strict=True):
            rid = parsed if parsed is not None else RelationshipId(rel.relationship_id)
            before_rel = plan.relationships[rid] if rid in plan.relationships else stored.get(rid)
            if rel.delete:
                if before_rel is not None:
                    plan.delete_relationship(before_rel)
                continue
            source = ThingId(rel.source or (before_rel.source if before_rel else ""))
            target = ThingId(rel.target or (before_rel.target if before_rel else ""))
            if rel.update is not None:
                props = rel.update(dict(before_rel.properties) if before_rel else None)
                if props is None:
                    continue
                rel = RelationshipUpsert(rid, rel.source, rel.target, rel.type, props)
            rel_type = check_relationship_type(rel.type or (before_rel.type if before_rel else ""))
            for end in (source, target):
                known = (
                    plan.twins[end]
                    if end in plan.twins
                    else (current[end] if end in current else self._store.get_twin(tenant, end))
                )
                if known is None:
                    raise errors.ThingNotFound(end)
            properties = docs.merge_patch(
                before_rel.properties if before_rel else {}, rel.properties
            )
            plan.put_relationship(before_rel, rid, source, target, rel_type, properties)
        return plan


def _relationship_id(value: str) -> RelationshipId | None:
    """The parsed id, or None when it is invalid."""
    try:
        return RelationshipId(value)
    except errors.RelationshipIdInvalid:
        return None
