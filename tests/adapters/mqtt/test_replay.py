"""Both replays, checked value for value against twins, relationships and history."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import orjson
import pytest

from adapters.mqtt.replay import cork_records, occupancy_records
from adapters.mqtt.topics import TopicScheme
from tests.adapters.mqtt.conftest import CALLER, EPOCH, FAR, SHARED, make_core
from tests.adapters.mqtt.test_controller import ingest

CORK = SHARED / "5g-cork" / "5G-production-dataset.zip"
OCCUPANCY = SHARED / "uci-occupancy" / "datatest.txt"
TOPICS = TopicScheme()


def changes(values: list[object]) -> list[object]:
    """A series as history keeps it: one point per change."""
    out: list[object] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


@pytest.mark.skipif(not OCCUPANCY.exists(), reason="shared/datasets not present")
def test_occupancy_replay_value_for_value(tmp_path: Path) -> None:
    rows = list(csv.reader(OCCUPANCY.open()))[1:31]
    records = list(occupancy_records(OCCUPANCY, rows=30))
    assert len(records) == 30
    core = make_core(tmp_path / "data")
    try:
        asyncio.run(
            ingest(
                core,
                [
                    (TOPICS.telemetry("demo", r.device, r.signal), orjson.dumps(r.record))
                    for r in records
                ],
            )
        )
        twin = core.twins.get_record(CALLER, "sensor:uci-office").doc["attributes"]
        last = rows[-1]
        assert twin["co2"] == float(last[5]) and twin["temperature"] == float(last[2])
        assert twin["occupancy"] == ("occupied" if last[7] == "1" else "vacant")
        for column, path in ((5, "co2"), (2, "temperature"), (3, "humidity"), (4, "illuminance")):
            points = core.history(CALLER, "sensor:uci-office", f"/attributes/{path}", EPOCH, FAR)
            assert [p.value for p in points] == changes([float(r[column]) for r in rows])
    finally:
        core.close()


@pytest.mark.skipif(not CORK.exists(), reason="shared/datasets not present")
def test_cork_replay_value_for_value(tmp_path: Path) -> None:
    records = list(cork_records(CORK, sessions=1, rows=40))
    cells = [r for r in records if r.signal == "cell"]
    assert cells and all(r.device == cells[0].device for r in records)
    core = make_core(tmp_path / "data")
    try:
        letters = asyncio.run(
            ingest(
                core,
                [
                    (TOPICS.telemetry("demo", r.device, r.signal), orjson.dumps(r.record))
                    for r in records
                ],
            )
        )
        assert letters == []
        device = f"device:{cells[0].device}"
        # Expected values from the CSV, by the documented rules (netmonster ranges).
        series: dict[str, list[tuple[float, float | None]]] = {}
        for record in cells:
            lte = record.record["cells"][0]
            rid = f"{device}~cell:lte-x-{lte['eci']}"
            rsrp = lte.get("rsrp")
            ok = isinstance(rsrp, int | float) and -140 <= rsrp <= -44
            series.setdefault(rid, []).append(
                (record.record["ts"] / 1000, float(rsrp) if ok else None)
            )
        for rid, points in series.items():
            rel = core.relationships.get(CALLER, rid)
            assert rel.properties["sampleCount"] == len(points)
            assert rel.properties["lastSeen"] == points[-1][0]
            assert rel.properties.get("rsrp") == points[-1][1]
            prefix = f"/relationships/{rid}/properties"
            seen = [p.value for p in core.history(CALLER, device, f"{prefix}/lastSeen", EPOCH, FAR)]
            assert seen == [t for t, _ in points]
            rsrp = [p.value for p in core.history(CALLER, device, f"{prefix}/rsrp", EPOCH, FAR)]
            assert rsrp == changes([v for _, v in points])
        loc = core.twins.get_record(CALLER, device).doc["attributes"]["location"]
        last = [r for r in records if r.signal == "loc"][-1].record["loc"]
        assert (loc["lat"], loc["lon"]) == (last["lat"], last["lon"])
    finally:
        core.close()
