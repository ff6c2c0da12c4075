"""The twin-instance controller over a real core (SQLite, SHACL), without a broker."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import orjson
import pytest

from adapters.mqtt.config import MqttConfig
from adapters.mqtt.controller import TwinController
from adapters.mqtt.handler import SignalHandler
from server.core.service import Core
from tests.adapters.mqtt.conftest import CALLER, EPOCH, FAR, make_core

T0 = int(time.time() * 1000) - 60_000


def record(ts: int, **member: Any) -> bytes:
    return orjson.dumps({"schema": "ndtwin/1", "ts": ts, **member})


def lte(rsrp: float, eci: int = 5000, pci: int = 9) -> dict[str, Any]:
    return {
        "rat": "lte",
        "mcc": "001",
        "mnc": "01",
        "eci": eci,
        "pci": pci,
        "rsrp": rsrp,
        "connectionStatus": "primary",
    }


async def ingest(
    core: Core,
    messages: list[tuple[str, bytes]],
    config: MqttConfig | None = None,
    controller: TwinController | None = None,
) -> list[list[str]]:
    """Feed messages through handler and controller; returns each dead letter's reasons."""
    config = config or MqttConfig(batch_wait_ms=5)
    own = controller is None
    controller = controller or TwinController(core, config)
    if own:
        await controller.start()
    letters: list[list[str]] = []
    handler = SignalHandler(
        core.catalog,
        config,
        controller,  # type: ignore[arg-type]
        lambda t, p, q, r: letters.append(orjson.loads(p)["reasons"]) if "/dlq/" in t else None,
    )
    finished: list[int] = []
    for topic, payload in messages:
        await handler.handle(topic, payload, time.time(), lambda: finished.append(1))
    for _ in range(600):
        if len(finished) == len(messages):
            break
        await asyncio.sleep(0.02)
    assert len(finished) == len(messages)
    await handler.stop()
    if own:
        await controller.stop()
    return letters


def history(core: Core, thing: str, path: str) -> list[Any]:
    return [p.value for p in core.history(CALLER, thing, path, EPOCH, FAR)]


def test_twins_relationships_and_history_follow_records(core: Core) -> None:
    topic = "dt/v1/demo/p1/tele/cell"
    asyncio.run(
        ingest(
            core,
            [
                (topic, record(T0, cells=[lte(-90)])),
                (topic, record(T0 + 1000, cells=[lte(-90)])),
                (topic, record(T0 + 2000, cells=[lte(-95)])),
            ],
        )
    )
    assert core.catalog is not None
    device = core.twins.get_record(CALLER, "device:p1")
    assert device.doc["definition"] == core.catalog.by_name("EndDevice").tm_url
    assert device.doc["attributes"]["lastSeen"] == (T0 + 2000) / 1000
    cell = core.twins.get_record(CALLER, "cell:lte-00101-5000")
    assert cell.doc["definition"] == core.catalog.by_name("LteCell").tm_url
    assert cell.doc["attributes"] == {
        "mcc": "001",
        "mnc": "01",
        "eci": 5000,
        "pci": 9,
        "lastSeen": T0 / 1000,
    }
    rel = core.relationships.get(CALLER, "device:p1~cell:lte-00101-5000")
    assert (rel.source, rel.target, rel.type) == ("device:p1", "cell:lte-00101-5000", "observes")
    assert rel.properties == {
        "deviceId": "device:p1",
        "sourceId": "cell:lte-00101-5000",
        "sourceType": "lteCell",
        "connectionStatus": "primary",
        "rsrp": -95.0,
        "level": 4,
        "quality": "fair",
        "firstSeen": T0 / 1000,
        "lastSeen": (T0 + 2000) / 1000,
        "sampleCount": 3,
    }
    prefix = "/relationships/device:p1~cell:lte-00101-5000/properties"
    # One history point per change: -90 twice is one point.
    assert history(core, "device:p1", f"{prefix}/rsrp") == [-90.0, -95.0]
    assert history(core, "device:p1", f"{prefix}/lastSeen") == [
        T0 / 1000,
        (T0 + 1000) / 1000,
        (T0 + 2000) / 1000,
    ]


def test_redelivery_is_a_no_op(core: Core) -> None:
    topic = "dt/v1/demo/p1/tele/cell"
    message = (topic, record(T0, cells=[lte(-80)]))
    asyncio.run(ingest(core, [message]))
    seq = core.last_seq(CALLER)
    # A fresh handler (as after an adapter restart) gets the same record again.
    asyncio.run(ingest(core, [message]))
    assert core.last_seq(CALLER) == seq
    assert (
        core.relationships.get(CALLER, "device:p1~cell:lte-00101-5000").properties["sampleCount"]
        == 1
    )


def test_late_record_counts_but_does_not_roll_back(core: Core) -> None:
    topic = "dt/v1/demo/p1/tele/cell"
    asyncio.run(
        ingest(
            core,
            [(topic, record(T0, cells=[lte(-80)])), (topic, record(T0 - 2000, cells=[lte(-110)]))],
        )
    )
    props = core.relationships.get(CALLER, "device:p1~cell:lte-00101-5000").properties
    assert props["rsrp"] == -80.0
    assert props["sampleCount"] == 2
    assert (props["firstSeen"], props["lastSeen"]) == ((T0 - 2000) / 1000, T0 / 1000)


def test_status_meta_sensor_and_unknown_tenant(core: Core) -> None:
    letters = asyncio.run(
        ingest(
            core,
            [
                (
                    "dt/v1/demo/s1/meta",
                    orjson.dumps(
                        {"model": "CO2 node", "manufacturer": "ACME", "deviceClass": "iotNode"}
                    ),
                ),
                ("dt/v1/demo/s1/tele/env", record(T0, env={"co2": 612.5, "occupancy": True})),
                ("dt/v1/demo/s1/status", orjson.dumps({"state": "offline", "ts": T0 + 5})),
                ("dt/v1/ghost/s1/tele/env", record(T0, env={"co2": 500})),
            ],
        )
    )
    device = core.twins.get_record(CALLER, "device:s1").doc["attributes"]
    assert (device["model"], device["manufacturer"], device["deviceClass"]) == (
        "CO2 node",
        "ACME",
        "iotNode",
    )
    assert device["online"] is False
    sensor = core.twins.get_record(CALLER, "sensor:s1").doc["attributes"]
    assert sensor == {"co2": 612.5, "occupancy": "occupied", "lastSeen": T0 / 1000}
    assert letters == [["unknown tenant 'ghost'"]]


def test_ttl_expiry_then_orphan_removal(core: Core) -> None:
    config = MqttConfig(batch_wait_ms=5, relationship_ttl_s=0.3, orphan_grace_s=0.3)

    async def scenario() -> tuple[tuple[int, int], tuple[int, int], list[str], tuple[int, int]]:
        controller = TwinController(core, config)
        await controller.start()
        await ingest(
            core,
            [
                ("dt/v1/demo/p1/tele/cell", record(T0, cells=[lte(-80), lte(-99, 6000, 10)])),
                ("dt/v1/demo/p2/tele/cell", record(T0, cells=[lte(-85)])),
            ],
            config,
            controller,
        )
        early = controller.sweep()
        await asyncio.sleep(0.2)
        # p2 hears cell 5000 again: only its relationship is refreshed.
        await ingest(
            core,
            [("dt/v1/demo/p2/tele/cell", record(T0 + 1000, cells=[lte(-84)]))],
            config,
            controller,
        )
        await asyncio.sleep(0.2)
        expired = controller.sweep()
        remaining = [r.id for r in core.relationships.list(CALLER, size=100)[0]]
        await asyncio.sleep(0.35)
        orphaned = controller.sweep()
        await controller.stop()
        return early, expired, remaining, orphaned

    early, expired, remaining, orphaned = asyncio.run(scenario())
    assert early == (0, 0)
    # p1's two relationships expired; p2's refreshed one did not.
    assert expired == (2, 0)
    assert remaining == ["device:p2~cell:lte-00101-5000"]
    # Later p2's relationship expires too (1); cell 6000, orphaned since the previous
    # sweep, is gone after the grace period (1); cell 5000 has only just lost its last
    # observer and stays for now; devices are never removed.
    assert orphaned == (1, 1)
    assert core.store.get_twin(CALLER.tenant, "cell:lte-00101-6000") is None  # type: ignore[arg-type]
    assert core.twins.get_record(CALLER, "cell:lte-00101-5000")
    assert core.twins.get_record(CALLER, "device:p1")


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"{}", b"[]", b"null"])
def test_never_crashes_on_input(core: Core, bad: bytes) -> None:
    letters = asyncio.run(
        ingest(
            core,
            [
                ("dt/v1/demo/p1/tele/wifi", bad),
                (
                    "dt/v1/demo/p1/tele/wifi",
                    record(
                        T0, wifi=[{"bssid": "02:00:00:00:00:01", "frequency": 2412, "level": -50}]
                    ),
                ),
            ],
        )
    )
    assert len(letters) == 1
    assert core.twins.get_record(CALLER, "wifi:020000000001")


def test_two_writers_count_every_sample(tmp_path: Any) -> None:
    """Two adapter processes' controllers (two cores over one SQLite file) write the same
    relationship at once: the counts are computed against fresh state inside the
    core's batch, so no sample is lost to a concurrent write."""
    cores = [make_core(tmp_path / "data"), make_core(tmp_path / "data")]
    config = MqttConfig(batch_wait_ms=1, batch_max=3)
    topic = "dt/v1/demo/p1/tele/cell"
    times = [T0 + i * 10 for i in range(80)]
    shares = [times[0::2], times[1::2]]
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            asyncio.run(
                ingest(
                    cores[index],
                    [
                        (topic, record(ts, cells=[lte(-80 - i % 20)]))
                        for i, ts in enumerate(shares[index])
                    ],
                    config,
                )
            )
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors
        props = cores[0].relationships.get(CALLER, "device:p1~cell:lte-00101-5000").properties
        assert props["sampleCount"] == len(times)
        assert (props["firstSeen"], props["lastSeen"]) == (times[0] / 1000, times[-1] / 1000)
        device = cores[1].twins.get_record(CALLER, "device:p1").doc["attributes"]
        assert device["lastSeen"] == times[-1] / 1000
    finally:
        for core in cores:
            core.close()


def test_device_touch_interval_spares_device_revisions(core: Core) -> None:
    topic = "dt/v1/demo/p1/tele/cell"
    config = MqttConfig(batch_wait_ms=5, device_touch_s=5)
    times = [T0, T0 + 1000, T0 + 2000, T0 + 6000]
    for ts in times:  # one batch each (within a batch a twin folds to one revision anyway)
        asyncio.run(ingest(core, [(topic, record(ts, cells=[lte(-90)]))], config))
    # The device's lastSeen moves only once it is 5 s old; every observation still
    # moves the relationship's.
    assert history(core, "device:p1", "/attributes/lastSeen") == [T0 / 1000, (T0 + 6000) / 1000]
    prefix = "/relationships/device:p1~cell:lte-00101-5000/properties"
    assert history(core, "device:p1", f"{prefix}/lastSeen") == [t / 1000 for t in times]


def test_a_sensor_repeating_its_reading_keeps_every_sample(core: Core) -> None:
    # Three readings in one batch, two of them equal: each is a sample of its own (its
    # own revision and lastSeen point); folding equal values suits device state, not
    # measurements. The history of a value holds its changes.
    asyncio.run(
        ingest(
            core,
            [
                ("dt/v1/demo/s1/tele/env", record(T0 + k * 1000, env={"co2": co2}))
                for k, co2 in enumerate([500, 500, 510])
            ],
            MqttConfig(batch_wait_ms=200),
        )
    )
    assert history(core, "sensor:s1", "/attributes/co2") == [500, 510]
    assert history(core, "sensor:s1", "/attributes/lastSeen") == [
        (T0 + k * 1000) / 1000 for k in range(3)
    ]
