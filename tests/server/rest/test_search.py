"""Ditto search and count: RQL filters, options, cursors, fields, namespaces, POST."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fleet(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Twelve things in two namespaces with numeric and string attributes."""
    for i in range(12):
        namespace = "org.a" if i % 2 == 0 else "org.b"
        body = {"attributes": {"n": i, "kind": "odd" if i % 2 else "even", "tags": ["t", f"x{i}"]}}
        if i % 3 == 0:
            body["features"] = {"env": {"properties": {"temp": 20 + i}}}
        response = await client.put(f"/api/2/things/{namespace}:d{i:02d}", json=body)
        assert response.status_code == 201
    return client


def _ids(body: dict) -> list[str]:
    return [item["thingId"] for item in body["items"]]


async def test_filters(fleet: httpx.AsyncClient) -> None:
    cases = {
        'eq(attributes/kind,"odd")': 6,
        "gt(attributes/n,8)": 3,
        "and(ge(attributes/n,2),lt(attributes/n,5))": 3,
        "in(attributes/n,1,3,99)": 2,
        'like(thingId,"org.a:d0*")': 5,
        "exists(features/env)": 4,
        'eq(attributes/tags,"x7")': 1,  # arrays match by any element
        'not(eq(attributes/kind,"odd"))': 6,
        "or(eq(attributes/n,0),eq(features/env/properties/temp,29))": 2,
    }
    for rql, expected in cases.items():
        response = await fleet.get("/api/2/search/things", params={"filter": rql})
        assert response.status_code == 200, (rql, response.text)
        assert len(response.json()["items"]) == expected, rql
        count = await fleet.get("/api/2/search/things/count", params={"filter": rql})
        assert count.json() == expected, rql


async def test_sort_size_and_cursor_paging(fleet: httpx.AsyncClient) -> None:
    seen: list[str] = []
    option = "size(5),sort(-attributes/n)"
    body = (await fleet.get("/api/2/search/things", params={"option": option})).json()
    while True:
        seen += _ids(body)
        if "cursor" not in body:
            break
        body = (
            await fleet.get(
                "/api/2/search/things",
                params={"option": f"size(5),sort(-attributes/n),cursor({body['cursor']})"},
            )
        ).json()
    assert seen == [f"{'org.a' if i % 2 == 0 else 'org.b'}:d{i:02d}" for i in range(11, -1, -1)]
    default = (await fleet.get("/api/2/search/things")).json()
    assert _ids(default) == sorted(_ids(default))  # +thingId by default
    assert "cursor" not in default


async def test_fields_and_namespaces(fleet: httpx.AsyncClient) -> None:
    response = await fleet.get(
        "/api/2/search/things",
        params={
            "filter": "lt(attributes/n,4)",
            "fields": "thingId,attributes/n,_revision",
            "namespaces": "org.b",
        },
    )
    assert response.json() == {
        "items": [
            {"thingId": "org.b:d01", "attributes": {"n": 1}, "_revision": 1},
            {"thingId": "org.b:d03", "attributes": {"n": 3}, "_revision": 1},
        ]
    }
    count = await fleet.get("/api/2/search/things/count", params={"namespaces": "org.a,org.c"})
    assert count.json() == 6


async def test_post_with_a_form_body(fleet: httpx.AsyncClient) -> None:
    response = await fleet.post(
        "/api/2/search/things", data={"filter": 'eq(attributes/kind,"even")', "option": "size(2)"}
    )
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2
    assert "cursor" in response.json()
    count = await fleet.post("/api/2/search/things/count", data={"filter": "exists(features/env)"})
    assert count.json() == 4
    wrong = await fleet.post("/api/2/search/things", json={"filter": "x"})
    assert wrong.status_code == 415


async def test_a_cursor_only_fits_its_own_query(fleet: httpx.AsyncClient) -> None:
    first = (await fleet.get("/api/2/search/things", params={"option": "size(2)"})).json()
    other = await fleet.get(
        "/api/2/search/things",
        params={"filter": "exists(attributes)", "option": f"size(2),cursor({first['cursor']})"},
    )
    assert other.status_code == 400
    assert other.json()["error"] == "thing-search:search.option.invalid"
