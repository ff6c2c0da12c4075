"""Cellular scans: LTE, NR, WCDMA and GSM cells in netmonster-core's terms (notes §1).

Each entry of ``cells`` names its technology in ``rat``. Identity fields go to the cell
twin (LteCell, NrCell, WcdmaCell, GsmCell); signal fields go to the device->cell
Observation. A cell twin is keyed by its global identity when the entry has one
(``cell:lte-{plmn}-{eci}``, ``x`` for an unknown PLMN), else by channel and physical id
(``cell:lte-ch{earfcn}-pci{pci}``), as netmonster's model hint advises; an entry with
neither, or without a member its model requires, is dropped with an issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.mqtt.levels import Grader
from adapters.mqtt.processors.base import (
    CheckedField,
    FieldSpec,
    Processor,
    compile_table,
    entries,
    extract,
    required_of,
    table_schema,
)
from adapters.mqtt.records import Curated, Envelope, Issue, Reading
from adapters.mqtt.topics import SignalType
from server.core.catalog import ModelCatalog

__all__ = ["RATS", "CellProcessor", "Rat"]

_STATUS = {
    "primary": "primary",
    "primaryconnection": "primary",
    "serving": "primary",
    "secondary": "secondary",
    "secondaryconnection": "secondary",
    "neighbour": "neighbour",
    "neighbor": "neighbour",
    "none": "neighbour",
    "noneconnection": "neighbour",
}

#: One-way distance of one timing-advance step: LTE 16 Ts (TS 36.213 §4.2.3), GSM one
#: bit period (TS 45.010 §5.3); NR reports microseconds (c * 1 us / 2 = 150 m).
_TA_METRES = {"lte": 78.12, "gsm": 553.85, "nr": 149.9}


def _status(value: Any) -> str:
    return _STATUS[str(value).strip().lower()]


def _tenths_rsrp(value: Any) -> Any:
    # Some modems report LTE RSRP in tenths of a dB (-1025 for -102.5, notes §1).
    if isinstance(value, int | float) and not isinstance(value, bool) and -1560 <= value < -156:
        return value / 10
    return value


def _tenths_snr(value: Any) -> Any:
    # An LTE RSSNR above 30 is in tenths of a dB (netmonster divides it by 10).
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 30:
        return value / 10
    return value


def _negative(value: Any) -> Any:
    # NR power and quality values that arrive positive are sign-flipped (netmonster).
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return -value
    return value


def _khz(value: Any) -> float:
    return float(value) / 1000.0


_PLMN = (FieldSpec("mcc"), FieldSpec("mnc"))
_STATUS_FIELD = FieldSpec(
    "connectionStatus",
    aliases=("status", "connection"),
    convert=_status,
    obs="connectionStatus",
    identity=False,
)

LTE: tuple[FieldSpec, ...] = (
    *_PLMN,
    FieldSpec("eci", aliases=("ci",)),
    FieldSpec("tac"),
    FieldSpec("pci"),
    FieldSpec("earfcn", aliases=("channel",)),
    FieldSpec("band"),
    FieldSpec("bandName"),
    FieldSpec("bandwidth"),
    FieldSpec("bandwidthKhz", prop="bandwidth", convert=_khz),
    _STATUS_FIELD,
    FieldSpec("rssi", accept=(-113, -51), obs="rssi", identity=False),
    FieldSpec("rsrp", convert=_tenths_rsrp, accept=(-140, -44), obs="rsrp", identity=False),
    FieldSpec("rsrq", accept=(-20, -3), obs="rsrq", identity=False),
    FieldSpec(
        "snr",
        aliases=("rssnr",),
        convert=_tenths_snr,
        accept=(-19.9, 30),
        obs="sinr",
        identity=False,
    ),
    FieldSpec("cqi", accept=(1, 15), identity=False),
    FieldSpec("timingAdvance", aliases=("ta",), accept=(0, 1282), identity=False),
)

NR: tuple[FieldSpec, ...] = (
    *_PLMN,
    FieldSpec("nci", markers=(2147483647, 268435455)),
    FieldSpec("tac"),
    FieldSpec("pci"),
    FieldSpec("nrArfcn", aliases=("channel", "arfcn")),
    FieldSpec("band"),
    FieldSpec("bandName"),
    _STATUS_FIELD,
    FieldSpec("ssRsrp", convert=_negative, accept=(-140, -44), obs="rsrp", identity=False),
    FieldSpec("ssRsrq", convert=_negative, accept=(-20, -3), obs="rsrq", identity=False),
    FieldSpec("ssSinr", accept=(-23, 23), obs="sinr", identity=False),
    FieldSpec("csiRsrp", convert=_negative, accept=(-140, -44), identity=False),
    FieldSpec("csiRsrq", convert=_negative, accept=(-20, -3), identity=False),
    FieldSpec("csiSinr", accept=(-23, 23), identity=False),
    FieldSpec("csiCqi", identity=False),
    FieldSpec("timingAdvance", aliases=("ta",), identity=False),
)

WCDMA: tuple[FieldSpec, ...] = (
    *_PLMN,
    FieldSpec("ci"),
    FieldSpec("lac"),
    FieldSpec("psc"),
    FieldSpec("uarfcn", aliases=("channel",)),
    FieldSpec("band"),
    FieldSpec("bandName"),
    _STATUS_FIELD,
    FieldSpec("rssi", accept=(-113, -51), obs="rssi", identity=False),
    FieldSpec("rscp", accept=(-119, -25), identity=False),
    FieldSpec("ecNo", aliases=("ecno",), accept=(-23, 1), identity=False),
    FieldSpec("bitErrorRate", aliases=("ber",), identity=False),
)

GSM: tuple[FieldSpec, ...] = (
    *_PLMN,
    FieldSpec("cid", aliases=("ci",)),
    FieldSpec("lac"),
    FieldSpec("bsic"),
    FieldSpec("arfcn", aliases=("channel",)),
    FieldSpec("bandName"),
    _STATUS_FIELD,
    FieldSpec("rssi", accept=(-113, -40), obs="rssi", identity=False),
    FieldSpec("bitErrorRate", aliases=("ber",), identity=False),
    FieldSpec("timingAdvance", aliases=("ta",), accept=(0, 219), identity=False),
)


@dataclass(frozen=True, slots=True)
class Rat:
    """How one radio technology maps onto its model and its twin key."""

    name: str
    model: str
    source_type: str
    cell_id: str
    channel: str
    physical: str
    table: tuple[FieldSpec, ...]


RATS: dict[str, Rat] = {
    "lte": Rat("lte", "LteCell", "lteCell", "eci", "earfcn", "pci", LTE),
    "nr": Rat("nr", "NrCell", "nrCell", "nci", "nrArfcn", "pci", NR),
    "wcdma": Rat("wcdma", "WcdmaCell", "wcdmaCell", "ci", "uarfcn", "psc", WCDMA),
    "gsm": Rat("gsm", "GsmCell", "gsmCell", "cid", "arfcn", "bsic", GSM),
}
_RAT_ALIASES = {
    "umts": "wcdma",
    "hspa": "wcdma",
    "5g": "nr",
    "4g": "lte",
    "3g": "wcdma",
    "2g": "gsm",
}


def cell_key(rat: str, values: dict[str, Any]) -> str | None:
    """The twin id of a cell from its checked identity values, or None."""
    spec = RATS[rat]
    cell_id = values.get(spec.cell_id)
    if cell_id is not None:
        mcc, mnc = values.get("mcc"), values.get("mnc")
        plmn = f"{mcc}{mnc}" if mcc is not None and mnc is not None else "x"
        return f"cell:{rat}-{plmn}-{cell_id}"
    channel, physical = values.get(spec.channel), values.get(spec.physical)
    if channel is not None and physical is not None:
        return f"cell:{rat}-ch{channel}-pci{physical}"
    return None


class CellProcessor(Processor):
    """The ``cell`` processor."""

    signal = SignalType.CELL
    member = "cells"

    def __init__(self, catalog: ModelCatalog, grader: Grader | None = None) -> None:
        super().__init__(catalog, grader)
        self._tables: dict[str, tuple[CheckedField, ...]] = {
            name: compile_table(catalog, rat.model, rat.table) for name, rat in RATS.items()
        }
        self._required = {name: required_of(catalog, rat.model) for name, rat in RATS.items()}

    def parse_body(self, payload: Any, envelope: Envelope, curated: Curated) -> None:
        for path, entry in entries(payload, self.member, curated):
            raw_rat = str(entry.get("rat", entry.get("type", ""))).strip().lower()
            rat_name = _RAT_ALIASES.get(raw_rat, raw_rat)
            rat = RATS.get(rat_name)
            if rat is None:
                curated.issues.append(
                    Issue(
                        f"{path}/rat", entry.get("rat"), "unknown radio technology; entry dropped"
                    )
                )
                continue
            values = extract(entry, self._tables[rat_name], path, curated.issues)
            missing = [name for name in self._required[rat_name] if values.get(name) is None]
            key = cell_key(rat_name, values)
            if missing or key is None:
                why = (
                    f"{rat.model} requires {', '.join(missing)}"
                    if missing
                    else f"no global cell id ({rat.cell_id}) nor channel and {rat.physical}"
                )
                curated.issues.append(
                    Issue(path, None, f"cell not identifiable: {why}; entry dropped")
                )
                continue
            curated.readings.append(self._reading(rat, key, values))

    def _reading(self, rat: Rat, key: str, values: dict[str, Any]) -> Reading:
        identity: dict[str, Any] = {}
        metrics: dict[str, Any] = {}
        signal: dict[str, Any] = {}
        for spec in rat.table:
            name = spec.prop or spec.key
            if name not in values:
                continue
            if spec.identity:
                if values[name] is not None:
                    identity[name] = values[name]
            else:
                signal[name] = values[name]
                if spec.obs is not None:
                    metrics[spec.obs] = values[name]
        ta = signal.get("timingAdvance")
        if ta is not None and rat.name in _TA_METRES:
            metrics["distance"] = round(ta * _TA_METRES[rat.name], 2)
        level, quality = self.grader.grade(rat.name, signal)
        return Reading(key, rat.source_type, rat.model, identity, metrics, level, quality, signal)

    @classmethod
    def schema_defs(cls, catalog: ModelCatalog) -> dict[str, Any]:
        variants = []
        for rat in RATS.values():
            schema = table_schema(
                catalog, rat.model, rat.table, {"rat": {"const": rat.name}}, ("rat",)
            )
            schema["properties"]["connectionStatus"] = {
                "enum": ["primary", "secondary", "neighbour", None]
            }
            schema["properties"]["bandwidthKhz"] = {
                "type": ["number", "null"],
                "x-unit": "kHz",
                "description": "Android's bandwidth in kHz; converted to MHz.",
            }
            variants.append(schema)
        return {"cell": {"oneOf": variants}}
