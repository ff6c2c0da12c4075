"""Processors: range checks from the models, nulls with reasons, units, levels, schema."""

from __future__ import annotations

import time
from typing import Any

import jsonschema
import orjson
import pytest

from adapters.mqtt.campus import Campus
from adapters.mqtt.config import MqttConfig
from adapters.mqtt.handler import SignalHandler
from adapters.mqtt.levels import Grader
from adapters.mqtt.processors.ble import beacon_distance
from adapters.mqtt.records import Curated
from adapters.mqtt.schema import record_schema
from server.core.catalog import ModelCatalog

NOW_MS = int(time.time() * 1000)


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


@pytest.fixture
def handler(catalog: ModelCatalog) -> SignalHandler:
    return SignalHandler(catalog, MqttConfig(), controller=None)


def curate(handler: SignalHandler, signal: str, member: str, value: Any, **extra: Any) -> Curated:
    record = {
        "schema": "ndtwin/1",
        "deviceId": "p1",
        "ts": extra.pop("ts", NOW_MS),
        member: value,
        **extra,
    }
    outcome = handler.curate(f"dt/v1/demo/p1/tele/{signal}", orjson.dumps(record))
    assert not outcome.reasons, outcome.reasons
    assert outcome.curated is not None
    return outcome.curated


def reasons(curated: Curated) -> dict[str, str]:
    return {issue.path: issue.reason for issue in curated.issues}


def test_lte_cell_ranges_units_and_level(handler: SignalHandler) -> None:
    curated = curate(
        handler,
        "cell",
        "cells",
        [
            {
                "rat": "lte",
                "mcc": "001",
                "mnc": "01",
                "eci": 1000,
                "tac": 7,
                "pci": 12,
                "earfcn": 6300,
                "bandwidthKhz": 20000,
                "status": "PrimaryConnection",
                "rsrp": -1025,
                "rsrq": -21.5,
                "snr": 155,
                "cqi": 0,
                "ta": 2,
                "rssi": -60,
            }
        ],
    )
    [reading] = curated.readings
    assert reading.source_id == "cell:lte-00101-1000"
    assert reading.identity == {
        "mcc": "001",
        "mnc": "01",
        "eci": 1000,
        "tac": 7,
        "pci": 12,
        "earfcn": 6300,
        "bandwidth": 20.0,
    }
    # RSRP in tenths and SNR in tenths are rescaled; RSRQ below netmonster's -20 and a
    # CQI of 0 are nulled with reasons.
    assert reading.signal["rsrp"] == -102.5
    assert reading.signal["snr"] == 15.5
    assert reading.signal["rsrq"] is None and reading.signal["cqi"] is None
    assert reasons(curated) == {
        "/cells/0/rsrq": "-21.5 is below the minimum -20",
        "/cells/0/cqi": "0 is below the minimum 1",
    }
    assert reading.metrics == {
        "connectionStatus": "primary",
        "rssi": -60,
        "rsrp": -102.5,
        "rsrq": None,
        "sinr": 15.5,
        "distance": 156.24,
    }
    # Android's default LTE bars: -102.5 dBm is >= -108 (level 3), field bucket "poor".
    assert (reading.level, reading.quality) == (3, "poor")


def test_nr_neighbour_keyed_by_channel_and_pci(handler: SignalHandler) -> None:
    curated = curate(
        handler,
        "cell",
        "cells",
        [
            {"rat": "nr", "pci": 401, "nrArfcn": 636666, "ssRsrp": 85, "ssSinr": 31},
            {"rat": "nr", "ssRsrp": -90},
            {"rat": "tetra", "pci": 1},
        ],
    )
    [reading] = curated.readings
    assert reading.source_id == "cell:nr-ch636666-pci401"
    assert reading.signal == {"ssRsrp": -85.0, "ssSinr": None}
    assert reading.level == 2 and reading.quality == "good"
    found = reasons(curated)
    assert found["/cells/0/ssSinr"] == "31.0 is above the maximum 23"
    assert "no global cell id" in found["/cells/1"]
    assert "unknown radio technology" in found["/cells/2/rat"]


def test_wifi_android_codes_and_invalid_marker(handler: SignalHandler) -> None:
    curated = curate(
        handler,
        "wifi",
        "wifi",
        [
            {
                "bssid": "AA-BB-CC-DD-EE-01",
                "ssid": "lab",
                "frequency": 5180,
                "channelWidth": 2,
                "wifiStandard": 6,
                "capabilities": "[RSN-SAE-CCMP][ESS]",
                "level": -61,
            },
            {"bssid": "aa:bb:cc:dd:ee:02", "frequency": 2437, "level": -127},
            {"bssid": "not-a-mac", "frequency": 2412, "level": -50},
            {"bssid": "aa:bb:cc:dd:ee:03", "frequency": 100, "level": -50},
        ],
    )
    first, second = curated.readings
    assert first.source_id == "wifi:aabbccddee01"
    assert first.identity["channelWidth"] == 80
    assert first.identity["wifiStandard"] == "802.11ax"
    assert first.identity["security"] == ["wpa3Sae"]
    assert (first.level, first.quality) == (3, "fair")
    assert second.metrics["rssi"] is None and second.level == 0
    found = reasons(curated)
    assert found["/wifi/1/level"] == "not-available marker"
    assert found["/wifi/2/bssid"] == "cannot be converted"
    assert "requires bssid" in found["/wifi/2"]
    assert found["/wifi/3/frequency"] == "100 is below the minimum 2412"


def test_ble_tx_power_marker_and_distance(handler: SignalHandler) -> None:
    curated = curate(
        handler,
        "ble",
        "ble",
        [{"address": "c0:ff:ee:00:00:01", "rssi": -71, "txPower": 127, "measuredPower": -59}],
    )
    [reading] = curated.readings
    assert "txPower" not in reading.identity
    assert reading.metrics == {"rssi": -71, "distance": beacon_distance(-71, -59)}
    assert reading.metrics["distance"] == pytest.approx(10 ** (12 / 20), abs=0.01)


def test_env_units_and_ranges(handler: SignalHandler) -> None:
    curated = curate(
        handler,
        "env",
        "env",
        {
            "sensorId": "room-1",
            "co2": 40001,
            "pressure": 1013.2,
            "occupancy": 1,
            "temperature": 21.5,
            "light": 300,
        },
    )
    assert curated.sensor is not None
    assert curated.sensor.attributes == {
        "pressure": 101320.0,
        "occupancy": "occupied",
        "temperature": 21.5,
        "illuminance": 300.0,
    }
    assert reasons(curated) == {"/env/co2": "40001.0 is above the maximum 40000"}


def test_loc_and_device_identity(handler: SignalHandler) -> None:
    curated = curate(
        handler,
        "loc",
        "loc",
        {"latitude": 60.1, "lng": 24.9, "acc": 4},
        device={"model": "Pixel 8", "batteryLevel": 120},
    )
    assert curated.device == {
        "location": {"lat": 60.1, "lon": 24.9, "accuracy": 4.0},
        "model": "Pixel 8",
    }
    assert reasons(curated) == {"/device/batteryLevel": "120.0 is above the maximum 100"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (orjson.dumps({"schema": "ndtwin/2", "ts": NOW_MS, "cells": []}), "schema must be"),
        (orjson.dumps({"schema": "ndtwin/1", "ts": 5000, "cells": []}), "before 2000-01-01"),
        (orjson.dumps({"schema": "ndtwin/1", "ts": NOW_MS + 10**9, "cells": []}), "future"),
        (
            orjson.dumps({"schema": "ndtwin/1", "ts": NOW_MS, "deviceId": "p2", "cells": []}),
            "differs from the topic",
        ),
        (orjson.dumps({"schema": "ndtwin/1", "ts": NOW_MS, "wifi": []}), "needs a 'cells'"),
        (orjson.dumps({"schema": "ndtwin/1", "ts": NOW_MS, "cells": {}}), "must be an array"),
        (
            orjson.dumps({"schema": "ndtwin/1", "ts": NOW_MS, "cells": [{"rat": "lte"}]}),
            "no global cell id",
        ),
    ],
)
def test_rejected_records_say_why(handler: SignalHandler, payload: bytes, reason: str) -> None:
    outcome = handler.curate("dt/v1/demo/p1/tele/cell", payload)
    assert outcome.curated is None or not outcome.curated.has_content
    assert any(reason in r for r in outcome.reasons), outcome.reasons


def test_duplicates_and_reorder_window(catalog: ModelCatalog) -> None:
    handler = SignalHandler(catalog, MqttConfig(reorder_window_s=5), controller=None)
    topic = "dt/v1/demo/p1/tele/loc"

    def send(ts: int) -> Any:
        return handler.curate(
            topic, orjson.dumps({"schema": "ndtwin/1", "ts": ts, "loc": {"lat": 1, "lon": 2}})
        )

    assert send(NOW_MS).curated is not None
    assert send(NOW_MS).duplicate
    assert not send(NOW_MS - 4000).reasons  # late but within the window
    late = send(NOW_MS - 6000)
    assert late.late and "reorder window" in late.reasons[0]


def test_grader_overrides_validate() -> None:
    grader = Grader.with_overrides(levels={"lte.rsrp": [-120, -110, -100, -90]})
    assert grader.grade("lte", {"rsrp": -105}) == (2, "poor")
    with pytest.raises(ValueError, match="ascending"):
        Grader.with_overrides(levels={"lte.rsrp": [-90, -100, -110, -120]})


def test_record_schema_accepts_simulated_records(catalog: ModelCatalog) -> None:
    schema = record_schema(catalog)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    campus = Campus(3, "demo", seed=5)
    emissions = list(campus.tick(time.time(), 1.0))
    assert {e.topic.rsplit("/", 1)[-1] for e in emissions} == {"cell", "wifi", "ble", "env", "loc"}
    for emission in emissions:
        validator.validate(orjson.loads(emission.payload))
    bad = {"schema": "ndtwin/1", "ts": NOW_MS, "cells": [{"rat": "lte", "rsrp": "x"}]}
    assert list(validator.iter_errors(bad))


def test_docs_carry_the_generated_schema(catalog: ModelCatalog) -> None:
    import json
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "mqtt.md").read_text()
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == record_schema(catalog)
