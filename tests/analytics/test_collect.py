"""Series read back from the core in event time, as the adapter writes them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from server.analytics.anomalies import detect
from server.analytics.collect import Collector, Scope
from server.core.service import Core
from tests.analytics.conftest import ALPHA, BETA, Writer

T0 = 1_750_000_000.0


def test_link_samples_come_back_at_their_measurement_times(core: Core, writer: Writer) -> None:
    writer.device("device:p1")
    writer.source("cell:lte-00101-7", mcc="001", mnc="01", eci=7)
    values = [-90, -90, -91, -91, -91, -105, -106, -105]
    writer.links("device:p1", "cell:lte-00101-7", [T0 + i for i in range(8)], values)
    collector = Collector(core, ALPHA)
    rel = collector.relationships(source="device:p1")[0]
    series = collector.sampled(
        "device:p1",
        f"/relationships/{rel.id}/properties",
        "rsrp",
        T0 - 10,
        time.time() + 10,
        "rsrp",
    )
    # One sample per measurement, unchanged values carried (history keeps changes only).
    assert series.times.tolist() == [T0 + i for i in range(8)]
    assert series.values.tolist() == values
    history = core.history(ALPHA, "device:p1", f"/relationships/{rel.id}/properties/rsrp", *_all())
    assert [p.value for p in history] == [-90, -91, -105, -106, -105]


def _all() -> tuple:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def test_a_sensor_that_stops_changing_is_seen_as_stuck(core: Core, writer: Writer) -> None:
    writer.sensor("sensor:r1", co2=500.0, lastSeen=T0)
    rng = np.random.default_rng(1)
    co2 = np.round(600 + 80 * np.sin(np.arange(120) / 15) + rng.normal(0, 5, 120), 1)
    co2[60:] = co2[60]
    for i, value in enumerate(co2):
        writer.reading("sensor:r1", T0 + 60 * (i + 1), co2=float(value))
    collector = Collector(core, ALPHA)
    # Windows select by commit time (now); samples sit at their measurement times.
    now = time.time()
    [(series, counts)] = [
        p for p in collector.twin_series("sensor:r1", now - 600, now + 5) if p[0].metric == "co2"
    ]
    assert counts is None and len(series) == 121  # the creation's sample as well
    found = detect(series)
    assert [(a.kind, a.start) for a in found] == [("stuck", T0 + 60 * 61)]


def test_long_windows_are_read_as_weighted_buckets(core: Core, writer: Writer) -> None:
    writer.sensor("sensor:r2", co2=400.0, lastSeen=T0)
    for i in range(30):
        writer.reading("sensor:r2", T0 + i + 1, co2=400.0 + 10 * (i % 3))
    collector = Collector(core, ALPHA)
    now = time.time()
    series, counts = collector.read("sensor:r2", "/attributes", "co2", now - 86400, now + 5, "co2")
    assert series.resolution == pytest.approx((86400 + 5) / 2000)
    assert counts is not None and counts.sum() == 31
    assert float(np.average(series.values, weights=counts)) == pytest.approx(
        (400 + 30 * 410 - 400 * 0) / 31, abs=5
    )


def test_a_zone_covers_its_members_and_another_tenant_sees_nothing(
    core: Core, writer: Writer
) -> None:
    writer.sensor(
        "sensor:a", co2=450.0, lastSeen=T0, location={"lat": 60.2, "lon": 24.9, "zone": "lab"}
    )
    writer.sensor(
        "sensor:b", co2=460.0, lastSeen=T0, location={"lat": 60.2, "lon": 24.9, "zone": "hall"}
    )
    collector = Collector(core, ALPHA)
    assert [m["thingId"] for m in collector.zone_members("lab")] == ["sensor:a"]
    now = time.time()
    labels = [s.label for s, _ in collector.scope_series(Scope(zone="lab"), now - 60, now + 5)]
    assert labels == ["co2 of sensor:a"]
    other = Collector(core, BETA)
    assert other.zone_members("lab") == []
