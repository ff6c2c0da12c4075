"""The console end to end: a real server fed by the simulator, driven in headless Chromium."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import paho.mqtt.client as paho

from tests.console.conftest import Console, screenshot, sign_in, wait_for


def test_assets_are_served_with_a_same_origin_policy(console: Console) -> None:
    index = httpx.get(console.url + "/console/")
    assert index.status_code == 200
    assert "text/html" in index.headers["content-type"]
    policy = index.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    # Nothing is loaded from elsewhere: no absolute URL in the page.
    assert "http://" not in index.text and "https://" not in index.text
    assert httpx.get(console.url + "/", follow_redirects=False).headers["location"] == "/console/"
    script = httpx.get(console.url + "/console/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_a_wrong_key_is_refused(page: Any, console: Console) -> None:
    page.goto(console.url + "/console/")
    page.fill("#key", "demo.not-the-key")
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=alert]:has-text('not valid')")
    assert page.locator("#nav").is_hidden()


def test_sign_in_and_see_the_simulated_devices(page: Any, console: Console) -> None:
    sign_in(page, console)
    assert page.locator("#tenant").inner_text() == "tenant demo"
    # Six phones and the six room sensors' devices, as the API lists them.
    wait_for(lambda: page.locator("#device-count").inner_text() == "12 devices", timeout=10)
    ids = page.locator("#devices tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    listed = [t["thingId"] for t in console.api("/api/2/search/things", namespaces="device",
                                                 option="size(50),sort(+thingId)")["items"]]
    assert ids == listed
    row = page.locator("tr[data-id='device:phone-0000']")
    assert row.locator(".state").inner_text() == "online"
    assert "s ago" in row.locator(".seen").inner_text()
    # The filter is an RQL search on the server.
    page.fill("input[type=search]", "room")
    wait_for(lambda: page.locator("#device-count").inner_text() == "6 devices", timeout=10)
    page.fill("input[type=search]", "")
    wait_for(lambda: page.locator("#device-count").inner_text() == "12 devices", timeout=10)
    screenshot(page, "devices")
    assert page.problems == []


def test_device_page_shows_what_it_hears_with_a_chart(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.click("a[href='#/twin/device%3Aphone-0000']")
    page.wait_for_selector("#network-view .source-row")
    rels = console.api("/v1/tenants/demo/relationships", page_size=1000,
                       filter='source = "tenants/demo/twins/device:phone-0000"')["relationships"]
    groups = {"cell": 0, "wifi": 0, "ble": 0}
    for rel in rels:
        kind = rel["properties"]["sourceType"]
        groups["wifi" if kind == "wifiAccessPoint" else "ble" if kind == "bleBeacon"
               else "cell"] += 1
    assert groups["cell"] >= 3 and groups["wifi"] >= 1
    wait_for(lambda: all(
        page.locator(f"[data-group={g}] .source-row").count() >= max(1, n - 2)
        for g, n in groups.items() if n), timeout=10)
    # The primary cell shows its RSRP and its bars, like a phone's network view.
    primary = next(r for r in rels if r["properties"].get("connectionStatus") == "primary")
    row = page.locator(f"[data-source='{primary['properties']['sourceId']}']")
    assert "dBm" in row.locator(".value").inner_text()
    assert row.locator(".bars").get_attribute("aria-label").endswith(
        primary["properties"]["quality"])
    # The chart loaded buckets from the history API for the strongest cells.
    page.wait_for_selector("#signal-chart[data-loaded] svg path.line")
    assert page.locator("#signal-chart .legend span").count() >= 1
    page.wait_for_selector("#live.live")
    screenshot(page, "device")
    assert page.problems == []


def test_device_page_follows_the_change_stream(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(console.url + "/console/#/twin/device%3Aphone-0001")
    page.wait_for_selector("#live.live")
    # A Wi-Fi scan that hears a new access point: it appears without a reload.
    host, port = console.broker.removeprefix("mqtt://").split(":")
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="console-test-pub")
    client.connect(host, int(port))
    client.loop_start()
    record = {"schema": "ndtwin/1", "deviceId": "phone-0001", "seq": 1,
              "ts": int(time.time() * 1000),
              "wifi": [{"bssid": "02:aa:bb:cc:dd:01", "ssid": "console-test", "level": -48,
                        "frequency": 5200}]}
    topic = "dt/v1/demo/phone-0001/tele/wifi"
    client.publish(topic, orjson.dumps(record), qos=1).wait_for_publish()
    client.loop_stop()
    client.disconnect()
    page.wait_for_selector("[data-source='wifi:02aabbccdd01']", timeout=15000)
    text = page.locator("[data-source='wifi:02aabbccdd01']").inner_text()
    assert "console-test" in text and "-48 dBm" in text
    assert page.problems == []
