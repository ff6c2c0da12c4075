"""The console end to end: a real server fed by the simulator, driven in headless Chromium."""

from __future__ import annotations

import math
import re
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
    listed = [
        t["thingId"]
        for t in console.api(
            "/api/2/search/things", namespaces="device", option="size(50),sort(+thingId)"
        )["items"]
    ]
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
    rels = console.api(
        "/v1/tenants/demo/relationships",
        page_size=1000,
        filter='source = "tenants/demo/twins/device:phone-0000"',
    )["relationships"]
    groups = {"cell": 0, "wifi": 0, "ble": 0}
    for rel in rels:
        kind = rel["properties"]["sourceType"]
        groups[
            "wifi" if kind == "wifiAccessPoint" else "ble" if kind == "bleBeacon" else "cell"
        ] += 1
    assert groups["cell"] >= 3 and groups["wifi"] >= 1
    wait_for(
        lambda: all(
            page.locator(f"[data-group={g}] .source-row").count() >= max(1, n - 2)
            for g, n in groups.items()
            if n
        ),
        timeout=10,
    )
    # The primary cell shows its RSRP and its bars, like a phone's network view.
    primary = next(r for r in rels if r["properties"].get("connectionStatus") == "primary")
    row = page.locator(f"[data-source='{primary['properties']['sourceId']}']")
    assert "dBm" in row.locator(".value").inner_text()
    assert (
        row.locator(".bars").get_attribute("aria-label").endswith(primary["properties"]["quality"])
    )
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
    record = {
        "schema": "ndtwin/1",
        "deviceId": "phone-0001",
        "seq": 1,
        "ts": int(time.time() * 1000),
        "wifi": [
            {"bssid": "02:aa:bb:cc:dd:01", "ssid": "console-test", "level": -48, "frequency": 5200}
        ],
    }
    topic = "dt/v1/demo/phone-0001/tele/wifi"
    client.publish(topic, orjson.dumps(record), qos=1).wait_for_publish()
    client.loop_stop()
    client.disconnect()
    page.wait_for_selector("[data-source='wifi:02aabbccdd01']", timeout=15000)
    text = page.locator("[data-source='wifi:02aabbccdd01']").inner_text()
    assert "console-test" in text and "-48 dBm" in text
    assert page.problems == []


def _place_rooms(console: Console) -> None:
    """Give the simulated rooms' sensors their floor positions and zones (Ditto API)."""
    from adapters.mqtt.campus import ORIGIN, Campus

    campus = Campus(1, "demo", seed=7)
    for room in campus.rooms:
        lat = ORIGIN[0] + room.y / 111_320.0
        lon = ORIGIN[1] + room.x / (111_320.0 * math.cos(math.radians(ORIGIN[0])))
        response = httpx.put(
            f"{console.url}/api/2/things/sensor:{room.sensor_id}/attributes/location",
            json={"lat": round(lat, 7), "lon": round(lon, 7), "floor": 0, "zone": room.sensor_id},
            headers={"Authorization": f"Bearer {console.key}"},
        )
        assert response.status_code in (201, 204), response.text


def test_graph_view_draws_twins_and_filters_them(page: Any, console: Console) -> None:
    sign_in(page, console)
    before = len(console.api("/v1/tenants/demo/relationships", page_size=1000)["relationships"])
    page.click("nav a[data-nav=graph]")
    page.wait_for_selector("#graph-canvas[data-nodes]")
    total = int(page.get_attribute("#graph-canvas", "data-nodes"))
    twins = sum(
        len(console.api("/api/2/search/things", namespaces=ns, option="size(200)")["items"])
        for ns in ("device", "cell", "wifi", "ble", "sensor")
    )
    assert total == twins
    # Every relationship between drawn twins is an edge (the simulator only adds more).
    drawn = int(re.search(r"(\d+) relationships", page.inner_text("#graph-info")).group(1))
    rels = len(console.api("/v1/tenants/demo/relationships", page_size=1000)["relationships"])
    assert 0 < before <= drawn <= rels
    screenshot(page, "graph")
    # Only cells of one technology: the NR filter keeps the NR cells and drops the LTE ones.
    page.uncheck("label:has-text('Device') input")
    page.uncheck("label:has-text('Wi-Fi') input")
    page.uncheck("label:has-text('BLE') input")
    page.uncheck("label:has-text('Environment sensor') input")
    page.select_option("select[aria-label='Radio technology']", "nr")
    wait_for(
        lambda: (
            page.get_attribute("#graph-canvas", "data-nodes")
            == str(
                len(
                    console.api(
                        "/api/2/search/things",
                        namespaces="cell",
                        filter='like(thingId,"cell:nr-*")',
                        option="size(200)",
                    )["items"]
                )
            )
        ),
        timeout=10,
    )
    options = page.locator("select[aria-label^='Nodes'] option").all_inner_texts()
    assert options and all(o.startswith("cell:nr-") for o in options)
    assert page.problems == []


def test_floor_view_places_located_twins_and_zones(page: Any, console: Console) -> None:
    _place_rooms(console)
    sign_in(page, console)
    page.goto(console.url + "/console/#/floor")
    page.wait_for_selector("#floor-plan a[data-id]")
    for room in range(1, 7):
        assert page.locator(f"#floor-plan [data-zone='room-{room}']").count() == 1
        assert page.locator(f"#floor-plan a[data-id='sensor:room-{room}']").count() == 1
    assert page.locator("#floor-plan a[data-id^='device:phone-']").count() == 6
    screenshot(page, "floor")
    assert page.problems == []


def test_sensor_chart_and_analytics(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(console.url + "/console/#/twin/sensor%3Aroom-2")
    page.wait_for_selector("#env-chart[data-loaded] svg path.line")
    co2 = console.api("/api/2/things/sensor:room-2")["attributes"]["co2"]
    wait_for(lambda: page.locator("[data-metric=co2]").count() == 1)
    assert "ppm" in page.locator("[data-metric=co2]").inner_text()
    assert co2 > 0
    page.wait_for_selector("#insights h3:has-text('Anomalies')")
    screenshot(page, "sensor")
    page.click("nav a[data-nav=analytics]")
    page.wait_for_selector("#overview tbody tr")
    cells = page.locator("#overview tbody tr").count()
    assert cells == len(
        console.api("/api/2/search/things", namespaces="cell", option="size(200)")["items"]
    )
    assert "rsrp" in page.inner_text("#overview")
    page.fill("input[aria-label='Twin id or zone']", "room-2")
    page.click("button:has-text('Correlate')")
    page.wait_for_selector("#correlations[data-count]")
    answer = console.api("/v1/analytics/correlations", zone="room-2", window=3600, step=30)
    assert page.locator("#correlations li").count() == min(12, len(answer["correlations"]))
    assert answer["environment"] == [
        "co2 of sensor:room-2",
        "temperature of sensor:room-2",
        "humidity of sensor:room-2",
        "occupantCount of sensor:room-2",
        "occupancy of sensor:room-2",
        "illuminance of sensor:room-2",
    ]
    screenshot(page, "analytics")
    assert page.problems == []


def test_models_browser_shows_every_compiled_form(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(console.url + "/console/#/models/cellular")
    page.wait_for_selector("#model-files pre")
    for label, needle in (
        ("SDF", '"sdfObject"'),
        ("SHACL", "sh:NodeShape"),
        ("Thing Model", "tm:ThingModel"),
        ("Ditto", "LteCell"),
        ("JSON Schema", '"$schema"'),
    ):
        page.click(f".tabs button:has-text('{label}')")
        wait_for(
            lambda label=label: (
                page.locator(".tabs button[aria-pressed=true]").inner_text() == label
            ),
            timeout=10,
        )
        page.wait_for_function(
            "needle => [...document.querySelectorAll('#model-files pre')]"
            ".some(p => p.textContent.includes(needle))",
            arg=needle,
        )
        if label == "SHACL":
            screenshot(page, "models")
    assert page.problems == []


def test_the_console_is_keyboard_navigable(page: Any, console: Console) -> None:
    sign_in(page, console)
    # The skip link comes first; after it the brand and the navigation, in order.
    page.focus("a.skip")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "brand"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Devices"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#sources")
    assert page.evaluate("location.hash") == "#/sources"
    # Focus moved to the new page's content, not left on the link.
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    # The chart takes the keyboard: arrows move its cursor and it reads the values out.
    page.goto(console.url + "/console/#/twin/device%3Aphone-0002")
    page.wait_for_selector("#signal-chart[data-loaded] svg path.line")
    page.focus("#signal-chart svg")
    readout = page.locator("#signal-chart [aria-live]")
    assert readout.inner_text().strip() == ""
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert readout.inner_text().strip() != ""  # the cursor's time (and values) read out
    assert page.problems == []


def test_the_assets_reference_nothing_outside_the_server() -> None:
    """No CDN, no font or script from elsewhere: every reference is relative."""
    from server.console import STATIC_DIR

    files = [p for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".html", ".css", ".js"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        # The SVG namespace is a name, not a download.
        text = text.replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), path
        for module in re.findall(r'from "(\.[^"]+)"|import\("(\.[^"]+)"\)', text):
            target = (path.parent / (module[0] or module[1])).resolve()
            assert target.is_file(), f"{path.name} imports missing {target}"
