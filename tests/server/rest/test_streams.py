"""SSE change streams and the ``/ws/2`` WebSocket over real sockets (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from tests.server.rest.conftest import bearer

pytestmark = pytest.mark.anyio


@pytest.fixture
def base_url(app: FastAPI, keys: dict[str, str]) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
async def http(base_url: str, keys: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://{base_url}", headers=bearer(keys["alpha"])
    ) as client:
        yield client


class Events:
    """Reads SSE events (``id`` and parsed ``data``) and heartbeats from a stream.

    A background task parses the stream into a queue, so a timed-out wait does not cancel
    (and thereby close) the response's line iterator.
    """

    def __init__(self, response: httpx.Response) -> None:
        self.heartbeats = 0
        self._queue: asyncio.Queue[tuple[int, Any] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        event_id, data = None, None
        try:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.heartbeats += 1
                elif line.startswith("id:"):
                    event_id = int(line[3:])
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                elif line == "" and data is not None:
                    assert event_id is not None
                    await self._queue.put((event_id, data))
                    event_id, data = None, None
        finally:
            await self._queue.put(None)

    async def next(self, timeout: float = 5.0) -> tuple[int, Any]:
        item = await asyncio.wait_for(self._queue.get(), timeout)
        assert item is not None, "stream ended"
        return item

    async def silent(self, seconds: float) -> None:
        """Assert that no event (only heartbeats) arrives for ``seconds``."""
        with pytest.raises(TimeoutError):
            event = await self.next(seconds)
            raise AssertionError(f"unexpected event {event}")

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


@contextlib.asynccontextmanager
async def _stream(http: httpx.AsyncClient, path: str, **kwargs: Any) -> AsyncIterator[Events]:
    headers = {"Accept": "text/event-stream", **kwargs.pop("headers", {})}
    async with http.stream("GET", path, headers=headers, **kwargs) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = Events(response)
        try:
            yield events
        finally:
            await events.close()


async def _wait_subscribed() -> None:
    await asyncio.sleep(0.3)  # the stream has registered with the hub once headers arrived


async def test_sse_streams_partial_things_with_seq_ids(http: httpx.AsyncClient) -> None:
    async with _stream(http, "/api/2/things") as events:
        await _wait_subscribed()
        await http.put("/api/2/things/org.a:lamp", json={"attributes": {"on": False}})
        await http.put("/api/2/things/org.a:lamp/features/light/properties/level", json=3)
        first_id, first = await events.next()
        second_id, second = await events.next()
        assert first == {
            "thingId": "org.a:lamp",
            "policyId": "org.a:lamp",
            "attributes": {"on": False},
        }
        assert second == {
            "thingId": "org.a:lamp",
            "features": {"light": {"properties": {"level": 3}}},
        }
        assert second_id == first_id + 1


async def test_sse_filter_fields_and_namespaces(http: httpx.AsyncClient) -> None:
    params = {
        "namespaces": "org.a",
        "filter": 'eq(attributes/kind,"x")',
        "fields": "thingId,attributes,_context",
    }
    async with _stream(http, "/api/2/things", params=params) as events:
        await _wait_subscribed()
        await http.put("/api/2/things/org.b:one", json={"attributes": {"kind": "x"}})
        await http.put("/api/2/things/org.a:two", json={"attributes": {"kind": "y"}})
        await http.put("/api/2/things/org.a:three", json={"attributes": {"kind": "x"}})
        _, data = await events.next()
        assert data["thingId"] == "org.a:three"
        assert data["attributes"] == {"kind": "x"}
        assert data["_context"]["topic"] == "org.a/three/things/twin/events/created"
        assert data["_context"]["path"] == "/"
        assert "policyId" not in data
        await events.silent(0.5)


async def test_sse_heartbeat_when_idle(http: httpx.AsyncClient) -> None:
    async with _stream(http, "/api/2/things") as events:
        await events.silent(1.0)  # heartbeat interval is 0.3 s in these tests
        assert events.heartbeats >= 2


async def test_sse_resumes_after_last_event_id(http: httpx.AsyncClient) -> None:
    for value in (1, 2, 3):
        await http.put("/api/2/things/org.a:c/attributes/v", json=value)
    ids = []
    async with _stream(http, "/api/2/things") as events:
        await _wait_subscribed()
        await http.put("/api/2/things/org.a:c/attributes/v", json=4)
        ids.append((await events.next())[0])
    async with _stream(http, "/api/2/things", headers={"Last-Event-ID": str(ids[0] - 3)}) as events:
        got = [await events.next() for _ in range(3)]
        assert [data["attributes"]["v"] for _, data in got] == [2, 3, 4]
        assert [event_id for event_id, _ in got] == [ids[0] - 2, ids[0] - 1, ids[0]]
        await http.put("/api/2/things/org.a:c/attributes/v", json=5)
        assert (await events.next())[1]["attributes"]["v"] == 5
    bad = await http.get(
        "/api/2/things", headers={"Accept": "text/event-stream", "Last-Event-ID": "abc"}
    )
    assert bad.status_code == 400


async def test_sse_on_one_thing_and_a_sub_path(http: httpx.AsyncClient) -> None:
    await http.put("/api/2/things/org.a:s", json={"attributes": {"loc": {"x": 1}}})
    async with _stream(http, "/api/2/things/org.a:s/attributes/loc") as events:
        await _wait_subscribed()
        await http.put("/api/2/things/org.a:other/attributes/loc", json={"x": 9})
        await http.put("/api/2/things/org.a:s/attributes/name", json="n")
        await http.put("/api/2/things/org.a:s/attributes/loc/x", json=2)
        await http.patch(
            "/api/2/things/org.a:s",
            content=b'{"attributes":{"loc":{"y":3}}}',
            headers={"content-type": "application/merge-patch+json"},
        )
        assert (await events.next())[1] == {"x": 2}
        assert (await events.next())[1] == {"y": 3}
    async with _stream(http, "/api/2/things/org.a:s") as events:
        await _wait_subscribed()
        await http.put("/api/2/things/org.a:s/attributes/name", json="m")
        assert (await events.next())[1] == {"thingId": "org.a:s", "attributes": {"name": "m"}}


async def test_sse_is_per_tenant_and_needs_credentials(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    unauthenticated = await http.get(
        "/api/2/things", headers={"Accept": "text/event-stream", "Authorization": ""}
    )
    assert unauthenticated.status_code == 401
    async with _stream(http, "/api/2/things", headers=bearer(keys["beta"])) as events:
        await _wait_subscribed()
        await http.put("/api/2/things/org.a:secret", json={"attributes": {"pin": 1234}})
        await events.silent(0.6)
        await http.put("/api/2/things/org.a:mine", json={}, headers=bearer(keys["beta"]))
        assert (await events.next())[1]["thingId"] == "org.a:mine"


# -- WebSocket -----------------------------------------------------------------------


async def _recv(ws: Any, timeout: float = 5.0) -> Any:
    message = await asyncio.wait_for(ws.recv(), timeout)
    return message if not message.startswith("{") else json.loads(message)


async def test_ws_commands_get_ditto_protocol_responses(
    base_url: str, keys: dict[str, str]
) -> None:
    url = f"ws://{base_url}/ws/2"
    async with websockets.connect(url, additional_headers=bearer(keys["alpha"])) as ws:

        def command(
            action: str, path: str = "/", value: Any = None, cid: str = "c", **headers: str
        ) -> str:
            body: dict[str, Any] = {
                "topic": f"org.a/w/things/twin/commands/{action}",
                "headers": {"correlation-id": cid, **headers},
                "path": path,
            }
            if value is not None:
                body["value"] = value
            return json.dumps(body)

        await ws.send(command("create", value={"attributes": {"a": 1}}, cid="c1"))
        created = await _recv(ws)
        assert created["topic"] == "org.a/w/things/twin/commands/create"
        assert created["status"] == 201
        assert created["headers"]["correlation-id"] == "c1"
        assert created["value"]["attributes"] == {"a": 1}
        await ws.send(command("create", value={}, cid="c2"))
        conflict = await _recv(ws)
        assert conflict["topic"] == "org.a/w/things/twin/errors"
        assert conflict["status"] == 409
        assert conflict["value"]["error"] == "things:thing.conflict"
        await ws.send(command("modify", "/attributes/a", 2, cid="c3"))
        assert (await _recv(ws))["status"] == 204
        await ws.send(command("merge", "/attributes", {"b": 3}, cid="c4"))
        assert (await _recv(ws))["status"] == 204
        await ws.send(command("retrieve", "/attributes", cid="c5"))
        retrieved = await _recv(ws)
        assert (retrieved["status"], retrieved["value"]) == (200, {"a": 2, "b": 3})
        await ws.send(command("modify", "/attributes/a", 5, cid="c6", **{"if-match": '"rev:1"'}))
        failed = await _recv(ws)
        assert (failed["status"], failed["value"]["error"]) == (412, "things:precondition.failed")
        await ws.send(command("delete", cid="c7"))
        assert (await _recv(ws))["status"] == 204
        await ws.send(command("retrieve", cid="c8"))
        missing = await _recv(ws)
        assert (missing["status"], missing["headers"]["correlation-id"]) == (404, "c8")
        await ws.send("not json")
        assert (await _recv(ws))["value"]["error"] == "json.format.invalid"
        await ws.send(json.dumps({"topic": "org.a/w/things/twin/commands/fly"}))
        assert (await _recv(ws))["status"] == 400


async def test_ws_events_with_filter_and_namespaces(
    base_url: str, http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    url = f"ws://{base_url}/ws/2?access_token={keys['alpha']}"
    async with websockets.connect(url) as ws:
        await ws.send("START-SEND-EVENTS?namespaces=org.a&filter=exists(attributes/hot)")
        assert await _recv(ws) == "START-SEND-EVENTS:ACK"
        await http.put("/api/2/things/org.b:x", json={"attributes": {"hot": 1}})
        await http.put("/api/2/things/org.a:cold", json={"attributes": {"cold": 1}})
        await http.put("/api/2/things/org.a:hot", json={"attributes": {"hot": 1}})
        await http.put("/api/2/things/org.a:hot/attributes/hot", json=2)
        event = await _recv(ws)
        assert event["topic"] == "org.a/hot/things/twin/events/created"
        assert event["path"] == "/"
        assert event["value"]["attributes"] == {"hot": 1}
        assert event["revision"] == 1
        assert event["timestamp"].endswith("Z")
        modified = await _recv(ws)
        assert (modified["topic"], modified["path"], modified["value"]) == (
            "org.a/hot/things/twin/events/modified",
            "/attributes/hot",
            2,
        )
        await ws.send("STOP-SEND-EVENTS")
        assert await _recv(ws) == "STOP-SEND-EVENTS:ACK"
        await http.put("/api/2/things/org.a:hot/attributes/hot", json=3)
        with pytest.raises(TimeoutError):
            await _recv(ws, 0.5)
        await ws.send("START-SEND-EVENTS?filter=eq(")
        assert (await _recv(ws))["value"]["error"] == "rql.expression.invalid"


async def test_ws_is_per_tenant_and_needs_credentials(
    base_url: str, http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    url = f"ws://{base_url}/ws/2"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url):
            pass
    assert refused.value.response.status_code == 401
    async with websockets.connect(url, additional_headers=bearer(keys["beta"])) as ws:
        await ws.send("START-SEND-EVENTS")
        assert await _recv(ws) == "START-SEND-EVENTS:ACK"
        await http.put("/api/2/things/org.a:secret", json={"attributes": {"pin": 1}})
        await ws.send(
            json.dumps(
                {
                    "topic": "org.a/secret/things/twin/commands/retrieve",
                    "headers": {"correlation-id": "r"},
                }
            )
        )
        answer = await _recv(ws)
        assert answer["status"] == 404  # alpha's thing is invisible to beta
        await ws.send(json.dumps({"topic": "org.a/mine/things/twin/commands/create", "value": {}}))
        first = await _recv(ws)
        second = await _recv(ws)
        topics = {first["topic"], second["topic"]}
        assert topics == {
            "org.a/mine/things/twin/commands/create",
            "org.a/mine/things/twin/events/created",
        }
