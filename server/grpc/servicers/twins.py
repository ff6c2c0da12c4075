"""``ndtwin.v1.TwinService``: twins over the core's twin and batch commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from google.protobuf import empty_pb2

from server.core import errors
from server.core.batch import RelationshipUpsert, TwinUpsert
from server.core.context import Caller
from server.core.ids import ThingId
from server.core.preconditions import Preconditions, thing_etag
from server.core.service import Core
from server.core.stores.records import TwinRecord
from server.core.twins.service import WriteResult
from server.core.writes import WRITE_ATTEMPTS, pause_after_conflict
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import twins_pb2
from server.grpc.idempotency import RequestCache
from server.grpc.masks import apply_mask, order_by_to_sort
from server.grpc.names import parse_parent, parse_relationship_name, parse_twin_name
from server.grpc.serde import (
    event_to_proto,
    json_from_struct,
    relationship_to_proto,
    revision_of_etag,
    twin_doc_from_proto,
    twin_to_proto,
)
from server.grpc.watch import ChangeFeed

__all__ = ["MAX_BATCH", "TwinServicer"]

#: Most twins plus relationships in one BatchUpsertTwins request.
MAX_BATCH = 1000
_DEFAULT_PAGE, _MAX_PAGE = 25, 200
_TWIN_FIELDS = {
    "policy_id": "policyId",
    "definition": "definition",
    "attributes": "attributes",
    "features": "features",
}
_OUTPUT_ONLY = frozenset({"name", "thing_id", "revision", "create_time", "update_time", "etag"})
_LIST_FIELDS = "thingId,policyId,definition,attributes,features,_revision,_created,_modified"


def _record_of_view(caller: Caller, view: dict[str, Any]) -> TwinRecord:
    """A search result (the thing plus ``_revision``/``_created``/``_modified``) as a record."""
    doc = {k: v for k, v in view.items() if not k.startswith("_")}
    return TwinRecord(
        caller.tenant,
        ThingId.trusted(view["thingId"]),
        int(view["_revision"]),
        datetime.fromisoformat(view["_created"]),
        datetime.fromisoformat(view["_modified"]),
        doc,
    )


def _page_size(value: int, default: int, maximum: int) -> int:
    if value < 0:
        raise errors.SearchOptionInvalid(f"The page_size {value} is negative.")
    return min(value or default, maximum)


class TwinServicer:
    """Get, List, Create, Update, Delete, BatchUpsert and Watch twins."""

    def __init__(self, core: Core, feed: ChangeFeed, requests: RequestCache) -> None:
        self._core = core
        self._feed = feed
        self._requests = requests

    async def GetTwin(self, request: twins_pb2.GetTwinRequest, call: Call) -> twins_pb2.Twin:
        caller = call.tenant_caller
        tid = parse_twin_name(request.name, caller)
        record = await call.run_point(self._core, False, self._core.twins.get_record, caller, tid)
        return twin_to_proto(record)

    async def ListTwins(
        self, request: twins_pb2.ListTwinsRequest, call: Call
    ) -> twins_pb2.ListTwinsResponse:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        options = [f"size({_page_size(request.page_size, _DEFAULT_PAGE, _MAX_PAGE)})"]
        sort = order_by_to_sort(request.order_by)
        if sort:
            options.append(f"sort({sort})")
        if request.page_token:
            if ")" in request.page_token:
                raise errors.SearchOptionInvalid("The page_token is not one this server gave.")
            options.append(f"cursor({request.page_token})")
        items, cursor = await call.run(
            self._core.twins.search, caller, request.filter or None, ",".join(options), _LIST_FIELDS
        )
        return twins_pb2.ListTwinsResponse(
            twins=[twin_to_proto(_record_of_view(caller, item)) for item in items],
            next_page_token=cursor or "",
        )

    async def CreateTwin(self, request: twins_pb2.CreateTwinRequest, call: Call) -> twins_pb2.Twin:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        doc = twin_doc_from_proto(request.twin)
        if request.twin_id:
            tid = ThingId(request.twin_id)

            def create() -> WriteResult:
                try:
                    return self._core.twins.put(
                        caller, tid, "/", doc, Preconditions(if_none_match=("*",))
                    )
                except errors.PreconditionFailed as exc:  # AIP-133: the name is taken
                    raise errors.ThingConflict(tid) from exc

            result = await call.run(create)
        else:
            result = await call.run(self._core.twins.create, caller, doc, request.namespace)
        assert result.record is not None
        return twin_to_proto(result.record)

    async def UpdateTwin(self, request: twins_pb2.UpdateTwinRequest, call: Call) -> twins_pb2.Twin:
        caller = call.tenant_caller
        tid = parse_twin_name(request.twin.name, caller, "twin.name")
        values = twin_doc_from_proto(request.twin)
        paths = (
            list(request.update_mask.paths)
            if request.HasField("update_mask") and request.update_mask.paths
            else None
        )
        expected = revision_of_etag(request.twin.etag) if request.twin.etag else None
        allow_missing = request.allow_missing

        def update() -> WriteResult:
            # Read, apply the mask, write back only if the twin is still at the revision
            # read (If-Match on it); a concurrent writer makes us decide again, unless the
            # client pinned the revision with an etag (AIP-154).
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    record: TwinRecord | None = self._core.twins.get_record(caller, tid)
                except errors.ThingNotFound:
                    if not allow_missing or expected is not None:
                        raise
                    record = None
                current_tag = thing_etag(record.revision) if record is not None else None
                if expected is not None and expected != current_tag:
                    raise errors.PreconditionFailed(
                        f"The twin '{tid}' is at etag {current_tag}, not {expected}."
                    )
                base = dict(record.doc) if record is not None else {}
                new_doc = apply_mask(base, values, paths, _TWIN_FIELDS, _OUTPUT_ONLY)
                new_doc.pop("thingId", None)
                pre = (
                    Preconditions(if_match=(current_tag,))
                    if current_tag is not None
                    else Preconditions(if_none_match=("*",))
                )
                try:
                    return self._core.twins.put(caller, tid, "/", new_doc, pre)
                except errors.PreconditionFailed:
                    if expected is not None or attempt == WRITE_ATTEMPTS - 1:
                        raise
                    pause_after_conflict(attempt)
            raise AssertionError("unreachable")

        result = await call.run_point(self._core, True, update)
        assert result.record is not None
        return twin_to_proto(result.record)

    async def DeleteTwin(self, request: twins_pb2.DeleteTwinRequest, call: Call) -> empty_pb2.Empty:
        caller = call.tenant_caller
        tid = parse_twin_name(request.name, caller)
        pre = Preconditions(if_match=(revision_of_etag(request.etag),)) if request.etag else None
        try:
            await call.run_point(self._core, True, self._core.twins.delete, caller, tid, "/", pre)
        except errors.ThingNotFound:
            if not request.allow_missing:
                raise
        return empty_pb2.Empty()

    async def BatchUpsertTwins(
        self, request: twins_pb2.BatchUpsertTwinsRequest, call: Call
    ) -> twins_pb2.BatchUpsertTwinsResponse:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        if len(request.twins) + len(request.relationships) > MAX_BATCH:
            raise errors.BadRequest(
                f"A batch holds at most {MAX_BATCH} twins and relationships together."
            )
        twins = [
            TwinUpsert(
                parse_twin_name(u.name, caller, f"twins[{i}].name"),
                json_from_struct(u.patch, "/patch"),
                u.delete,
            )
            for i, u in enumerate(request.twins)
        ]
        relationships = [
            RelationshipUpsert(
                parse_relationship_name(r.name, caller, f"relationships[{i}].name"),
                parse_twin_name(r.source, caller, f"relationships[{i}].source") if r.source else "",
                parse_twin_name(r.target, caller, f"relationships[{i}].target") if r.target else "",
                r.type,
                json_from_struct(r.properties, "/properties"),
                r.delete,
            )
            for i, r in enumerate(request.relationships)
        ]

        async def produce() -> twins_pb2.BatchUpsertTwinsResponse:
            result = await call.run(self._core.batch.upsert, caller, twins, relationships)
            return twins_pb2.BatchUpsertTwinsResponse(
                twins=[twin_to_proto(r) for r in result.twins],
                relationships=[relationship_to_proto(r) for r in result.relationships],
                last_position=max((e.seq for e in result.events), default=0),
            )

        return await self._requests.run(caller.tenant, request.request_id, request, produce)

    async def WatchTwins(
        self, request: twins_pb2.WatchTwinsRequest, call: Call
    ) -> AsyncIterator[twins_pb2.TwinEvent]:
        """Every committed change after the start position, in order, without gaps."""
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        after: int | None = request.start_after if request.HasField("start_after") else None
        if after is not None and after < 0:
            raise errors.BadRequest(f"start_after {after} is negative.")
        watcher = await self._feed.subscribe(caller, after)
        try:
            async for event in watcher:
                yield event_to_proto(event)
        finally:
            watcher.close()
