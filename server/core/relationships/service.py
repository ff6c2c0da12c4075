"""Relationship commands: create/replace, get, list and delete.

A relationship joins two twins of the same tenant; both must exist when it is written,
and its properties are validated against the model of its type (an ``observes``
relationship against the Observation model). It is stored as a record and projected into
the RDF graph both as a node with its properties and as a direct edge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from server.core import errors
from server.core.context import Caller
from server.core.ids import RelationshipId, ThingId
from server.core.stores.base import RelationshipPage, TwinStore
from server.core.stores.records import ChangeEvent, RelationshipRecord, utc_now
from server.core.validation.base import TwinValidator
from server.core.writes import WRITE_ATTEMPTS, WritePlan, pause_after_conflict

__all__ = ["RelationshipService", "check_relationship_type"]

_RETRIES = WRITE_ATTEMPTS


def check_relationship_type(rel_type: Any) -> str:
    """A relationship type is a short lowerCamel token (``observes``, ``servedBy``)."""
    if (
        not isinstance(rel_type, str)
        or not rel_type
        or len(rel_type) > 64
        or not rel_type.replace("-", "").replace("_", "").isalnum()
        or not rel_type.isascii()
    ):
        raise errors.JsonFormatInvalid(
            f"The relationship type '{rel_type}' is not a token of letters, digits, '-' "
            "and '_' (at most 64)."
        )
    return rel_type


class RelationshipService:
    """Relationship operations over one store."""

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

    def get(self, caller: Caller, relationship_id: str) -> RelationshipRecord:
        rid = RelationshipId(relationship_id)
        record = self._store.get_relationship(caller.tenant, rid)
        if record is None:
            raise errors.RelationshipNotFound(rid)
        return record

    def list(
        self,
        caller: Caller,
        *,
        source: str | None = None,
        target: str | None = None,
        type: str | None = None,
        size: int = 25,
        cursor: str | None = None,
    ) -> RelationshipPage:
        if not 1 <= size <= 1000:
            raise errors.SearchOptionInvalid(f"The page size {size} is not within 1..1000.")
        return self._store.list_relationships(
            caller.tenant,
            source=ThingId(source) if source else None,
            target=ThingId(target) if target else None,
            type=type,
            size=size,
            cursor=cursor,
        )

    def put(
        self, caller: Caller, relationship_id: str, body: Any, expected_revision: int | None = None
    ) -> tuple[RelationshipRecord, bool]:
        """Create or replace; returns the record and whether it was created.

        ``expected_revision`` 0 means create-only; n means "only if at revision n".
        """
        rid = RelationshipId(relationship_id)
        if not isinstance(body, dict):
            raise errors.JsonFormatInvalid("A relationship must be a JSON object.")
        if body.get("relationshipId", rid) != rid:
            raise errors.IdNotSettable("The relationship id in the body differs from the path.")
        unknown = set(body) - {"relationshipId", "source", "target", "type", "properties"}
        if unknown:
            raise errors.JsonFormatInvalid(
                f"A relationship has no member(s) {', '.join(sorted(unknown))}."
            )
        source, target = ThingId(_required(body, "source")), ThingId(_required(body, "target"))
        rel_type = check_relationship_type(_required(body, "type"))
        properties = body.get("properties", {})
        if not isinstance(properties, dict):
            raise errors.JsonFormatInvalid("Relationship properties must be a JSON object.")
        for attempt in range(_RETRIES):
            current = self._store.get_relationship(caller.tenant, rid)
            if expected_revision == 0 and current is not None:
                raise errors.RelationshipConflict(rid)
            if expected_revision and (current is None or current.revision != expected_revision):
                raise errors.PreconditionFailed(
                    f"The relationship '{rid}' is not at revision {expected_revision}."
                )
            for end in (source, target):
                if self._store.get_twin(caller.tenant, end) is None:
                    raise errors.ThingNotFound(end)
            plan = WritePlan(caller.tenant, self._clock(), self._validator)
            record = plan.put_relationship(current, rid, source, target, rel_type, properties)
            if record is None:
                assert current is not None
                return current, False
            try:
                committed = self._store.commit(caller.tenant, plan.batch)
            except errors.RevisionMismatch:
                if expected_revision is not None or attempt == _RETRIES - 1:
                    raise
                pause_after_conflict(attempt)
                continue
            if self._on_commit is not None:
                self._on_commit(committed)
            return record, current is None
        raise AssertionError("unreachable")

    def delete(
        self, caller: Caller, relationship_id: str, expected_revision: int | None = None
    ) -> None:
        """Delete; with ``expected_revision`` only if it is still at that revision (the
        store checks it inside the same transaction, so there is no race window)."""
        current = self.get(caller, relationship_id)
        if expected_revision is not None and current.revision != expected_revision:
            raise errors.PreconditionFailed(
                f"The relationship '{current.id}' is not at revision {expected_revision}."
            )
        plan = WritePlan(caller.tenant, self._clock(), self._validator)
        plan.delete_relationship(current)
        committed = self._store.commit(caller.tenant, plan.batch)
        if self._on_commit is not None:
            self._on_commit(committed)


def _required(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise errors.JsonFormatInvalid(f"A relationship needs '{key}'.")
    return body[key]
