"""Ditto things routes in-process: status codes, headers, sub-resources, merge patch,
conditional requests, ``fields``, ``POST``, ``ids``, paging, validation and TDs."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx
import pytest

from server.core.service import Core
from tests.server.rest.conftest import PHONE, WIFI
from tests.server.writer import writer_held

pytestmark = pytest.mark.anyio

THING = "/api/2/things/org.example:lamp-1"
JSON = {"content-type": "application/json"}
MERGE = {"content-type": "application/merge-patch+json"}
LAMP = {
    "attributes": {"room": "kitchen", "loc": {"floor": 1}},
    "features": {"light": {"properties": {"on": False, "level": 3}}},
}


async def _create(client: httpx.AsyncClient, path: str = THING, body: object = LAMP) -> None:
    response = await client.put(path, json=body)
    assert response.status_code == 201, response.text


async def test_put_creates_with_body_location_and_etag(client: httpx.AsyncClient) -> None:
    response = await client.put(THING, json=LAMP)
    assert response.status_code == 201
    assert response.headers["etag"] == '"rev:1"'
    assert response.headers["location"] == "http://testserver/api/2/things/org.example:lamp-1"
    body = response.json()
    assert body["thingId"] == "org.example:lamp-1"
    assert body["policyId"] == "org.example:lamp-1"  # implicit policy id = thing id
    assert body["features"]["light"]["properties"]["level"] == 3


async def test_put_again_is_204_without_body_and_bumps_revision(client: httpx.AsyncClient) -> None:
    await _create(client)
    response = await client.put(THING, json={"attributes": {"room": "hall"}})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["etag"] == '"rev:2"'
    got = (await client.get(THING)).json()
    assert got["attributes"] == {"room": "hall"}
    assert "features" not in got  # PUT replaces the whole thing


async def test_get_with_fields_keeps_nesting_and_integer_revision(
    client: httpx.AsyncClient,
) -> None:
    await _create(client)
    response = await client.get(
        THING, params={"fields": "thingId,attributes/loc/floor,_revision,_namespace"}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"rev:1"'
    assert response.json() == {
        "thingId": "org.example:lamp-1",
        "attributes": {"loc": {"floor": 1}},
        "_revision": 1,
        "_namespace": "org.example",
    }
    plain = (await client.get(THING)).json()
    assert not [k for k in plain if k.startswith("_")]


async def test_fields_on_a_sub_resource_select_its_keys(client: httpx.AsyncClient) -> None:
    await _create(client)
    response = await client.get(f"{THING}/attributes", params={"fields": "room"})
    assert response.status_code == 200
    assert response.json() == {"room": "kitchen"}
    bad = await client.get(THING, params={"fields": "nope"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "things:field.selection.invalid"


async def test_percent_encoded_id_and_pointer_are_decoded(client: httpx.AsyncClient) -> None:
    await _create(client)
    encoded = "/api/2/things/org.example%3Alamp-1/attributes/loc%2Ffloor"
    response = await client.get(encoded)
    assert response.status_code == 200
    assert response.json() == 1
    put = await client.put("/api/2/things/org.example%3Alamp-1/attributes/a%2Fb", json=5)
    assert put.status_code == 201
    assert (await client.get(f"{THING}/attributes/a")).json() == {"b": 5}


async def test_attribute_sub_resources(client: httpx.AsyncClient) -> None:
    await _create(client)
    created = await client.put(f"{THING}/attributes/serial", json="SN-1")
    assert created.status_code == 201
    assert created.json() == "SN-1"
    assert created.headers["location"].endswith("/org.example:lamp-1/attributes/serial")
    assert created.headers["etag"].startswith('"hash:')
    replaced = await client.put(f"{THING}/attributes/serial", json="SN-2")
    assert replaced.status_code == 204
    assert (await client.get(f"{THING}/attributes/serial")).json() == "SN-2"
    assert (await client.delete(f"{THING}/attributes/serial")).status_code == 204
    gone = await client.get(f"{THING}/attributes/serial")
    assert gone.status_code == 404
    assert gone.json()["error"] == "things:attribute.notfound"
    whole = await client.put(f"{THING}/attributes", json={"x": 1})
    assert whole.status_code == 204
    assert (await client.get(f"{THING}/attributes")).json() == {"x": 1}


async def test_feature_sub_resources(client: httpx.AsyncClient) -> None:
    await _create(client)
    feature = f"{THING}/features/fan"
    assert (await client.put(feature, json={"properties": {"rpm": 10}})).status_code == 201
    definition = await client.put(f"{feature}/definition", json=["org.example:fan:1.0"])
    assert definition.status_code == 201
    assert (await client.get(f"{feature}/definition")).json() == ["org.example:fan:1.0"]
    assert (await client.put(f"{feature}/properties/rpm", json=20)).status_code == 204
    assert (await client.get(f"{feature}/properties/rpm")).json() == 20
    desired = await client.put(f"{feature}/desiredProperties/rpm", json=30)
    assert desired.status_code == 201
    assert (await client.get(f"{feature}/desiredProperties")).json() == {"rpm": 30}
    assert (await client.get(f"{THING}/features")).json().keys() == {"light", "fan"}
    assert (await client.delete(f"{feature}/properties/rpm")).status_code == 204
    missing = await client.get(f"{feature}/properties/rpm")
    assert missing.status_code == 404
    assert missing.json()["error"] == "things:feature.property.notfound"
    assert (await client.delete(feature)).status_code == 204
    no_feature = await client.get(feature)
    assert no_feature.status_code == 404
    assert no_feature.json()["error"] == "things:feature.notfound"


async def test_definition_and_policy_id(client: httpx.AsyncClient) -> None:
    await _create(client)
    assert (await client.put(f"{THING}/definition", json="org.example:lamp:1.0")).status_code == 201
    assert (await client.get(f"{THING}/definition")).json() == "org.example:lamp:1.0"
    bad = await client.put(f"{THING}/definition", json="not a definition")
    assert bad.status_code == 400
    assert (await client.delete(f"{THING}/definition")).status_code == 204
    assert (await client.get(f"{THING}/definition")).json()["error"] == "things:definition.notfound"
    assert (await client.get(f"{THING}/policyId")).json() == "org.example:lamp-1"
    assert (await client.put(f"{THING}/policyId", json="org.example:p")).status_code == 204
    assert (await client.get(f"{THING}/policyId")).json() == "org.example:p"
    refused = await client.delete(f"{THING}/policyId")
    assert refused.status_code == 405
    assert refused.json()["status"] == 405


async def test_delete_thing(client: httpx.AsyncClient) -> None:
    await _create(client)
    assert (await client.delete(THING)).status_code == 204
    gone = await client.get(THING)
    assert gone.status_code == 404
    assert gone.json() == {
        "status": 404,
        "error": "things:thing.notfound",
        "message": "The Thing with ID 'org.example:lamp-1' could not be found or requester "
        "had insufficient permissions to access it.",
        "description": "Check the identifier and that you are permitted to read it.",
    }
    assert (await client.delete(THING)).status_code == 404


async def test_merge_patch_deletes_with_null_and_creates(client: httpx.AsyncClient) -> None:
    created = await client.patch(THING, content=b'{"attributes": {"a": 1}}', headers=MERGE)
    assert created.status_code == 201
    assert created.json()["attributes"] == {"a": 1}
    patched = await client.patch(
        THING,
        headers=MERGE,
        content=b'{"attributes": {"a": null, "b": {"c": 2}}, "features": {"f": {}}}',
    )
    assert patched.status_code == 204
    assert patched.headers["etag"] == '"rev:2"'
    got = (await client.get(THING)).json()
    assert got["attributes"] == {"b": {"c": 2}}
    assert got["features"] == {"f": {}}
    sub = await client.patch(f"{THING}/attributes/b", headers=MERGE, content=b'{"d": 3}')
    assert sub.status_code == 204
    assert (await client.get(f"{THING}/attributes/b")).json() == {"c": 2, "d": 3}


async def test_patch_needs_merge_patch_media_type(client: httpx.AsyncClient) -> None:
    await _create(client)
    response = await client.patch(THING, json={"attributes": {"a": 1}})
    assert response.status_code == 415
    assert response.json()["error"] == "mediatype.unsupported"
    assert "a" not in (await client.get(f"{THING}/attributes")).json()


async def test_if_match_and_if_none_match_on_writes(client: httpx.AsyncClient) -> None:
    create_only = await client.put(THING, json=LAMP, headers={"If-None-Match": "*"})
    assert create_only.status_code == 201
    again = await client.put(THING, json=LAMP, headers={"If-None-Match": "*"})
    assert again.status_code == 412
    assert again.json()["error"] == "things:precondition.failed"
    stale = await client.put(f"{THING}/attributes/room", json="x", headers={"If-Match": '"rev:7"'})
    assert stale.status_code == 412
    ok = await client.put(
        THING, json=LAMP | {"attributes": {"room": "y"}}, headers={"If-Match": '"rev:1"'}
    )
    assert ok.status_code == 204
    assert ok.headers["etag"] == '"rev:2"'
    update_only = await client.put(
        "/api/2/things/org.example:absent", json={}, headers={"If-Match": "*"}
    )
    assert update_only.status_code == 412
    assert (await client.get("/api/2/things/org.example:absent")).status_code == 404


async def test_sub_resource_etags_are_value_hashes(client: httpx.AsyncClient) -> None:
    await _create(client)
    first = await client.get(f"{THING}/attributes/room")
    tag = first.headers["etag"]
    assert tag.startswith('"hash:')
    assert (
        await client.put(f"{THING}/attributes/room", json="hall", headers={"If-Match": tag})
    ).status_code == 204
    assert (
        await client.put(f"{THING}/attributes/room", json="attic", headers={"If-Match": tag})
    ).status_code == 412
    assert (await client.get(f"{THING}/attributes/room")).json() == "hall"


async def test_get_if_none_match_gives_304_and_if_match_412(client: httpx.AsyncClient) -> None:
    await _create(client)
    not_modified = await client.get(THING, headers={"If-None-Match": '"rev:1"'})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == '"rev:1"'
    assert (await client.get(THING, headers={"If-None-Match": '"rev:0"'})).status_code == 200
    assert (await client.get(THING, headers={"If-Match": '"rev:9"'})).status_code == 412


async def test_condition_as_query_parameter_and_header(client: httpx.AsyncClient) -> None:
    await _create(client)
    ok = await client.put(
        f"{THING}/attributes/room",
        json="hall",
        params={"condition": 'eq(attributes/room,"kitchen")'},
    )
    assert ok.status_code == 204
    failed = await client.put(
        f"{THING}/attributes/room",
        json="attic",
        headers={"condition": 'eq(attributes/room,"kitchen")'},
    )
    assert failed.status_code == 412
    assert failed.json()["error"] == "things:condition.failed"
    assert (await client.get(f"{THING}/attributes/room")).json() == "hall"
    invalid = await client.get(THING, params={"condition": "eq(attributes/room"})
    assert invalid.status_code == 400
    assert invalid.json()["error"] == "things:condition.invalid"
    read = await client.get(THING, params={"condition": "exists(features/light)"})
    assert read.status_code == 200


async def test_headers_as_query_parameters(client: httpx.AsyncClient) -> None:
    await _create(client)
    accepted = await client.put(
        f"{THING}/attributes/x", json=1, params={"response-required": "false"}
    )
    assert accepted.status_code == 202
    assert accepted.content == b""
    await client.put(f"{THING}/attributes/room", json="hall")
    old = await client.get(THING, params={"at-historical-revision": "1"})
    assert old.status_code == 200
    assert old.json()["attributes"]["room"] == "kitchen"
    assert "x" not in old.json()["attributes"]


async def test_if_equal_skip_refuses_a_no_op(client: httpx.AsyncClient) -> None:
    await _create(client)
    same = await client.put(
        f"{THING}/attributes/room", json="kitchen", headers={"if-equal": "skip"}
    )
    assert same.status_code == 412
    changed = await client.put(
        f"{THING}/attributes/room", json="hall", headers={"if-equal": "skip"}
    )
    assert changed.status_code == 204


async def test_thing_id_in_body_must_match(client: httpx.AsyncClient) -> None:
    response = await client.put(THING, json={"thingId": "org.example:other"})
    assert response.status_code == 400
    assert response.json()["error"] == "things:id.notsettable"
    same = await client.put(THING, json={"thingId": "org.example:lamp-1"})
    assert same.status_code == 201


async def test_post_generates_an_id_in_the_namespace(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/2/things", json=LAMP, params={"namespace": "org.acme"})
    assert response.status_code == 201
    thing_id = response.json()["thingId"]
    assert thing_id.startswith("org.acme:")
    assert response.headers["location"].endswith(f"/api/2/things/{thing_id}")
    assert (await client.get(f"/api/2/things/{quote(thing_id)}")).status_code == 200
    refused = await client.post("/api/2/things", json={"thingId": "org.acme:x"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "things:id.notsettable"
    bad_namespace = await client.post("/api/2/things", json={}, params={"namespace": "1bad"})
    assert bad_namespace.status_code == 400


async def test_get_many_by_ids_keeps_order_and_omits_missing(client: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await _create(client, f"/api/2/things/org.example:{name}", {"attributes": {"n": name}})
    response = await client.get(
        "/api/2/things",
        params={"ids": "org.example:c,org.example:missing,org.example:a", "fields": "thingId"},
    )
    assert response.status_code == 200
    assert response.json() == [{"thingId": "org.example:c"}, {"thingId": "org.example:a"}]
    bad = await client.get("/api/2/things", params={"ids": "no-colon"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "things:id.invalid"


async def test_list_pages_with_link_headers(client: httpx.AsyncClient) -> None:
    for i in range(30):
        await _create(client, f"/api/2/things/org.example:t{i:02d}", {})
    first = await client.get("/api/2/things")
    assert first.status_code == 200
    page = first.json()
    assert isinstance(page, list)
    assert len(page) == 25
    assert page[0]["thingId"] == "org.example:t00"
    links = first.headers["link"]
    assert 'rel="canonical"' in links
    next_url = links.split(", ")[1].split(";")[0].strip("<>")
    assert "cursor" in next_url
    second = await client.get(next_url)
    assert [t["thingId"] for t in second.json()] == [f"org.example:t{i}" for i in range(25, 30)]
    assert 'rel="next"' not in second.headers["link"]
    sized = await client.get("/api/2/things", params={"option": "size(10)"})
    assert len(sized.json()) == 10
    assert "size%2810%29%2Ccursor" in sized.headers["link"]


async def test_model_violations_are_400_with_every_detail(client: httpx.AsyncClient) -> None:
    body = {"definition": WIFI, "attributes": {"bssid": "aa:bb:cc:dd:ee:ff", "frequency": 10}}
    response = await client.put("/api/2/things/org.example:ap", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "wot:payload.validation.error"
    details = error["validationDetails"]
    assert [d["path"] for d in details] == ["/attributes/frequency"]
    assert details[0]["value"] == 10
    assert details[0]["constraint"] and details[0]["message"]
    assert (await client.get("/api/2/things/org.example:ap")).status_code == 404
    body["attributes"]["frequency"] = 2412
    assert (await client.put("/api/2/things/org.example:ap", json=body)).status_code == 201
    worse = await client.put("/api/2/things/org.example:ap/attributes/frequency", json=1)
    assert worse.status_code == 400
    assert (await client.get("/api/2/things/org.example:ap/attributes/frequency")).json() == 2412


async def test_thing_description_from_the_thing_model(client: httpx.AsyncClient) -> None:
    body = {"definition": WIFI, "attributes": {"bssid": "aa:bb:cc:dd:ee:ff", "frequency": 2412}}
    await _create(client, "/api/2/things/org.example:ap", body)
    response = await client.get(
        "/api/2/things/org.example:ap", headers={"Accept": "application/td+json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/td+json"
    td = response.json()
    assert td["id"] == "urn:org.example:ap"
    assert td["base"] == "http://testserver/api/2/things/org.example:ap/"
    assert "tm:ThingModel" not in str(td.get("@type"))
    assert td["version"]["instance"] == "1"
    frequency = td["properties"]["frequency"]
    assert frequency["forms"][0]["href"] == "attributes/frequency"
    assert frequency["forms"][0]["op"] == ["readproperty"]  # writable: false in SDF
    assert frequency["minimum"] == 2412
    assert td["security"] == "combo_sc"
    plain = await client.get("/api/2/things/org.example:ap")
    assert plain.headers["content-type"] == "application/json"


async def test_thing_description_of_a_composite_twin_and_its_feature(
    client: httpx.AsyncClient, core: object
) -> None:
    from server.core.catalog import ModelCatalog

    entry = ModelCatalog.load().find(PHONE)
    assert entry is not None
    body = entry.skeleton()
    # The skeleton's neutral values do not match the MAC address pattern; fill real ones.
    for feature in body["features"].values():
        for key in ("bssid", "address"):
            if key in feature["properties"]:
                feature["properties"][key] = "aa:bb:cc:dd:ee:ff"
    await _create(client, "/api/2/things/org.example:phone", body)
    td = (
        await client.get(
            "/api/2/things/org.example:phone", headers={"Accept": "application/td+json"}
        )
    ).json()
    assert {"rel": "item", "href": "features/device", "type": "application/td+json"} in td["links"]
    feature = await client.get(
        "/api/2/things/org.example:phone/features/device", headers={"Accept": "application/td+json"}
    )
    assert feature.status_code == 200
    props = feature.json()["properties"]
    assert props["online"]["forms"][0]["href"] == "properties/online"
    assert feature.json()["base"].endswith("/things/org.example:phone/features/device/")


async def test_thing_description_needs_a_known_model(client: httpx.AsyncClient) -> None:
    await _create(client)
    response = await client.get(THING, headers={"Accept": "application/td+json"})
    assert response.status_code == 406
    assert response.json()["error"] == "mediatype.notacceptable"
    absent = await client.get(
        "/api/2/things/org.example:none", headers={"Accept": "application/td+json"}
    )
    assert absent.status_code == 404


async def test_a_malformed_conditional_write_is_400_not_412(client: httpx.AsyncClient) -> None:
    await _create(client)
    never = {"condition": 'eq(attributes/room,"nowhere")'}
    cases = [
        ("put", f"{THING}/definition", b'{"a": 1}', JSON),
        ("put", f"{THING}/attributes", b'{"a/b": 1}', JSON),
        ("put", f"{THING}/features/f/definition", b'["x:y:1", "x:y:1"]', JSON),
        ("patch", f"{THING}/definition", b'""', MERGE),
        ("patch", f"{THING}/attributes", b'{"": 1, "ok": null}', MERGE),
        ("patch", THING, b"null", MERGE),
    ]
    for method, path, body, headers in cases:
        response = await client.request(method, path, content=body, headers=headers, params=never)
        assert response.status_code == 400, (method, path, response.text)
    valid = await client.patch(
        f"{THING}/attributes", content=b'{"room": null}', headers=MERGE, params=never
    )
    assert valid.status_code == 412


async def test_empty_entity_tag_lists_are_no_condition(client: httpx.AsyncClient) -> None:
    await _create(client)
    assert (await client.get(THING, headers={"If-Match": ""})).status_code == 200
    assert (
        await client.put(f"{THING}/attributes/x", json=1, headers={"If-None-Match": " "})
    ).status_code == 201


async def test_405_lists_the_allowed_methods(client: httpx.AsyncClient) -> None:
    refused = await client.delete(f"{THING}/policyId")
    assert refused.headers["allow"] == "GET, PUT, PATCH"
    options = await client.options(f"{THING}/attributes")
    assert options.status_code == 405
    assert options.headers["allow"] == "GET, PUT, PATCH, DELETE"
    collection = await client.delete("/api/2/things")
    assert collection.headers["allow"] == "GET, POST"


async def test_write_waiting_for_the_writer_leaves_reads_served(
    client: httpx.AsyncClient, core: Core
) -> None:
    """A point write runs on the event loop only while the store's writer is free: with
    another thread holding it, the PUT waits in a worker thread and GETs still answer."""
    await _create(client)
    with writer_held(core.store):
        put = asyncio.create_task(client.put(f"{THING}/attributes/room", json="hall"))
        await asyncio.sleep(0.2)
        assert not put.done()  # waiting for the writer ...
        read = await asyncio.wait_for(client.get(f"{THING}/attributes/room"), 2)
        assert read.json() == "kitchen"  # ... while the loop still serves reads
    assert (await asyncio.wait_for(put, 5)).status_code == 204
    assert (await client.get(f"{THING}/attributes/room")).json() == "hall"
