"""Two tenants on every Ditto endpoint: neither sees, changes or counts the other's things.

Tenant ``beta`` uses ids that exist in ``alpha``; every read answers the same 404 as for
a thing that does not exist, and every write lands in beta's own space.
"""

from __future__ import annotations

import httpx
import pytest

from tests.server.rest.conftest import WIFI, bearer

pytestmark = pytest.mark.anyio

THING = "/api/2/things/org.shared:dev"
ALPHA_THING = {
    "definition": WIFI,
    "attributes": {"bssid": "aa:bb:cc:dd:ee:ff", "frequency": 2412, "owner": 1},
    "features": {"f": {"properties": {"p": 1}, "desiredProperties": {"p": 2}}},
}
SUB_PATHS = [
    "",
    "/policyId",
    "/definition",
    "/attributes",
    "/attributes/owner",
    "/features",
    "/features/f",
    "/features/f/properties",
    "/features/f/properties/p",
    "/features/f/desiredProperties",
    "/features/f/desiredProperties/p",
]


@pytest.fixture
async def beta(client: httpx.AsyncClient, keys: dict[str, str]) -> dict[str, str]:
    response = await client.put(THING, json=ALPHA_THING)
    assert response.status_code == 201
    return bearer(keys["beta"])


async def test_reads_of_another_tenants_thing_look_absent(
    client: httpx.AsyncClient, beta: dict[str, str]
) -> None:
    absent = await client.get("/api/2/things/org.shared:never", headers=beta)
    for sub in SUB_PATHS:
        response = await client.get(THING + sub, headers=beta)
        assert response.status_code == 404, sub
        assert response.json()["error"] == "things:thing.notfound", sub
    assert (await client.get(THING, headers=beta)).json()["message"] == absent.json()[
        "message"
    ].replace("org.shared:never", "org.shared:dev")
    td = await client.get(THING, headers=beta | {"Accept": "application/td+json"})
    assert td.status_code == 404
    history = await client.get(THING, headers=beta, params={"at-historical-revision": "1"})
    assert history.status_code == 404


async def test_lists_searches_and_counts_stay_in_the_tenant(
    client: httpx.AsyncClient, beta: dict[str, str]
) -> None:
    assert (
        await client.get("/api/2/things", headers=beta, params={"ids": "org.shared:dev"})
    ).json() == []
    assert (await client.get("/api/2/things", headers=beta)).json() == []
    assert (await client.get("/api/2/search/things", headers=beta)).json() == {"items": []}
    assert (await client.get("/api/2/search/things/count", headers=beta)).json() == 0
    assert (
        await client.post(
            "/api/2/search/things/count", headers=beta, data={"filter": "exists(attributes/owner)"}
        )
    ).json() == 0
    assert (await client.get("/api/2/search/things/count")).json() == 1
    alpha_page = await client.get("/api/2/search/things", params={"option": "size(1)"})
    assert "cursor" not in alpha_page.json()


async def test_writes_never_touch_the_other_tenant(
    client: httpx.AsyncClient, beta: dict[str, str]
) -> None:
    deleted = await client.delete(THING, headers=beta)
    assert deleted.status_code == 404
    for sub in SUB_PATHS[2:]:
        assert (await client.delete(THING + sub, headers=beta)).status_code == 404, sub
    stale = await client.put(THING, json={}, headers=beta | {"If-Match": '"rev:1"'})
    assert stale.status_code == 412  # beta has no such thing, whatever alpha holds
    own = await client.put(f"{THING}/attributes/owner", json=2, headers=beta)
    assert own.status_code == 201
    merged = await client.patch(
        f"{THING}/features/f/properties",
        content=b'{"p": 99}',
        headers=beta | {"content-type": "application/merge-patch+json"},
    )
    assert merged.status_code == 204
    posted = await client.post(
        "/api/2/things", json={}, headers=beta, params={"namespace": "org.shared"}
    )
    assert posted.status_code == 201
    alpha_view = (await client.get(THING)).json()
    assert alpha_view == {"thingId": "org.shared:dev", "policyId": "org.shared:dev", **ALPHA_THING}
    beta_view = (await client.get(THING, headers=beta)).json()
    assert beta_view["attributes"] == {"owner": 2}
    assert beta_view["features"] == {"f": {"properties": {"p": 99}}}
    assert (await client.get("/api/2/search/things/count")).json() == 1
    assert (await client.get("/api/2/search/things/count", headers=beta)).json() == 2


async def test_no_header_or_parameter_chooses_the_tenant(
    client: httpx.AsyncClient, beta: dict[str, str]
) -> None:
    tricks = [
        {"x-ndtwin-tenant": "alpha"},
        {"tenant": "alpha"},
        {"x-ditto-pre-authenticated": "nginx:alpha"},
    ]
    for trick in tricks:
        response = await client.get(THING, headers=beta | trick, params={"tenant": "alpha"})
        assert response.status_code == 404
    who = await client.get("/api/2/whoami", headers=beta | {"x-ndtwin-tenant": "alpha"})
    assert who.json()["defaultSubject"] == "ndtwin:beta"


async def test_cursors_do_not_cross_tenants(
    client: httpx.AsyncClient, beta: dict[str, str]
) -> None:
    for i in range(3):
        await client.put(f"/api/2/things/org.shared:x{i}", json={})
    page = (await client.get("/api/2/search/things", params={"option": "size(2)"})).json()
    stolen = await client.get(
        "/api/2/search/things", headers=beta, params={"option": f"size(2),cursor({page['cursor']})"}
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "thing-search:search.option.invalid"
