"""The ``/v1`` routes are exactly the protos' HTTP rules, and they behave like gRPC."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from google.api import annotations_pb2

from server.grpc.services import SERVICES
from tests.server.rest_v1.conftest import ENV_MODEL, OPERATOR_KEY, bearer

pytestmark = pytest.mark.anyio

#: Served /v1 routes that transcode no RPC method (the SPARQL 1.1 Protocol endpoint).
EXTRA_ROUTES = {("GET", "/v1/sparql"), ("POST", "/v1/sparql")}
#: Methods without an HTTP rule: Google's Operations service gives WaitOperation none
#: (REST clients poll GetOperation). Every ndtwin.v1 method has one.
GRPC_ONLY = {"google.longrunning.Operations.WaitOperation"}


def _annotated() -> set[tuple[str, str]]:
    """Every (verb, template) of every google.api.http rule, read from the descriptors."""
    found = set()
    for service in SERVICES:
        for method in service.methods:
            options = method.GetOptions()
            if method.full_name in GRPC_ONLY:
                assert not options.HasExtension(annotations_pb2.http)
                continue
            assert options.HasExtension(annotations_pb2.http), method.full_name
            rule = options.Extensions[annotations_pb2.http]
            for one in (rule, *rule.additional_bindings):
                pattern = one.WhichOneof("pattern")
                assert pattern is not None
                found.add((pattern.upper(), getattr(one, pattern)))
    return found


def _as_template(path: str) -> str:
    """``/v1/tenants/{tenant}/twins/{twin}`` as a comparable shape: captures become ``*``."""
    return re.sub(r"\{[a-z0-9_]+:path\}", "**", re.sub(r"\{[a-z0-9_]+\}", "*", path))


def _template_shape(template: str) -> str:
    def expand(match: re.Match[str]) -> str:
        return match.group(2) or "*"

    return re.sub(r"\{([a-z0-9_.]+)(?:=([^}]*))?\}", expand, template)


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """API routes, including those of routers the app includes (FastAPI keeps them apart)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):
            out += _api_routes(route.original_router.routes)
    return out


def test_every_annotation_is_served_and_every_v1_route_is_annotated(app: FastAPI) -> None:
    served = {
        (verb, route.path)
        for route in _api_routes(app.routes)
        if route.path.startswith("/v1")
        for verb in route.methods
    }
    annotated = {(verb, _template_shape(t)) for verb, t in _annotated()}
    transcoded = {(verb, _as_template(path)) for verb, path in served} - EXTRA_ROUTES
    assert annotated == transcoded
    assert served >= EXTRA_ROUTES
    assert len(annotated) == sum(len(s.methods) for s in SERVICES) - len(GRPC_ONLY)


async def test_twin_lifecycle(http: httpx.AsyncClient) -> None:
    created = await http.post(
        "/v1/tenants/alpha/twins",
        params={"twin_id": "org.r:env"},
        json={"definition": ENV_MODEL, "attributes": {"co2": 400}},
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["name"] == "tenants/alpha/twins/org.r:env"
    assert body["attributes"] == {"co2": 400} and body["revision"] == "1"
    got = await http.get("/v1/tenants/alpha/twins/org.r:env")
    assert got.json() == body
    patched = await http.patch(
        "/v1/tenants/alpha/twins/org.r:env",
        params={"update_mask": "attributes.co2"},
        json={"attributes": {"co2": 650}, "etag": body["etag"]},
    )
    assert patched.status_code == 200 and patched.json()["attributes"] == {"co2": 650}
    stale = await http.patch(
        "/v1/tenants/alpha/twins/org.r:env",
        params={"update_mask": "attributes.co2"},
        json={"attributes": {"co2": 700}, "etag": body["etag"]},
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["status"] == "FAILED_PRECONDITION"
    invalid = await http.patch(
        "/v1/tenants/alpha/twins/org.r:env",
        params={"updateMask": "attributes.co2"},
        json={"attributes": {"co2": -1}},
    )
    assert invalid.status_code == 400
    error = invalid.json()["error"]
    assert [d["@type"].rsplit("/", 1)[1] for d in error["details"]] == [
        "google.rpc.ErrorInfo",
        "google.rpc.BadRequest",
    ]
    assert error["details"][1]["fieldViolations"][0]["field"] == "/attributes/co2"
    listed = await http.get(
        "/v1/tenants/alpha/twins", params={"filter": "gt(attributes/co2,500)", "page_size": "10"}
    )
    assert [t["thingId"] for t in listed.json()["twins"]] == ["org.r:env"]
    history = await http.get(
        "/v1/tenants/alpha/twins/org.r:env:history", params={"path": "/attributes/co2"}
    )
    assert [p["value"] for p in history.json()["points"]] == [400, 650]
    deleted = await http.delete("/v1/tenants/alpha/twins/org.r:env")
    assert deleted.status_code == 200 and deleted.json() == {}
    assert (await http.get("/v1/tenants/alpha/twins/org.r:env")).status_code == 404


async def test_batch_relationships_models_operations(http: httpx.AsyncClient) -> None:
    batch = await http.post(
        "/v1/tenants/alpha/twins:batchUpsert",
        json={
            "requestId": "6f1c8a52-1d3e-4b1a-9c55-2a4e3c1b7d90",
            "twins": [
                {"name": "tenants/alpha/twins/org.r:a", "patch": {"attributes": {"n": 1}}},
                {"name": "tenants/alpha/twins/org.r:b", "patch": {"attributes": {"n": 2}}},
            ],
            "relationships": [
                {
                    "name": "tenants/alpha/relationships/ab",
                    "source": "tenants/alpha/twins/org.r:a",
                    "target": "tenants/alpha/twins/org.r:b",
                    "type": "near",
                }
            ],
        },
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["lastPosition"] == "3"
    rel = await http.get("/v1/tenants/alpha/relationships/ab")
    assert rel.json()["source"] == "tenants/alpha/twins/org.r:a"
    rels = await http.get("/v1/tenants/alpha/relationships", params={"filter": 'type = "near"'})
    assert [r["name"] for r in rels.json()["relationships"]] == ["tenants/alpha/relationships/ab"]
    models = await http.get("/v1/models", params={"page_size": 2})
    assert len(models.json()["models"]) == 2 and models.json()["nextPageToken"]
    tm = await http.get("/v1/models/environment", params={"view": "MODEL_VIEW_WOT_TM"})
    assert tm.status_code == 200 and tm.json()["files"]
    op = await http.post("/v1/tenants/alpha/graph:rebuild", json={})
    assert op.status_code == 200 and op.json()["name"].startswith("operations/")
    name = op.json()["name"]
    for _ in range(100):
        polled = (await http.get(f"/v1/{name}")).json()
        if polled["done"]:
            break
        await asyncio.sleep(0.02)
    assert polled["done"] and int(polled["response"]["tripleCount"]) > 0
    assert (await http.post(f"/v1/{name}:cancel", json={})).status_code == 200
    listed = await http.get("/v1/operations")
    assert [o["name"] for o in listed.json()["operations"]] == [name]
    assert (await http.delete(f"/v1/{name}")).status_code == 200
    assert (await http.get(f"/v1/{name}")).status_code == 404


async def test_query_streams_ndjson(http: httpx.AsyncClient) -> None:
    await http.post(
        "/v1/tenants/alpha/twins", params={"twin_id": "org.r:q"}, json={"attributes": {"n": 1}}
    )
    response = await http.post(
        "/v1/tenants/alpha:query",
        json={"query": "SELECT ?r WHERE { ?t <https://w3id.org/ndtwin/ns#revision> ?r }"},
    )
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [line for line in response.text.splitlines() if line]
    first, row = (json.loads(line)["result"] for line in lines)
    assert first["header"]["variables"] == ["r"]
    assert row["solution"]["bindings"]["r"]["value"] == "1"
    bad = await http.post("/v1/tenants/alpha:query", json={"query": "SELEKT"})
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_tenants_with_the_operator_key(http: httpx.AsyncClient) -> None:
    operator = bearer(OPERATOR_KEY)
    created = await http.post(
        "/v1/tenants", params={"tenant_id": "gamma"}, json={}, headers=operator
    )
    assert created.status_code == 200 and created.json()["apiKey"].startswith("gamma.")
    listed = await http.get("/v1/tenants", headers=operator)
    assert [t["name"] for t in listed.json()["tenants"]] == [
        "tenants/alpha",
        "tenants/beta",
        "tenants/gamma",
    ]
    assert (await http.get("/v1/tenants")).status_code == 403
    assert (await http.delete("/v1/tenants/gamma", headers=operator)).status_code == 200
    assert (await http.get("/v1/tenants/gamma", headers=operator)).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/v1/tenants/alpha/twins", {"params": {"bogus": "1"}}, 400),
        ("GET", "/v1/tenants/alpha/twins", {"params": {"page_size": "ten"}}, 400),
        ("GET", "/v1/tenants/alpha/twins", {"params": {"filter": "eq(a"}}, 400),
        ("GET", "/v1/tenants/alpha/twins/not-an-id", {}, 400),
        ("GET", "/v1/tenants/beta/twins/org.x:y", {}, 404),
        ("GET", "/v1/tenants/beta/twins", {}, 404),
        (
            "POST",
            "/v1/tenants/alpha/twins",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
        ),
        (
            "POST",
            "/v1/tenants/alpha/twins",
            {"content": b"<x/>", "headers": {"content-type": "application/xml"}},
            415,
        ),
        ("POST", "/v1/tenants/alpha/twins", {"json": {"attributes": "not an object"}}, 400),
        ("POST", "/v1/tenants/alpha/twins", {"json": {"unknownField": 1}}, 400),
        ("POST", "/v1/tenants/alpha/twins", {"json": [1, 2]}, 400),
        ("PATCH", "/v1/tenants/alpha/twins/org.x:none", {"json": {"attributes": {}}}, 404),
        ("DELETE", "/v1/tenants/alpha/twins/org.x:none", {}, 404),
        ("GET", "/v1/models/nope", {}, 404),
        ("GET", "/v1/operations/nope", {}, 404),
    ],
)
async def test_bad_requests(
    http: httpx.AsyncClient, method: str, path: str, kwargs: dict, status: int
) -> None:
    response = await http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status and error["details"][0]["@type"].endswith("ErrorInfo")
    # Nothing was written.
    assert (await http.get("/v1/tenants/alpha/twins")).json()["twins"] == []


async def test_credentials_are_required(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/tenants/alpha/twins", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
