"""Bad input gets Ditto's 4xx error JSON, never a 5xx, and changes nothing."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.service import Core

pytestmark = pytest.mark.anyio

THING = "/api/2/things/org.example:t"


def _is_ditto_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["error"] == code


async def test_missing_and_bad_credentials_are_401(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    cases = [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer beta.not-the-key"},
        {"Authorization": "Basic !!!"},
        {
            "Authorization": "Basic " + base64.b64encode(b"beta:" + keys["alpha"].encode()).decode()
        },  # alpha's key presented as tenant beta
        {"Authorization": "Digest x"},
    ]
    for headers in cases:
        response = await client.get(THING, headers={"Authorization": ""} | headers)
        _is_ditto_error(response, 401, "gateway:authentication.failed")
        assert "Basic" in response.headers["www-authenticate"]


async def test_basic_auth_with_tenant_and_key(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await client.get("/api/2/whoami", auth=("alpha", keys["alpha"]))
    assert response.status_code == 200
    assert response.json() == {"subjects": ["ndtwin:alpha"], "defaultSubject": "ndtwin:alpha"}


async def test_malformed_json_is_400_and_writes_nothing(client: httpx.AsyncClient) -> None:
    for body in (b"{", b"", b"[1,", b"nul", b"\xff\xfe", b'{"a": NaN}'):
        response = await client.put(
            THING, content=body, headers={"content-type": "application/json"}
        )
        _is_ditto_error(response, 400, "json.format.invalid")
    assert (await client.get(THING)).status_code == 404


async def test_wrong_shapes_are_400(client: httpx.AsyncClient) -> None:
    cases = [
        (THING, [1, 2]),
        (THING, {"unknown": 1}),
        (THING, {"attributes": 5}),
        (THING, {"features": {"f": {"properties": []}}}),
        (THING, {"attributes": {"a/b": 1}}),
        (f"{THING}/attributes", "x"),
        (f"{THING}/features/f/definition", []),
        (f"{THING}/policyId", 7),
    ]
    for path, body in cases:
        response = await client.put(path, json=body)
        assert response.status_code == 400, (path, body, response.text)
    assert (await client.get(THING)).status_code == 404


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.put(THING, content=b"{}", headers={"content-type": "text/plain"})
    _is_ditto_error(response, 415, "mediatype.unsupported")
    merge = await client.patch(THING, content=b"{}", headers={"content-type": "application/json"})
    _is_ditto_error(merge, 415, "mediatype.unsupported")
    assert (await client.get(THING)).status_code == 404


async def test_bodies_over_100_kb_are_413(client: httpx.AsyncClient) -> None:
    big = b'{"attributes": {"x": "' + b"a" * 110_000 + b'"}}'
    response = await client.put(THING, content=big, headers={"content-type": "application/json"})
    _is_ditto_error(response, 413, "things:thing.toolarge")

    async def chunks():  # no Content-Length: the limit holds while streaming
        for _ in range(20):
            yield b" " * 10_000

    streamed = await client.put(
        THING, content=chunks(), headers={"content-type": "application/json"}
    )
    _is_ditto_error(streamed, 413)
    assert (await client.get(THING)).status_code == 404


async def test_invalid_ids_and_pointers_are_400(client: httpx.AsyncClient) -> None:
    cases = [
        ("/api/2/things/no-namespace-separator", "things:id.invalid"),
        ("/api/2/things/1ns:name", "things:id.invalid"),
        ("/api/2/things/ns:na%2Fme", "things:id.invalid"),
        ("/api/2/things/ns:%C3%A4", "things:id.invalid"),  # Latin-1 'ä' is refused
        ("/api/2/things/ns:%FF", "things:id.invalid"),  # not UTF-8
        ("/api/2/things/ns:x/attributes/a//b", None),
        ("/api/2/things/ns:x/features/%2A", None),
    ]
    for path, code in cases:
        response = await client.get(path)
        _is_ditto_error(response, 400, code)
    euro = await client.put("/api/2/things/ns:%E2%82%AC", json={})  # '€' is allowed
    assert euro.status_code == 201


async def test_invalid_rql_and_options(client: httpx.AsyncClient) -> None:
    bad_filter = await client.get("/api/2/search/things", params={"filter": "eq(a"})
    _is_ditto_error(bad_filter, 400, "rql.expression.invalid")
    bad_option = await client.get("/api/2/search/things", params={"option": "size(x)"})
    _is_ditto_error(bad_option, 400, "thing-search:search.option.invalid")
    too_big = await client.get("/api/2/search/things", params={"option": "size(500)"})
    _is_ditto_error(too_big, 400, "thing-search:search.option.invalid")
    bad_ns = await client.get("/api/2/search/things", params={"namespaces": "a..b"})
    _is_ditto_error(bad_ns, 400, "thing-search:search.namespaces.invalid")
    bad_cursor = await client.get("/api/2/search/things", params={"option": "cursor(zzz)"})
    _is_ditto_error(bad_cursor, 400, "thing-search:search.option.invalid")


async def test_unknown_routes_methods_and_policies(client: httpx.AsyncClient) -> None:
    _is_ditto_error(await client.get("/api/2/nothing"), 404, "resource.notfound")
    _is_ditto_error(await client.get(f"{THING}/elsewhere"), 404, "resource.notfound")
    _is_ditto_error(await client.get(f"{THING}/features/f/other"), 404)
    _is_ditto_error(await client.post(THING, json={}), 405, "method.notallowed")
    _is_ditto_error(await client.get("/api/2/policies/ns:p"), 501, "not.implemented")
    _is_ditto_error(await client.post(f"{THING}/inbox/messages/x", json={}), 405)
    _is_ditto_error(await client.get(f"{THING}/inbox/messages/x"), 501)


async def test_bad_header_values_are_400(client: httpx.AsyncClient) -> None:
    await client.put(THING, json={})
    _is_ditto_error(
        await client.put(f"{THING}/attributes/a", json=1, headers={"response-required": "maybe"}),
        400,
    )
    _is_ditto_error(
        await client.put(f"{THING}/attributes/a", json=1, headers={"if-equal": "sometimes"}), 400
    )
    _is_ditto_error(await client.get(THING, params={"at-historical-revision": "x"}), 400)
    _is_ditto_error(await client.get(THING, params={"at-historical-timestamp": "soon"}), 400)
    assert (await client.get(f"{THING}/attributes")).status_code == 404


async def test_correlation_id_is_echoed(client: httpx.AsyncClient) -> None:
    ok = await client.put(THING, json={}, headers={"correlation-id": "c-42"})
    assert ok.headers["correlation-id"] == "c-42"
    failed = await client.get("/api/2/things/bad", headers={"correlation-id": "c-43"})
    assert failed.headers["correlation-id"] == "c-43"


_SEGMENT = st.text(st.characters(codec="utf-8"), min_size=0, max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    segments=st.lists(_SEGMENT, min_size=1, max_size=4),
    body=_JSON,
    method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]),
    content_type=st.sampled_from(
        ["application/json", "application/merge-patch+json", "text/plain"]
    ),
)
async def test_fuzzed_requests_never_get_a_5xx(
    client: httpx.AsyncClient, segments: list[str], body: object, method: str, content_type: str
) -> None:
    from urllib.parse import quote

    import orjson

    path = "/api/2/things/" + "/".join(quote(s, safe="") for s in segments)
    response = await client.request(
        method, path, content=orjson.dumps(body), headers={"content-type": content_type}
    )
    assert response.status_code < 500, (method, path, body, response.text)
    if response.status_code >= 400:
        assert response.json()["status"] == response.status_code


async def test_a_client_that_hangs_up_mid_body_is_no_server_error(
    app: FastAPI, keys: dict[str, str], core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    """The body never arrives: no 500, no error logged, and the twin is not created."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": THING,
        "raw_path": THING.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {keys['alpha']}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    messages = iter([{"type": "http.request", "body": b'{"attr', "more_body": True}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.ERROR):
        await app(scope, receive, send)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert sent[0]["status"] == 499
    caller = core.tenants.authenticate(keys["alpha"])
    assert core.twins.search(caller, None, "size(10)", None)[0] == []
