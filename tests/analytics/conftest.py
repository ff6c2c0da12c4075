"""A real core (SQLite + in-memory graph + the shipped models) and a writer that records
links and sensor readings the way the MQTT adapter does (docs/mqtt.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from server.core.batch import RelationshipUpsert, TwinUpsert
from server.core.bootstrap import build_core
from server.core.catalog import ModelCatalog
from server.core.context import Caller
from server.core.ids import TenantId
from server.core.service import Core

ALPHA = Caller(TenantId("alpha"))
BETA = Caller(TenantId("beta"))
SOURCE_MODELS = {
    "cell": ("LteCell", "lteCell"),
    "wifi": ("WifiAccessPoint", "wifiAccessPoint"),
    "ble": ("BleBeacon", "bleBeacon"),
}


@pytest.fixture(scope="session")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


@pytest.fixture
def core(tmp_path: Path, catalog: ModelCatalog) -> Iterator[Core]:
    core = build_core("sqlite", "memory", tmp_path / "data", catalog=catalog)
    core.open()
    try:
        yield core
    finally:
        core.close()


@pytest.fixture
def keys(core: Core) -> dict[str, str]:
    return {name: core.tenants.create(name)[1] for name in ("alpha", "beta")}


class Writer:
    """Writes twins, links and readings of one tenant through the core's batch upsert."""

    def __init__(self, core: Core, caller: Caller = ALPHA) -> None:
        self.core = core
        self.caller = caller
        self.samples: dict[str, int] = {}

    def _skeleton(self, model: str, attributes: dict[str, Any]) -> dict[str, Any]:
        entry = self.core.catalog.by_name(model) if self.core.catalog else None
        assert entry is not None
        body = entry.skeleton()
        body["attributes"] = {**body.get("attributes", {}), **attributes}
        return body

    def device(self, device: str, **attributes: Any) -> None:
        attrs = {"model": "T1", "manufacturer": "ndtwin", "online": True, **attributes}
        self.core.batch.upsert(
            self.caller, [TwinUpsert(device, self._skeleton("EndDevice", attrs))]
        )

    def source(self, source: str, **attributes: Any) -> None:
        model = SOURCE_MODELS[source.partition(":")[0]][0]
        self.core.batch.upsert(self.caller, [TwinUpsert(source, self._skeleton(model, attributes))])

    def sensor(self, sensor: str, **attributes: Any) -> None:
        self.core.batch.upsert(
            self.caller, [TwinUpsert(sensor, self._skeleton("EnvironmentSensor", attributes))]
        )

    def link(self, device: str, source: str, ts: float, **metrics: Any) -> None:
        """One sample of a device hearing a source (the adapter's observes relationship)."""
        rid = f"{device}~{source}"
        count = self.samples.get(rid, 0) + 1
        self.samples[rid] = count
        props: dict[str, Any] = {
            "lastSeen": ts,
            "sampleCount": count,
            "level": metrics.pop("level", 2),
            **metrics,
        }
        if count == 1:
            props.update(
                {
                    "deviceId": device,
                    "sourceId": source,
                    "firstSeen": ts,
                    "sourceType": SOURCE_MODELS[source.partition(":")[0]][1],
                }
            )
        self.core.batch.upsert(
            self.caller, [], [RelationshipUpsert(rid, device, source, "observes", props)]
        )

    def reading(self, sensor: str, ts: float, **values: Any) -> None:
        self.core.batch.upsert(
            self.caller, [TwinUpsert(sensor, {"attributes": {"lastSeen": ts, **values}})]
        )

    def links(
        self,
        device: str,
        source: str,
        times: Sequence[float],
        values: Sequence[float],
        metric: str = "rsrp",
    ) -> None:
        for ts, value in zip(times, values, strict=True):
            self.link(device, source, float(ts), **{metric: round(float(value))})


@pytest.fixture
def writer(core: Core, keys: dict[str, str]) -> Writer:
    return Writer(core)
