"""Two tenants: no method lets alpha's key read, change or watch anything of beta's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest

from server.core.service import Core
from server.grpc.gen.ndtwin.v1 import (
    graph_pb2,
    graph_pb2_grpc,
    history_pb2,
    history_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
    relationships_pb2,
    relationships_pb2_grpc,
    twins_pb2,
    twins_pb2_grpc,
)
from tests.server.grpc.conftest import Tenant

pytestmark = pytest.mark.anyio


async def _setup_beta(channel: grpc.aio.Channel, beta: Tenant) -> None:
    twins = twins_pb2_grpc.TwinServiceStub(channel)
    for thing_id in ("org.i:b1", "org.i:b2"):
        twin = twins_pb2.Twin()
        twin.attributes.update({"secret": thing_id})
        await twins.CreateTwin(
            twins_pb2.CreateTwinRequest(parent=beta.parent, twin=twin, twin_id=thing_id),
            metadata=beta.md,
        )
    rels = relationships_pb2_grpc.RelationshipServiceStub(channel)
    await rels.CreateRelationship(
        relationships_pb2.CreateRelationshipRequest(
            parent=beta.parent,
            relationship_id="rb",
            relationship=relationships_pb2.Relationship(
                source=beta.twin("org.i:b1"), target=beta.twin("org.i:b2"), type="near"
            ),
        ),
        metadata=beta.md,
    )


async def _stream_all(call: Any) -> list[Any]:
    return [m async for m in call]


async def test_no_method_reaches_another_tenant(
    channel: grpc.aio.Channel, alpha: Tenant, beta: Tenant, core: Core
) -> None:
    await _setup_beta(channel, beta)
    beta_caller = core.tenants.authenticate(beta.key)
    before = core.last_seq(beta_caller)
    graph_before = core.fresh_graph().count(beta.name)
    twins = twins_pb2_grpc.TwinServiceStub(channel)
    rels = relationships_pb2_grpc.RelationshipServiceStub(channel)
    md = alpha.md
    patch = twins_pb2.Twin(name=beta.twin("org.i:b1"))
    patch.attributes.update({"secret": "stolen"})
    batch_theirs = twins_pb2.BatchUpsertTwinsRequest(parent=beta.parent)
    batch_theirs.twins.add(name=beta.twin("org.i:b1")).patch.update({"x": 1})
    batch_mixed = twins_pb2.BatchUpsertTwinsRequest(parent=alpha.parent)
    batch_mixed.twins.add(name=beta.twin("org.i:b1")).patch.update({"x": 1})
    rel_patch = relationships_pb2.Relationship(name=beta.relationship("rb"), type="far")
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "GetTwin": lambda: twins.GetTwin(
            twins_pb2.GetTwinRequest(name=beta.twin("org.i:b1")), metadata=md
        ),
        "GetTwin own name, their id": lambda: twins.GetTwin(
            twins_pb2.GetTwinRequest(name=alpha.twin("org.i:b1")), metadata=md
        ),
        "ListTwins": lambda: twins.ListTwins(
            twins_pb2.ListTwinsRequest(parent=beta.parent), metadata=md
        ),
        "CreateTwin": lambda: twins.CreateTwin(
            twins_pb2.CreateTwinRequest(
                parent=beta.parent, twin=twins_pb2.Twin(), twin_id="org.i:new"
            ),
            metadata=md,
        ),
        "UpdateTwin": lambda: twins.UpdateTwin(
            twins_pb2.UpdateTwinRequest(twin=patch, allow_missing=True), metadata=md
        ),
        "DeleteTwin": lambda: twins.DeleteTwin(
            twins_pb2.DeleteTwinRequest(name=beta.twin("org.i:b1")), metadata=md
        ),
        "DeleteTwin own name, their id": lambda: twins.DeleteTwin(
            twins_pb2.DeleteTwinRequest(name=alpha.twin("org.i:b1")), metadata=md
        ),
        "BatchUpsertTwins": lambda: twins.BatchUpsertTwins(batch_theirs, metadata=md),
        "BatchUpsertTwins mixed": lambda: twins.BatchUpsertTwins(batch_mixed, metadata=md),
        "WatchTwins": lambda: _stream_all(
            twins.WatchTwins(
                twins_pb2.WatchTwinsRequest(parent=beta.parent, start_after=0), metadata=md
            )
        ),
        "GetRelationship": lambda: rels.GetRelationship(
            relationships_pb2.GetRelationshipRequest(name=beta.relationship("rb")), metadata=md
        ),
        "GetRelationship own name": lambda: rels.GetRelationship(
            relationships_pb2.GetRelationshipRequest(name=alpha.relationship("rb")), metadata=md
        ),
        "ListRelationships": lambda: rels.ListRelationships(
            relationships_pb2.ListRelationshipsRequest(parent=beta.parent), metadata=md
        ),
        "CreateRelationship to their twins": lambda: rels.CreateRelationship(
            relationships_pb2.CreateRelationshipRequest(
                parent=alpha.parent,
                relationship_id="x",
                relationship=relationships_pb2.Relationship(
                    source=beta.twin("org.i:b1"), target=beta.twin("org.i:b2"), type="near"
                ),
            ),
            metadata=md,
        ),
        "CreateRelationship own names, their ids": lambda: rels.CreateRelationship(
            relationships_pb2.CreateRelationshipRequest(
                parent=alpha.parent,
                relationship_id="x",
                relationship=relationships_pb2.Relationship(
                    source=alpha.twin("org.i:b1"), target=alpha.twin("org.i:b2"), type="near"
                ),
            ),
            metadata=md,
        ),
        "UpdateRelationship": lambda: rels.UpdateRelationship(
            relationships_pb2.UpdateRelationshipRequest(relationship=rel_patch), metadata=md
        ),
        "DeleteRelationship": lambda: rels.DeleteRelationship(
            relationships_pb2.DeleteRelationshipRequest(name=beta.relationship("rb")), metadata=md
        ),
        "Query": lambda: _stream_all(
            query_pb2_grpc.QueryServiceStub(channel).Query(
                query_pb2.QueryRequest(parent=beta.parent, query="ASK {?s ?p ?o}"), metadata=md
            )
        ),
        "QueryHistory": lambda: history_pb2_grpc.HistoryServiceStub(channel).QueryHistory(
            history_pb2.QueryHistoryRequest(name=beta.twin("org.i:b1")), metadata=md
        ),
        "RebuildGraph": lambda: graph_pb2_grpc.GraphServiceStub(channel).RebuildGraph(
            graph_pb2.RebuildGraphRequest(name="tenants/beta/graph"), metadata=md
        ),
    }
    for label, call in calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await asyncio.wait_for(call(), 10)
        assert info.value.code() is grpc.StatusCode.NOT_FOUND, label
    assert core.last_seq(beta_caller) == before
    assert core.fresh_graph().count(beta.name) == graph_before
    beta_twin = await twins.GetTwin(
        twins_pb2.GetTwinRequest(name=beta.twin("org.i:b1")), metadata=beta.md
    )
    assert beta_twin.revision == 1 and beta_twin.attributes["secret"] == "org.i:b1"
    # What alpha may ask about itself shows nothing of beta's.
    own = await twins.ListTwins(twins_pb2.ListTwinsRequest(parent=alpha.parent), metadata=md)
    assert not own.twins
    rows = await _stream_all(
        query_pb2_grpc.QueryServiceStub(channel).Query(
            query_pb2.QueryRequest(parent=alpha.parent, query="SELECT * WHERE {?s ?p ?o}"),
            metadata=md,
        )
    )
    assert rows[0].header.row_count == 0
    history = await history_pb2_grpc.HistoryServiceStub(channel).QueryHistory(
        history_pb2.QueryHistoryRequest(name=alpha.twin("org.i:b1")), metadata=md
    )
    assert not history.points
