"""TwinService over a real loopback channel: every method, etags, paging, watch + resume."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_status import rpc_status

from server.core.service import Core
from server.grpc.gen.ndtwin.v1 import twins_pb2 as pb
from server.grpc.gen.ndtwin.v1 import twins_pb2_grpc
from server.grpc.serde import json_from_struct, json_to_struct
from tests.server.grpc.conftest import ENV_MODEL, Tenant

pytestmark = pytest.mark.anyio


def _twin(
    attributes: dict | None = None,
    features: dict | None = None,
    definition: str = "",
    name: str = "",
    etag: str = "",
) -> pb.Twin:
    twin = pb.Twin(definition=definition, name=name, etag=etag)
    if attributes is not None:
        json_to_struct(attributes, twin.attributes)
    if features is not None:
        json_to_struct(features, twin.features)
    return twin


async def _create(
    stub: twins_pb2_grpc.TwinServiceStub, tenant: Tenant, thing_id: str, **kwargs: object
) -> pb.Twin:
    return await stub.CreateTwin(
        pb.CreateTwinRequest(
            parent=tenant.parent,
            twin=_twin(**kwargs),  # type: ignore
            twin_id=thing_id,
        ),
        metadata=tenant.md,
    )


async def test_create_get_roundtrip_keeps_json_types(
    channel: grpc.aio.Channel, alpha: Tenant, core: Core
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    attrs = {"co2": 412.5, "motionCount": 3, "pressure": 101325}
    created = await _create(stub, alpha, "org.lab:env-1", attributes=attrs, definition=ENV_MODEL)
    assert created.name == "tenants/alpha/twins/org.lab:env-1"
    assert (created.thing_id, created.policy_id, created.revision) == (
        "org.lab:env-1",
        "org.lab:env-1",
        1,
    )
    assert created.etag == "rev:1"
    got = await stub.GetTwin(pb.GetTwinRequest(name=created.name), metadata=alpha.md)
    assert got == created
    # The stored document holds an int where the client sent an integral number.
    stored = core.store.get_twin(alpha.name, "org.lab:env-1")  # type: ignore[arg-type]
    assert stored is not None
    assert stored.doc["attributes"] == attrs
    assert isinstance(stored.doc["attributes"]["motionCount"], int)


async def test_create_generates_an_id_in_the_namespace(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    twin = await stub.CreateTwin(
        pb.CreateTwinRequest(parent=alpha.parent, namespace="org.gen", twin=_twin({"a": 1})),
        metadata=alpha.md,
    )
    namespace, _, name = twin.thing_id.partition(":")
    assert namespace == "org.gen"
    assert uuid.UUID(name)


async def test_create_twice_is_already_exists(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    await _create(stub, alpha, "org.x:dup", attributes={"a": 1})
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _create(stub, alpha, "org.x:dup", attributes={"a": 2})
    assert info.value.code() is grpc.StatusCode.ALREADY_EXISTS
    got = await stub.GetTwin(pb.GetTwinRequest(name=alpha.twin("org.x:dup")), metadata=alpha.md)
    assert json_from_struct(got.attributes) == {"a": 1}


async def test_update_with_mask_replaces_only_masked_paths(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    await _create(stub, alpha, "org.x:m", attributes={"a": 1, "b": {"c": 2, "d": 3}, "a.b": 0})
    twin = _twin({"a": 10, "b": {"c": 20, "d": 30}, "a.b": 5, "z": 9}, name=alpha.twin("org.x:m"))
    mask = field_mask_pb2.FieldMask(paths=["attributes.b.c", "attributes.`a.b`", "attributes.gone"])
    updated = await stub.UpdateTwin(
        pb.UpdateTwinRequest(twin=twin, update_mask=mask), metadata=alpha.md
    )
    assert json_from_struct(updated.attributes) == {"a": 1, "b": {"c": 20, "d": 3}, "a.b": 5}
    assert updated.revision == 2
    # No mask: every field present in the request is replaced as a whole.
    updated = await stub.UpdateTwin(
        pb.UpdateTwinRequest(twin=_twin({"only": True}, name=alpha.twin("org.x:m"))),
        metadata=alpha.md,
    )
    assert json_from_struct(updated.attributes) == {"only": True}


async def test_update_with_stale_etag_fails_precondition_and_changes_nothing(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    created = await _create(stub, alpha, "org.x:e", attributes={"v": 1})
    first = await stub.UpdateTwin(
        pb.UpdateTwinRequest(twin=_twin({"v": 2}, name=created.name, etag=created.etag)),
        metadata=alpha.md,
    )
    assert first.etag == "rev:2"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.UpdateTwin(
            pb.UpdateTwinRequest(twin=_twin({"v": 3}, name=created.name, etag=created.etag)),
            metadata=alpha.md,
        )
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(info.value)
    assert status is not None
    types = [d.type_url.rsplit("/", 1)[1] for d in status.details]
    assert types == ["google.rpc.ErrorInfo", "google.rpc.PreconditionFailure"]
    got = await stub.GetTwin(pb.GetTwinRequest(name=created.name), metadata=alpha.md)
    assert (got.revision, json_from_struct(got.attributes)) == (2, {"v": 2})


async def test_update_allow_missing_creates(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    name = alpha.twin("org.x:upsert")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.UpdateTwin(
            pb.UpdateTwinRequest(twin=_twin({"a": 1}, name=name)), metadata=alpha.md
        )
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    twin = await stub.UpdateTwin(
        pb.UpdateTwinRequest(twin=_twin({"a": 1}, name=name), allow_missing=True), metadata=alpha.md
    )
    assert twin.revision == 1


async def test_delete_with_etag_and_allow_missing(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    created = await _create(stub, alpha, "org.x:del", attributes={"a": 1})
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.DeleteTwin(
            pb.DeleteTwinRequest(name=created.name, etag="rev:7"), metadata=alpha.md
        )
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    await stub.DeleteTwin(
        pb.DeleteTwinRequest(name=created.name, etag=created.etag), metadata=alpha.md
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetTwin(pb.GetTwinRequest(name=created.name), metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.DeleteTwin(pb.DeleteTwinRequest(name=created.name), metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    await stub.DeleteTwin(
        pb.DeleteTwinRequest(name=created.name, allow_missing=True), metadata=alpha.md
    )


async def test_list_filters_orders_and_pages(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    for i in range(7):
        await _create(
            stub, alpha, f"org.x:t{i}", attributes={"level": i, "site": "lab" if i % 2 else "hall"}
        )
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListTwins(
            pb.ListTwinsRequest(
                parent=alpha.parent,
                filter='eq(attributes/site,"lab")',
                order_by="attributes.level desc",
                page_size=2,
                page_token=token,
            ),
            metadata=alpha.md,
        )
        assert len(page.twins) <= 2
        seen += [t.thing_id for t in page.twins]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["org.x:t5", "org.x:t3", "org.x:t1"]
    page = await stub.ListTwins(
        pb.ListTwinsRequest(parent=alpha.parent, order_by="thing_id"), metadata=alpha.md
    )
    assert [t.thing_id for t in page.twins] == [f"org.x:t{i}" for i in range(7)]
    assert all(t.revision == 1 and t.etag == "rev:1" for t in page.twins)


async def test_batch_upsert_is_atomic_and_idempotent(
    channel: grpc.aio.Channel, alpha: Tenant, core: Core
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    request_id = str(uuid.uuid4())
    request = pb.BatchUpsertTwinsRequest(parent=alpha.parent, request_id=request_id)
    for i in range(3):
        json_to_struct(
            {"attributes": {"n": i}}, request.twins.add(name=alpha.twin(f"org.b:{i}")).patch
        )
    rel = request.relationships.add(
        name=alpha.relationship("r1"),
        source=alpha.twin("org.b:0"),
        target=alpha.twin("org.b:1"),
        type="near",
    )
    json_to_struct({"distance": 3}, rel.properties)
    first = await stub.BatchUpsertTwins(request, metadata=alpha.md)
    assert [t.thing_id for t in first.twins] == ["org.b:0", "org.b:1", "org.b:2"]
    assert [r.name for r in first.relationships] == [alpha.relationship("r1")]
    last = core.last_seq(core.tenants.authenticate(alpha.key))
    assert first.last_position == last
    again = await stub.BatchUpsertTwins(request, metadata=alpha.md)
    assert again == first
    assert core.last_seq(core.tenants.authenticate(alpha.key)) == last
    # The same id with another request is refused.
    request.twins[0].patch.fields["attributes"].struct_value.fields["n"].number_value = 9
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.BatchUpsertTwins(request, metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    # One invalid member rejects the whole batch: nothing is written.
    bad = pb.BatchUpsertTwinsRequest(parent=alpha.parent)
    json_to_struct({"attributes": {"n": 100}}, bad.twins.add(name=alpha.twin("org.b:new")).patch)
    json_to_struct(
        {"definition": ENV_MODEL, "attributes": {"co2": -5}},
        bad.twins.add(name=alpha.twin("org.b:0")).patch,
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.BatchUpsertTwins(bad, metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert core.last_seq(core.tenants.authenticate(alpha.key)) == last
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetTwin(pb.GetTwinRequest(name=alpha.twin("org.b:new")), metadata=alpha.md)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


async def _collect(call: grpc.aio.UnaryStreamCall, count: int) -> list[pb.TwinEvent]:
    events: list[pb.TwinEvent] = []
    async for event in call:
        events.append(event)
        if len(events) == count:
            break
    call.cancel()
    return events


async def test_watch_sees_every_change_in_order_and_resumes_without_gaps(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    await _create(stub, alpha, "org.w:before", attributes={"n": 0})
    watch = stub.WatchTwins(pb.WatchTwinsRequest(parent=alpha.parent), metadata=alpha.md)
    reader = asyncio.ensure_future(_collect(watch, 10))
    await asyncio.sleep(0.2)  # the watch is "from now": it must not see 'before'
    for i in range(10):
        await stub.UpdateTwin(
            pb.UpdateTwinRequest(twin=_twin({"n": i + 1}, name=alpha.twin("org.w:before"))),
            metadata=alpha.md,
        )
    first = await asyncio.wait_for(reader, 10)
    positions = [e.position for e in first]
    assert positions == list(range(positions[0], positions[0] + 10))
    assert positions[0] == 2
    assert [e.revision for e in first] == list(range(2, 12))
    assert all(e.action == pb.TwinEvent.ACTION_MODIFIED for e in first)
    # Changes while no one watches, then a resume from the last position received.
    for i in range(5):
        await _create(stub, alpha, f"org.w:later{i}", attributes={"i": i})
    resumed = stub.WatchTwins(
        pb.WatchTwinsRequest(parent=alpha.parent, start_after=positions[-1]), metadata=alpha.md
    )
    rest = await asyncio.wait_for(_collect(resumed, 5), 10)
    assert [e.position for e in rest] == list(range(positions[-1] + 1, positions[-1] + 6))
    assert [e.name for e in rest] == [alpha.twin(f"org.w:later{i}") for i in range(5)]
    assert all(e.action == pb.TwinEvent.ACTION_CREATED for e in rest)
    assert json_from_struct(rest[0].value.struct_value)["attributes"] == {"i": 0}
    # From 0: the whole retained log, in order.
    everything = stub.WatchTwins(
        pb.WatchTwinsRequest(parent=alpha.parent, start_after=0), metadata=alpha.md
    )
    all_events = await asyncio.wait_for(_collect(everything, 16), 10)
    assert [e.position for e in all_events] == list(range(1, 17))


async def test_watch_keeps_up_under_concurrent_writes(
    channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    watchers = [
        stub.WatchTwins(pb.WatchTwinsRequest(parent=alpha.parent, start_after=0), metadata=alpha.md)
        for _ in range(3)
    ]
    readers = [asyncio.ensure_future(_collect(w, 30)) for w in watchers]

    async def writer(k: int) -> None:
        for i in range(10):
            await _create(stub, alpha, f"org.c:{k}-{i}", attributes={"i": i})

    await asyncio.gather(*(writer(k) for k in range(3)))
    results = await asyncio.wait_for(asyncio.gather(*readers), 15)
    for events in results:
        assert [e.position for e in events] == list(range(1, 31))
        assert len({e.name for e in events}) == 30
