"""Relationship, Model, Query, History, Graph, Operations and Tenant services over loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.longrunning import operations_pb2_grpc as lro_grpc
from google.longrunning import operations_proto_pb2 as lro
from google.protobuf import duration_pb2, field_mask_pb2

from server.core.service import Core
from server.grpc.gen.ndtwin.v1 import (
    graph_pb2,
    graph_pb2_grpc,
    history_pb2,
    history_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
    relationships_pb2,
    relationships_pb2_grpc,
    tenants_pb2,
    tenants_pb2_grpc,
    twins_pb2,
    twins_pb2_grpc,
)
from server.grpc.serde import json_from_struct, json_to_struct, time_to_proto
from tests.server.grpc.conftest import ENV_MODEL, OPERATOR_KEY, Tenant

pytestmark = pytest.mark.anyio
OPERATOR = (("authorization", f"Bearer {OPERATOR_KEY}"),)


async def _twins(channel: grpc.aio.Channel, tenant: Tenant, *ids: str) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    for thing_id in ids:
        twin = twins_pb2.Twin()
        json_to_struct({"tag": thing_id}, twin.attributes)
        await stub.CreateTwin(
            twins_pb2.CreateTwinRequest(parent=tenant.parent, twin=twin, twin_id=thing_id),
            metadata=tenant.md,
        )


def _rel(
    tenant: Tenant, source: str, target: str, rel_type: str, properties: dict | None = None
) -> relationships_pb2.Relationship:
    rel = relationships_pb2.Relationship(
        source=tenant.twin(source), target=tenant.twin(target), type=rel_type
    )
    json_to_struct(properties or {}, rel.properties)
    return rel


async def test_relationship_crud_list_filter_and_etag(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    await _twins(channel, alpha, "org.r:a", "org.r:b", "org.r:c")
    stub = relationships_pb2_grpc.RelationshipServiceStub(channel)
    md = alpha.md
    ab = await stub.CreateRelationship(
        relationships_pb2.CreateRelationshipRequest(
            parent=alpha.parent,
            relationship_id="ab",
            relationship=_rel(alpha, "org.r:a", "org.r:b", "near", {"m": 2}),
        ),
        metadata=md,
    )
    assert (ab.name, ab.source, ab.target, ab.revision, ab.etag) == (
        alpha.relationship("ab"),
        alpha.twin("org.r:a"),
        alpha.twin("org.r:b"),
        1,
        "rev:1",
    )
    await stub.CreateRelationship(
        relationships_pb2.CreateRelationshipRequest(
            parent=alpha.parent,
            relationship_id="ac",
            relationship=_rel(alpha, "org.r:a", "org.r:c", "servedBy"),
        ),
        metadata=md,
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateRelationship(
            relationships_pb2.CreateRelationshipRequest(
                parent=alpha.parent,
                relationship_id="ab",
                relationship=_rel(alpha, "org.r:a", "org.r:c", "near"),
            ),
            metadata=md,
        )
    assert info.value.code() is grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateRelationship(
            relationships_pb2.CreateRelationshipRequest(
                parent=alpha.parent,
                relationship_id="dangling",
                relationship=_rel(alpha, "org.r:a", "org.r:nope", "near"),
            ),
            metadata=md,
        )
    assert info.value.code() is grpc.StatusCode.NOT_FOUND

    got = await stub.GetRelationship(
        relationships_pb2.GetRelationshipRequest(name=ab.name), metadata=md
    )
    assert got == ab
    listed = await stub.ListRelationships(
        relationships_pb2.ListRelationshipsRequest(
            parent=alpha.parent, filter=f'source = "{alpha.twin("org.r:a")}" AND type = "near"'
        ),
        metadata=md,
    )
    assert [r.name for r in listed.relationships] == [ab.name]
    everything = await stub.ListRelationships(
        relationships_pb2.ListRelationshipsRequest(parent=alpha.parent, page_size=1), metadata=md
    )
    assert len(everything.relationships) == 1 and everything.next_page_token
    second = await stub.ListRelationships(
        relationships_pb2.ListRelationshipsRequest(
            parent=alpha.parent, page_size=1, page_token=everything.next_page_token
        ),
        metadata=md,
    )
    assert {everything.relationships[0].name, second.relationships[0].name} == {
        alpha.relationship("ab"),
        alpha.relationship("ac"),
    }

    patch = relationships_pb2.Relationship(name=ab.name, etag=ab.etag)
    json_to_struct({"m": 5, "x": 1}, patch.properties)
    updated = await stub.UpdateRelationship(
        relationships_pb2.UpdateRelationshipRequest(
            relationship=patch, update_mask=field_mask_pb2.FieldMask(paths=["properties.m"])
        ),
        metadata=md,
    )
    assert json_from_struct(updated.properties) == {"m": 5}
    assert (updated.revision, updated.type, updated.source) == (2, "near", ab.source)
    with pytest.raises(grpc.aio.AioRpcError) as info:  # the etag is now stale
        await stub.UpdateRelationship(
            relationships_pb2.UpdateRelationshipRequest(relationship=patch), metadata=md
        )
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.DeleteRelationship(
            relationships_pb2.DeleteRelationshipRequest(name=ab.name, etag="rev:1"), metadata=md
        )
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    await stub.DeleteRelationship(
        relationships_pb2.DeleteRelationshipRequest(name=ab.name, etag="rev:2"), metadata=md
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetRelationship(
            relationships_pb2.GetRelationshipRequest(name=ab.name), metadata=md
        )
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    await stub.DeleteRelationship(
        relationships_pb2.DeleteRelationshipRequest(name=ab.name, allow_missing=True), metadata=md
    )


_SDF = {
    "info": {"title": "Door", "version": "2026-01-01"},
    "namespace": {"door": "https://example.com/door"},
    "defaultNamespace": "door",
    "sdfObject": {"Door": {"sdfProperty": {"open": {"type": "boolean"}}}},
}


async def test_models_list_get_views_validate_and_register(
    channel: grpc.aio.Channel, alpha: Tenant, beta: Tenant
) -> None:
    stub = models_pb2_grpc.ModelServiceStub(channel)
    listed = await stub.ListModels(models_pb2.ListModelsRequest(), metadata=alpha.md)
    names = [m.name for m in listed.models]
    assert "models/environment" in names and "models/cellular" in names
    env = await stub.GetModel(
        models_pb2.GetModelRequest(name="models/environment"), metadata=alpha.md
    )
    assert ENV_MODEL in env.definitions and not env.files
    assert env.origin == models_pb2.Model.ORIGIN_BUILT_IN
    sdf = await stub.GetModel(
        models_pb2.GetModelRequest(name="models/environment", view=models_pb2.MODEL_VIEW_SDF),
        metadata=alpha.md,
    )
    assert json.loads(sdf.files[0].content)["sdfObject"]["EnvironmentSensor"]
    assert sdf.files[0].media_type == "application/sdf+json"
    shacl = await stub.GetModel(
        models_pb2.GetModelRequest(name="models/environment", view=models_pb2.MODEL_VIEW_SHACL),
        metadata=alpha.md,
    )
    assert shacl.files[0].media_type == "text/turtle" and "sh:" in shacl.files[0].content
    tm = await stub.GetModel(
        models_pb2.GetModelRequest(name="models/environment", view=models_pb2.MODEL_VIEW_WOT_TM),
        metadata=alpha.md,
    )
    assert any(json.loads(f.content).get("@type") == "tm:ThingModel" for f in tm.files)
    ditto = await stub.GetModel(
        models_pb2.GetModelRequest(name="models/environment", view=models_pb2.MODEL_VIEW_DITTO),
        metadata=alpha.md,
    )
    assert ditto.files and all(f.media_type == "application/json" for f in ditto.files)

    ok = await stub.ValidateModel(
        models_pb2.ValidateModelRequest(model=models_pb2.ModelSource(content=json.dumps(_SDF))),
        metadata=alpha.md,
    )
    assert ok.valid and not [
        i for i in ok.issues if i.severity == models_pb2.ModelIssue.SEVERITY_ERROR
    ]
    broken = dict(_SDF, sdfObject={"Door": {"sdfProperty": {"open": {"type": "colour"}}}})
    bad = await stub.ValidateModel(
        models_pb2.ValidateModelRequest(model=models_pb2.ModelSource(content=json.dumps(broken))),
        metadata=alpha.md,
    )
    assert not bad.valid and any(i.pointer.startswith("/sdfObject/Door") for i in bad.issues)

    source = models_pb2.ModelSource()
    json_to_struct(_SDF, source.document)
    door = await stub.RegisterModel(
        models_pb2.RegisterModelRequest(model_id="door", model=source), metadata=alpha.md
    )
    assert (door.name, door.title, door.origin) == (
        "models/door",
        "Door",
        models_pb2.Model.ORIGIN_TENANT,
    )
    assert door.definitions and door.definitions[0].endswith("Door.tm.jsonld")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RegisterModel(
            models_pb2.RegisterModelRequest(model_id="door", model=source), metadata=alpha.md
        )
    assert info.value.code() is grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RegisterModel(
            models_pb2.RegisterModelRequest(
                model_id="broken", model=models_pb2.ModelSource(content=json.dumps(broken))
            ),
            metadata=alpha.md,
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    # Only alpha sees its model.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetModel(models_pb2.GetModelRequest(name="models/door"), metadata=beta.md)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    mine = await stub.ListModels(models_pb2.ListModelsRequest(), metadata=alpha.md)
    theirs = await stub.ListModels(models_pb2.ListModelsRequest(), metadata=beta.md)
    assert [m.name for m in mine.models if m.name not in {t.name for t in theirs.models}] == [
        "models/door"
    ]


async def test_query_streams_rows_triples_and_booleans(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    await _twins(channel, alpha, "org.q:a", "org.q:b")
    stub = query_pb2_grpc.QueryServiceStub(channel)

    async def run(text: str) -> list[query_pb2.QueryResponse]:
        return [
            m
            async for m in stub.Query(
                query_pb2.QueryRequest(parent=alpha.parent, query=text), metadata=alpha.md
            )
        ]

    rows = await run("SELECT ?t WHERE { ?t <https://w3id.org/ndtwin/ns#revision> ?r } ORDER BY ?t")
    assert rows[0].header.form == "SELECT" and list(rows[0].header.variables) == ["t"]
    assert rows[0].header.row_count == 2
    values = [r.solution.bindings["t"].value for r in rows[1:]]
    assert values == ["urn:ndtwin:alpha:twin:org.q:a", "urn:ndtwin:alpha:twin:org.q:b"]
    assert all(r.solution.bindings["t"].kind == query_pb2.RdfTerm.KIND_IRI for r in rows[1:])
    ask = await run("ASK { ?s ?p ?o }")
    assert ask[0].header.form == "ASK" and ask[1].boolean is True
    graph = await run(
        "CONSTRUCT { ?s <urn:x:p> ?r } WHERE { ?s <https://w3id.org/ndtwin/ns#revision> ?r }"
    )
    assert graph[0].header.row_count == 2 and len(graph) == 3
    assert graph[1].triple.object.datatype == "http://www.w3.org/2001/XMLSchema#integer"
    for text, code in (
        ("SELECT nonsense", grpc.StatusCode.INVALID_ARGUMENT),
        ("INSERT DATA { <a:b> <a:b> <a:b> }", grpc.StatusCode.PERMISSION_DENIED),
        ("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }", grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await run(text)
        assert info.value.code() is code, text


async def test_history_points_and_buckets(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    twins = twins_pb2_grpc.TwinServiceStub(channel)
    name = alpha.twin("org.h:env")
    start = datetime.now(UTC) - timedelta(seconds=1)
    for value in (400, 500, 900):
        twin = twins_pb2.Twin(name=name, definition=ENV_MODEL)
        json_to_struct({"co2": value}, twin.attributes)
        await twins.UpdateTwin(
            twins_pb2.UpdateTwinRequest(twin=twin, allow_missing=True), metadata=alpha.md
        )
    stub = history_pb2_grpc.HistoryServiceStub(channel)
    request = history_pb2.QueryHistoryRequest(name=name, path="/attributes/co2")
    time_to_proto(start, request.start_time)
    points = await stub.QueryHistory(request, metadata=alpha.md)
    assert [p.value.number_value for p in points.points] == [400, 500, 900]
    assert [p.revision for p in points.points] == [1, 2, 3]
    request.bucket.CopyFrom(duration_pb2.Duration(seconds=3600))
    buckets = await stub.QueryHistory(request, metadata=alpha.md)
    assert not buckets.points
    total = sum(b.count for b in buckets.buckets)
    assert total == 3
    assert min(b.min for b in buckets.buckets) == 400 and max(b.max for b in buckets.buckets) == 900
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.QueryHistory(
            history_pb2.QueryHistoryRequest(name=name, path="a//b"), metadata=alpha.md
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_rebuild_graph_is_a_pollable_operation(
    channel: grpc.aio.Channel, alpha: Tenant, beta: Tenant, core: Core
) -> None:
    await _twins(channel, alpha, "org.g:a", "org.g:b")
    caller = core.tenants.authenticate(alpha.key)
    before = core.fresh_graph().count(caller.tenant)
    core.graph.clear(caller.tenant)
    graph = graph_pb2_grpc.GraphServiceStub(channel)
    ops = lro_grpc.OperationsStub(channel)
    op = await graph.RebuildGraph(
        graph_pb2.RebuildGraphRequest(name="tenants/alpha/graph"), metadata=alpha.md
    )
    assert op.name.startswith("operations/")
    done = await ops.WaitOperation(lro.WaitOperationRequest(name=op.name), metadata=alpha.md)
    assert done.done and not done.HasField("error")
    response = graph_pb2.RebuildGraphResponse()
    assert done.response.Unpack(response)
    assert response.triple_count == before == core.fresh_graph().count(caller.tenant)
    meta = graph_pb2.OperationMetadata()
    assert done.metadata.Unpack(meta)
    assert (meta.verb, meta.target, meta.progress_percent) == (
        "rebuildGraph",
        "tenants/alpha/graph",
        100,
    )
    got = await ops.GetOperation(lro.GetOperationRequest(name=op.name), metadata=alpha.md)
    assert got == done
    listed = await ops.ListOperations(
        lro.ListOperationsRequest(name="operations"), metadata=alpha.md
    )
    assert [o.name for o in listed.operations] == [op.name]
    # Another tenant cannot see, cancel or delete it.
    for call in (
        ops.GetOperation(lro.GetOperationRequest(name=op.name), metadata=beta.md),
        ops.CancelOperation(lro.CancelOperationRequest(name=op.name), metadata=beta.md),
        ops.DeleteOperation(lro.DeleteOperationRequest(name=op.name), metadata=beta.md),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() is grpc.StatusCode.NOT_FOUND
    assert not (
        await ops.ListOperations(lro.ListOperationsRequest(name="operations"), metadata=beta.md)
    ).operations
    await ops.CancelOperation(lro.CancelOperationRequest(name=op.name), metadata=alpha.md)
    await ops.DeleteOperation(lro.DeleteOperationRequest(name=op.name), metadata=alpha.md)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await ops.GetOperation(lro.GetOperationRequest(name=op.name), metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await graph.RebuildGraph(
            graph_pb2.RebuildGraphRequest(name="tenants/beta/graph"), metadata=alpha.md
        )
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


async def test_tenants_need_the_operator_key(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    stub = tenants_pb2_grpc.TenantServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListTenants(tenants_pb2.ListTenantsRequest(), metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.PERMISSION_DENIED
    created = await stub.CreateTenant(
        tenants_pb2.CreateTenantRequest(tenant_id="gamma"), metadata=OPERATOR
    )
    assert created.name == "tenants/gamma" and created.api_key.startswith("gamma.")
    gamma = (("authorization", f"Bearer {created.api_key}"),)
    twins = twins_pb2_grpc.TwinServiceStub(channel)
    listed = await twins.ListTwins(
        twins_pb2.ListTwinsRequest(parent="tenants/gamma"), metadata=gamma
    )
    assert not listed.twins
    with pytest.raises(grpc.aio.AioRpcError) as info:  # the operator is no tenant
        await twins.ListTwins(twins_pb2.ListTwinsRequest(parent="tenants/gamma"), metadata=OPERATOR)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    page = await stub.ListTenants(tenants_pb2.ListTenantsRequest(page_size=1), metadata=OPERATOR)
    assert [t.name for t in page.tenants] == ["tenants/alpha"] and page.next_page_token
    rest = await stub.ListTenants(
        tenants_pb2.ListTenantsRequest(page_token=page.next_page_token), metadata=OPERATOR
    )
    assert [t.name for t in rest.tenants] == ["tenants/gamma"] and not rest.next_page_token
    got = await stub.GetTenant(
        tenants_pb2.GetTenantRequest(name="tenants/gamma"), metadata=OPERATOR
    )
    assert got.name == "tenants/gamma" and not got.api_key
    await stub.DeleteTenant(
        tenants_pb2.DeleteTenantRequest(name="tenants/gamma"), metadata=OPERATOR
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:  # its key is forgotten at once
        await twins.ListTwins(twins_pb2.ListTwinsRequest(parent="tenants/gamma"), metadata=gamma)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetTenant(tenants_pb2.GetTenantRequest(name="tenants/gamma"), metadata=OPERATOR)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateTenant(
            tenants_pb2.CreateTenantRequest(tenant_id="Bad Name"), metadata=OPERATOR
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
