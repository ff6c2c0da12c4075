"""Bluetooth LE scans: Android ``ScanResult``/``ScanRecord`` fields per advertiser.

Beacons are keyed by device address (``ble:{12 hex digits}``); resolvable private
addresses rotate, so one physical beacon can appear as several twins over time and the
orphan sweep removes the old ones (notes §2). A ``txPower`` of 127 is Android's
TX_POWER_NOT_PRESENT and is nulled. With a calibrated 1 m power (iBeacon/Eddystone) the
distance follows the log-distance path-loss model with exponent 2.
"""

from __future__ import annotations

from typing import Any

from adapters.mqtt.levels import Grader
from adapters.mqtt.processors.base import (
    FieldSpec,
    Processor,
    compile_table,
    entries,
    extract,
    required_of,
    table_schema,
)
from adapters.mqtt.processors.wifi import normalise_mac
from adapters.mqtt.records import Curated, Envelope, Issue, Reading
from adapters.mqtt.topics import SignalType
from server.core.catalog import ModelCatalog

__all__ = ["BLE", "BleProcessor", "beacon_distance"]

#: Path-loss exponent for the distance estimate (free space).
PATH_LOSS_EXPONENT = 2.0

BLE: tuple[FieldSpec, ...] = (
    FieldSpec("address", aliases=("mac",), convert=normalise_mac),
    FieldSpec("addressType"),
    FieldSpec("name", aliases=("deviceName",)),
    FieldSpec("txPower", markers=(127,)),
    FieldSpec("measuredPower", aliases=("txAt1m",)),
    FieldSpec("companyId"),
    FieldSpec("manufacturerData"),
    FieldSpec("beaconUuid", aliases=("uuid",)),
    FieldSpec("major"),
    FieldSpec("minor"),
    FieldSpec("serviceUuids"),
    FieldSpec("connectable"),
    FieldSpec("rssi", obs="rssi", identity=False),
)


def beacon_distance(rssi: float, measured_power: float) -> float:
    """Metres from the RSSI and the calibrated power at 1 m (log-distance model)."""
    return round(10 ** ((measured_power - rssi) / (10 * PATH_LOSS_EXPONENT)), 2)


class BleProcessor(Processor):
    """The ``ble`` processor."""

    signal = SignalType.BLE
    member = "ble"

    def __init__(self, catalog: ModelCatalog, grader: Grader | None = None) -> None:
        super().__init__(catalog, grader)
        self._table = compile_table(catalog, "BleBeacon", BLE)
        self._required = required_of(catalog, "BleBeacon")

    def parse_body(self, payload: Any, envelope: Envelope, curated: Curated) -> None:
        for path, entry in entries(payload, self.member, curated):
            values = extract(entry, self._table, path, curated.issues)
            missing = [n for n in self._required if values.get(n) is None]
            if missing:
                curated.issues.append(
                    Issue(
                        path,
                        None,
                        "beacon not identifiable: BleBeacon "
                        f"requires {', '.join(missing)}; entry dropped",
                    )
                )
                continue
            identity = {k: v for k, v in values.items() if k != "rssi" and v is not None}
            rssi = values.get("rssi")
            metrics: dict[str, Any] = {"rssi": rssi}
            if rssi is not None and identity.get("measuredPower") is not None:
                metrics["distance"] = beacon_distance(rssi, identity["measuredPower"])
            level, quality = self.grader.grade("ble", values)
            key = "ble:" + identity["address"].replace(":", "")
            curated.readings.append(
                Reading(
                    key, "bleBeacon", "BleBeacon", identity, metrics, level, quality, {"rssi": rssi}
                )
            )

    @classmethod
    def schema_defs(cls, catalog: ModelCatalog) -> dict[str, Any]:
        return {"ble": table_schema(catalog, "BleBeacon", BLE, required=("address",))}
