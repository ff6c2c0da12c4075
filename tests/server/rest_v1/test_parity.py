"""One scenario through ``/v1`` REST and through gRPC: same stored state, same events.

The real app (with the gRPC server started by its lifespan, as ``ndtwin serve`` runs it)
is served by uvicorn on loopback; tenant ``alpha`` plays the scenario over gRPC and tenant
``beta`` over REST, each watching its own change stream on its own face meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from google.protobuf import field_mask_pb2

from server.app import create_app
from server.core.service import Core
from server.grpc.gen.ndtwin.v1 import (
    relationships_pb2,
    relationships_pb2_grpc,
    twins_pb2,
    twins_pb2_grpc,
)
from server.grpc.serde import json_to_struct
from server.grpc.server import bound_port
from server.rest.v1.transcode import message_to_json
from server.settings import Settings
from tests.server.rest_v1.conftest import ENV_MODEL, bearer

pytestmark = pytest.mark.anyio
EVENTS = 8


@pytest.fixture
def served(core: Core, settings: Settings, keys: dict[str, str]) -> Iterator[tuple[str, int]]:
    """The app on a free loopback port with its gRPC server; yields (base URL, gRPC port)."""
    app: FastAPI = create_app(
        core,
        settings.model_copy(update={"grpc_port": 0}),
        manage_core=False,
        native_api=True,
        extensions=("server.grpc.app:setup",),
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (server.started and getattr(app.state, "grpc_server", None)):
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", bound_port(app.state.grpc_server)
    server.should_exit = True
    thread.join(20)
    sock.close()


async def _grpc_scenario(channel: grpc.aio.Channel, key: str) -> list[dict[str, Any]]:
    md = (("authorization", f"Bearer {key}"),)
    twins = twins_pb2_grpc.TwinServiceStub(channel)
    rels = relationships_pb2_grpc.RelationshipServiceStub(channel)
    watch = twins.WatchTwins(
        twins_pb2.WatchTwinsRequest(parent="tenants/alpha", start_after=0), metadata=md
    )

    def twin(attrs: dict[str, Any], **kw: Any) -> twins_pb2.Twin:
        out = twins_pb2.Twin(**kw)
        json_to_struct(attrs, out.attributes)
        return out

    await twins.CreateTwin(
        twins_pb2.CreateTwinRequest(
            parent="tenants/alpha",
            twin_id="org.p:env",
            twin=twin({"co2": 400}, definition=ENV_MODEL),
        ),
        metadata=md,
    )
    await twins.CreateTwin(
        twins_pb2.CreateTwinRequest(
            parent="tenants/alpha", twin_id="org.p:phone", twin=twin({"n": 1})
        ),
        metadata=md,
    )
    await twins.UpdateTwin(
        twins_pb2.UpdateTwinRequest(
            twin=twin({"co2": 500}, name="tenants/alpha/twins/org.p:env"),
            update_mask=field_mask_pb2.FieldMask(paths=["attributes.co2"]),
        ),
        metadata=md,
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await twins.UpdateTwin(
            twins_pb2.UpdateTwinRequest(
                twin=twin({"co2": -3}, name="tenants/alpha/twins/org.p:env"),
                update_mask=field_mask_pb2.FieldMask(paths=["attributes.co2"]),
            ),
            metadata=md,
        )
    batch = twins_pb2.BatchUpsertTwinsRequest(parent="tenants/alpha")
    json_to_struct(
        {"attributes": {"n": 2}}, batch.twins.add(name="tenants/alpha/twins/org.p:phone").patch
    )
    json_to_struct(
        {"attributes": {"fresh": True}}, batch.twins.add(name="tenants/alpha/twins/org.p:new").patch
    )
    batch.relationships.add(
        name="tenants/alpha/relationships/near-1",
        source="tenants/alpha/twins/org.p:env",
        target="tenants/alpha/twins/org.p:phone",
        type="near",
    )
    await twins.BatchUpsertTwins(batch, metadata=md)
    rel = relationships_pb2.Relationship(name="tenants/alpha/relationships/near-1")
    json_to_struct({"metres": 3}, rel.properties)
    await rels.UpdateRelationship(
        relationships_pb2.UpdateRelationshipRequest(
            relationship=rel, update_mask=field_mask_pb2.FieldMask(paths=["properties"])
        ),
        metadata=md,
    )
    await twins.DeleteTwin(
        twins_pb2.DeleteTwinRequest(name="tenants/alpha/twins/org.p:new"), metadata=md
    )
    events = []
    async for event in watch:
        events.append(message_to_json(event))
        if len(events) == EVENTS:
            break
    watch.cancel()
    return events


async def _watch_rest(http: httpx.AsyncClient, ready: asyncio.Event) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with http.stream(
        "GET", "/v1/tenants/beta/twins:watch", params={"start_after": "0"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        ready.set()
        async for line in response.aiter_lines():
            if line:
                events.append(json.loads(line)["result"])
            if len(events) == EVENTS:
                break
    return events


async def _rest_scenario(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    ready = asyncio.Event()
    watcher = asyncio.ensure_future(_watch_rest(http, ready))
    await asyncio.wait_for(ready.wait(), 10)

    async def ok(response: Any) -> None:
        assert (await response).status_code == 200

    await ok(
        http.post(
            "/v1/tenants/beta/twins",
            params={"twin_id": "org.p:env"},
            json={"definition": ENV_MODEL, "attributes": {"co2": 400}},
        )
    )
    await ok(
        http.post(
            "/v1/tenants/beta/twins",
            params={"twin_id": "org.p:phone"},
            json={"attributes": {"n": 1}},
        )
    )
    await ok(
        http.patch(
            "/v1/tenants/beta/twins/org.p:env",
            params={"update_mask": "attributes.co2"},
            json={"attributes": {"co2": 500}},
        )
    )
    refused = await http.patch(
        "/v1/tenants/beta/twins/org.p:env",
        params={"update_mask": "attributes.co2"},
        json={"attributes": {"co2": -3}},
    )
    assert refused.status_code == 400
    await ok(
        http.post(
            "/v1/tenants/beta/twins:batchUpsert",
            json={
                "twins": [
                    {"name": "tenants/beta/twins/org.p:phone", "patch": {"attributes": {"n": 2}}},
                    {
                        "name": "tenants/beta/twins/org.p:new",
                        "patch": {"attributes": {"fresh": True}},
                    },
                ],
                "relationships": [
                    {
                        "name": "tenants/beta/relationships/near-1",
                        "type": "near",
                        "source": "tenants/beta/twins/org.p:env",
                        "target": "tenants/beta/twins/org.p:phone",
                    }
                ],
            },
        )
    )
    await ok(
        http.patch(
            "/v1/tenants/beta/relationships/near-1",
            params={"update_mask": "properties"},
            json={"properties": {"metres": 3}},
        )
    )
    await ok(http.delete("/v1/tenants/beta/twins/org.p:new"))
    return await asyncio.wait_for(watcher, 10)


def _normalise(value: Any) -> Any:
    """Drop times and put one tenant's names in place of the other's."""
    if isinstance(value, dict):
        return {
            k: _normalise(v)
            for k, v in value.items()
            if k not in ("eventTime", "createTime", "updateTime", "_created", "_modified")
        }
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return value.replace("tenants/beta/", "tenants/alpha/")
    return value


@pytest.fixture
async def clients(
    served: tuple[str, int], keys: dict[str, str]
) -> AsyncIterator[tuple[grpc.aio.Channel, httpx.AsyncClient]]:
    base_url, grpc_port = served
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
        httpx.AsyncClient(base_url=base_url, headers=bearer(keys["beta"]), timeout=10) as http,
    ):
        yield channel, http


async def test_same_state_and_events_through_both_faces(
    clients: tuple[grpc.aio.Channel, httpx.AsyncClient], keys: dict[str, str], core: Core
) -> None:
    channel, http = clients
    via_grpc = await asyncio.wait_for(_grpc_scenario(channel, keys["alpha"]), 20)
    via_rest = await _rest_scenario(http)
    assert [e["position"] for e in via_grpc] == [str(i) for i in range(1, EVENTS + 1)]
    assert _normalise(via_rest) == _normalise(via_grpc)
    alpha = core.tenants.authenticate(keys["alpha"])
    beta = core.tenants.authenticate(keys["beta"])

    def logged(caller: Any) -> list[tuple[Any, ...]]:
        return [
            (e.seq, e.kind, e.action, e.entity_id, e.path, _normalise(e.value), e.revision)
            for e in core.events(caller)
        ]

    assert logged(alpha) == logged(beta) and len(logged(alpha)) == EVENTS
    for thing_id in ("org.p:env", "org.p:phone"):
        a, b = core.twins.get_record(alpha, thing_id), core.twins.get_record(beta, thing_id)
        assert (a.doc, a.revision) == (b.doc, b.revision)
    assert core.twins.get_record(alpha, "org.p:env").doc["attributes"] == {"co2": 500}
    rel_a = core.relationships.get(alpha, "near-1")
    rel_b = core.relationships.get(beta, "near-1")
    assert (
        (rel_a.properties, rel_a.revision)
        == (rel_b.properties, rel_b.revision)
        == ({"metres": 3}, 2)
    )
    # Both faces read the result back identically too.
    md = (("authorization", f"Bearer {keys['alpha']}"),)
    listed_grpc = await twins_pb2_grpc.TwinServiceStub(channel).ListTwins(
        twins_pb2.ListTwinsRequest(parent="tenants/alpha", order_by="thing_id"), metadata=md
    )
    listed_rest = (await http.get("/v1/tenants/beta/twins", params={"order_by": "thing_id"})).json()
    assert _normalise(listed_rest) == _normalise(message_to_json(listed_grpc))
