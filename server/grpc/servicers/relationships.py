"""``ndtwin.v1.RelationshipService``: relationships over the core's relationship commands."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import empty_pb2

from server.core import errors
from server.core.context import Caller
from server.core.ids import RelationshipId, ThingId
from server.core.preconditions import thing_etag, thing_revision
from server.core.service import Core
from server.core.stores.records import RelationshipRecord
from server.core.writes import WRITE_ATTEMPTS, pause_after_conflict
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import relationships_pb2 as pb
from server.grpc.masks import apply_mask
from server.grpc.names import parse_parent, parse_relationship_name, parse_twin_name
from server.grpc.serde import relationship_from_proto, relationship_to_proto, revision_of_etag

__all__ = ["FilterInvalid", "RelationshipServicer", "parse_relationship_filter"]

_DEFAULT_PAGE, _MAX_PAGE = 25, 1000
_FIELDS = {"source": "source", "target": "target", "type": "type", "properties": "properties"}
_OUTPUT_ONLY = frozenset({"name", "revision", "create_time", "update_time", "etag"})
_TERM = re.compile(r'\s*(source|target|type)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')
_AND = re.compile(r"AND(?=\s)")


class FilterInvalid(errors.BadRequest):
    """A relationship ``filter`` is not a conjunction of equalities (AIP-160 subset)."""

    code = "relationships:filter.invalid"
    default_description = (
        'Write source = "tenants/t/twins/ns:a", target = "..." or type = "observes", joined by AND.'
    )


def parse_relationship_filter(text: str) -> dict[str, str]:
    """``source = "..." AND type = "..."`` as ``{"source": ..., "type": ...}``."""
    terms: dict[str, str] = {}
    pos = 0
    while pos < len(text) and text.strip():
        match = _TERM.match(text, pos)
        if match is None:
            raise FilterInvalid(f"The filter '{text}' is not valid at position {pos}.")
        field, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
        if field in terms:
            raise FilterInvalid(f"The filter names '{field}' twice.")
        terms[field] = value
        pos = match.end()
        if pos < len(text):
            joiner = _AND.match(text, pos)
            if joiner is None:
                raise FilterInvalid(f"The filter '{text}' is not valid at position {pos}.")
            pos = joiner.end()
    return terms


def _body_of(record: RelationshipRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "target": record.target,
        "type": record.type,
        "properties": record.properties,
    }


class RelationshipServicer:
    """Get, List, Create, Update and Delete relationships."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @staticmethod
    def _thing_id_of(caller: Caller) -> Any:
        def thing_id_of(name: str, field: str) -> ThingId:
            return parse_twin_name(name, caller, field)

        return thing_id_of

    async def GetRelationship(
        self, request: pb.GetRelationshipRequest, call: Call
    ) -> pb.Relationship:
        caller = call.tenant_caller
        rid = parse_relationship_name(request.name, caller)
        record = await call.run_point(self._core, False, self._core.relationships.get, caller, rid)
        return relationship_to_proto(record)

    async def ListRelationships(
        self, request: pb.ListRelationshipsRequest, call: Call
    ) -> pb.ListRelationshipsResponse:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        if request.page_size < 0:
            raise errors.SearchOptionInvalid(f"The page_size {request.page_size} is negative.")
        size = min(request.page_size or _DEFAULT_PAGE, _MAX_PAGE)
        terms = parse_relationship_filter(request.filter)
        source = parse_twin_name(terms["source"], caller, "filter") if "source" in terms else None
        target = parse_twin_name(terms["target"], caller, "filter") if "target" in terms else None
        items, cursor = await call.run(
            self._core.relationships.list,
            caller,
            source=source,
            target=target,
            type=terms.get("type"),
            size=size,
            cursor=request.page_token or None,
        )
        return pb.ListRelationshipsResponse(
            relationships=[relationship_to_proto(r) for r in items], next_page_token=cursor or ""
        )

    async def CreateRelationship(
        self, request: pb.CreateRelationshipRequest, call: Call
    ) -> pb.Relationship:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        rid = RelationshipId(request.relationship_id)
        body = relationship_from_proto(request.relationship, self._thing_id_of(caller))
        record, _ = await call.run(self._core.relationships.put, caller, rid, body, 0)
        return relationship_to_proto(record)

    async def UpdateRelationship(
        self, request: pb.UpdateRelationshipRequest, call: Call
    ) -> pb.Relationship:
        caller = call.tenant_caller
        rid = parse_relationship_name(request.relationship.name, caller, "relationship.name")
        values = relationship_from_proto(request.relationship, self._thing_id_of(caller))
        paths = (
            list(request.update_mask.paths)
            if request.HasField("update_mask") and request.update_mask.paths
            else None
        )
        expected = (
            revision_of_etag(request.relationship.etag) if request.relationship.etag else None
        )

        def update() -> RelationshipRecord:
            for attempt in range(WRITE_ATTEMPTS):
                current = self._core.relationships.get(caller, rid)
                if expected is not None and expected != thing_etag(current.revision):
                    raise errors.PreconditionFailed(
                        f"The relationship '{rid}' is at etag "
                        f"{thing_etag(current.revision)}, not {expected}."
                    )
                body = apply_mask(_body_of(current), values, paths, _FIELDS, _OUTPUT_ONLY)
                body.setdefault("properties", {})
                try:
                    record, _ = self._core.relationships.put(caller, rid, body, current.revision)
                    return record
                except errors.PreconditionFailed:
                    if expected is not None or attempt == WRITE_ATTEMPTS - 1:
                        raise
                    pause_after_conflict(attempt)
            raise AssertionError("unreachable")

        return relationship_to_proto(await call.run_point(self._core, True, update))

    async def DeleteRelationship(
        self, request: pb.DeleteRelationshipRequest, call: Call
    ) -> empty_pb2.Empty:
        caller = call.tenant_caller
        rid = parse_relationship_name(request.name, caller)
        expected = revision_of_etag(request.etag) if request.etag else None

        def delete() -> None:
            revision = None
            if expected is not None:
                revision = thing_revision(expected)
                if revision is None:
                    raise errors.PreconditionFailed(
                        f'The etag {expected} is not a relationship\'s "rev:n" etag.'
                    )
            # The store checks the revision inside the deleting transaction (no race).
            self._core.relationships.delete(caller, rid, expected_revision=revision)

        try:
            await call.run_point(self._core, True, delete)
        except errors.RelationshipNotFound:
            if not request.allow_missing:
                raise
        return empty_pb2.Empty()
