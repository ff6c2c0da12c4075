"""The OpenAPI document: valid OpenAPI 3.1, served at /openapi.json, committed up to date."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from server.app import v1_router
from server.rest.openapi import build_document

DOCS = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def _current() -> dict:
    router = v1_router()
    return build_document(list(router.routes) if router is not None else [])


def test_document_is_valid_openapi_3_1() -> None:
    document = _current()
    validate(document)
    assert document["openapi"] == "3.1.0"
    for path in (
        "/api/2/things",
        "/api/2/things/{thingId}",
        "/api/2/things/{thingId}/features/{featureId}/properties/{propertyPath}",
        "/api/2/search/things",
        "/api/2/search/things/count",
    ):
        assert path in document["paths"], path


def test_committed_document_is_not_stale() -> None:
    committed = json.loads(DOCS.read_text(encoding="utf-8"))
    assert committed == _current(), (
        "docs/openapi.json is stale: run "
        "'.venv/bin/python -m server.rest.openapi > docs/openapi.json'"
    )


def test_every_operation_is_unique_and_documents_401() -> None:
    document = _current()
    seen: set[str] = set()
    for path, item in document["paths"].items():
        if not path.startswith("/api/2/"):
            continue
        for method, operation in item.items():
            assert operation["operationId"] not in seen
            seen.add(operation["operationId"])
            assert "401" in operation["responses"], (method, path)


@pytest.mark.anyio
async def test_served_document_is_the_ditto_part(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    served = response.json()
    validate(served)
    ditto = {p: v for p, v in _current()["paths"].items() if p.startswith("/api/2/")}
    assert {p: v for p, v in served["paths"].items() if p.startswith("/api/2/")} == ditto
