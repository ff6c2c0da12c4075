"""The analytics on a real series: the UCI office replayed through the MQTT adapter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server.analytics.anomalies import detect
from server.analytics.collect import Collector
from server.analytics.correlation import correlate
from server.analytics.forecast import forecast
from server.analytics.report import CALLER, DEFAULT_SHARED, ingest
from server.core.bootstrap import build_core

OFFICE = DEFAULT_SHARED / "uci-occupancy" / "datatest.txt"


@pytest.mark.skipif(not OFFICE.exists(), reason="shared/datasets not present")
def test_the_uci_office_through_the_adapter(tmp_path: Path) -> None:
    from adapters.mqtt.replay import occupancy_records

    core = build_core("sqlite", "memory", tmp_path / "data")
    core.open()
    try:
        core.tenants.create("demo")
        assert ingest(core, occupancy_records(OFFICE)) == 2665
        collector = Collector(core, CALLER)
        now = time.time()
        series = {
            s.metric: s for s, _ in collector.twin_series("sensor:uci-office", now - 3600, now + 5)
        }
        # Samples at their measurement minutes (Feb 2015), not at the replay's clock.
        assert len(series["co2"]) == 2665
        first = next(iter(occupancy_records(OFFICE))).record["ts"] / 1000
        assert series["co2"].times[0] == first
        # People raise CO2, which follows them by about a quarter of an hour.
        found = correlate(series["occupancy"], series["co2"], step=300, max_lag=3)
        assert found is not None and found.found and found.r > 0.7
        assert found.lag_seconds == 900
        # Lights go off in the evening: a sudden illuminance drop with its time.
        drops = [a for a in detect(series["illuminance"]) if a.kind == "drop"]
        assert drops and drops[0].to_json()["start"] == "2015-02-02T18:04:59.000Z"
        # Occupancy is a state: its changes are not anomalies.
        assert detect(series["occupancy"]) == []
        outlook = forecast(series["co2"], 900)
        assert outlook is not None and outlook.mae < outlook.baseline_mae
    finally:
        core.close()
