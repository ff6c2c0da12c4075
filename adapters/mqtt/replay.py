"""Replays of real data sets as device records (shared/datasets/SOURCE.md).

``5g-cork``: the G-NetTrack Pro drive and walk traces of Raca et al. (MMSys 2020), one
CSV per session, one row per second. Each session becomes one phone
(``cork-{file stem}``) and each row a ``cell`` record with the serving cell (and the NR
leg of a 5G non-standalone connection) plus a ``loc`` record with the GPS fix. Column
mapping: LTE and 5G rows give an LTE cell with ``eci`` = RAWCELLID, ``tac`` = LACHEX,
RSRP, RSRQ, SNR, CQI, RSSI; the NR leg has NRxRSRP/NRxRSRQ and no identity; HSPA+/UMTS
rows give a WCDMA cell (``ci`` = RAWCELLID, ``lac`` = LACHEX, RSCP and Ec/No from the
RSRP/RSRQ columns, as G-NetTrack reports them for 3G); GPRS/EDGE rows a GSM cell.
``-`` means missing and the member is left out. The operator is anonymised ("B"), so
most cells have no PLMN. Rows share one-second time stamps; repeated stamps are spread
100 ms apart so that each row stays a distinct observation.

``occupancy``: the UCI office-room series of Candanedo and Feldheim (2016), one row a
minute: Temperature, Humidity, Light, CO2 and Occupancy become an ``env`` record of the
sensor ``uci-office`` (HumidityRatio has no model property and is left out).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.mqtt.schema import SCHEMA_VERSION
from adapters.mqtt.topics import SignalType

__all__ = ["ReplayRecord", "cork_records", "cork_sessions", "occupancy_records"]

_3G = {"HSPA+", "UMTS", "HSUPA", "HSDPA", "HSPA"}
_2G = {"GPRS", "EDGE", "GSM"}


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One record to publish: device, signal type, record body, and where it came from."""

    device: str
    signal: SignalType
    record: dict[str, Any]
    source: str


def _num(text: str) -> float | int | None:
    text = text.strip()
    if text in ("", "-"):
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _hex(text: str) -> int | None:
    text = text.strip()
    if text in ("", "-"):
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def cork_sessions(path: str | Path) -> list[tuple[str, str]]:
    """(name, CSV text) of every session, sorted by name, from the zip or a folder."""
    root = Path(path)
    found: list[tuple[str, str]] = []
    if root.is_file() and zipfile.is_zipfile(root):
        with zipfile.ZipFile(root) as archive:
            for name in archive.namelist():
                if name.endswith(".csv") and "__MACOSX" not in name:
                    found.append((name, archive.read(name).decode("utf-8", "replace")))
    else:
        base = root if root.is_dir() else root.parent
        for file in base.rglob("*.csv"):
            if "__MACOSX" not in file.parts:
                found.append((str(file.relative_to(base)), file.read_text("utf-8", "replace")))
    if not found:
        raise FileNotFoundError(f"no 5G-cork CSV files under {path}")
    return sorted(found)


def _device_of(name: str) -> str:
    # Folder names (App/Static|Driving/Show) make the session unique; the file stem is
    # the start time.
    parts = Path(name).parts
    label = "-".join(p for p in parts[-3:-1] if p).replace(" ", "")
    stem = Path(name).stem
    device = f"cork-{label}-{stem}" if label else f"cork-{stem}"
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in device)[:128]


def cork_records(
    path: str | Path, sessions: int | None = None, rows: int | None = None
) -> Iterator[ReplayRecord]:
    """Records of the first ``sessions`` sessions, at most ``rows`` rows each."""
    for name, text in cork_sessions(path)[:sessions]:
        device = _device_of(name)
        previous = None
        repeat = 0
        for index, row in enumerate(csv.DictReader(io.StringIO(text))):
            if rows is not None and index >= rows:
                break
            stamp = row["Timestamp"].strip()
            try:
                when = datetime.strptime(stamp, "%Y.%m.%d_%H.%M.%S").replace(tzinfo=UTC)
            except ValueError:
                continue
            repeat = repeat + 1 if stamp == previous else 0
            previous = stamp
            ts = int(when.timestamp() * 1000) + 100 * min(repeat, 9)
            where = f"{name}:{index + 2}"
            cells = _cork_cells(row)
            if cells:
                yield ReplayRecord(
                    device,
                    SignalType.CELL,
                    {
                        "schema": SCHEMA_VERSION,
                        "deviceId": device,
                        "seq": index,
                        "ts": ts,
                        "cells": cells,
                    },
                    where,
                )
            lat, lon = _num(row.get("Latitude", "")), _num(row.get("Longitude", ""))
            if lat is not None and lon is not None:
                yield ReplayRecord(
                    device,
                    SignalType.LOC,
                    {
                        "schema": SCHEMA_VERSION,
                        "deviceId": device,
                        "seq": index,
                        "ts": ts,
                        "loc": {"lat": lat, "lon": lon},
                    },
                    where,
                )


def _cork_cells(row: dict[str, str]) -> list[dict[str, Any]]:
    mode = row.get("NetworkMode", "").strip()
    operator = row.get("Operatorname", "").strip()
    plmn: dict[str, Any] = {}
    if operator.isdigit() and len(operator) in (5, 6):
        plmn = {"mcc": operator[:3], "mnc": operator[3:]}
    raw_id = _num(row.get("RAWCELLID", ""))
    area = _hex(row.get("LACHEX", ""))
    metrics = {
        k: _num(row.get(c, ""))
        for k, c in (
            ("rsrp", "RSRP"),
            ("rsrq", "RSRQ"),
            ("snr", "SNR"),
            ("cqi", "CQI"),
            ("rssi", "RSSI"),
        )
    }
    cells: list[dict[str, Any]] = []
    if mode in ("LTE", "5G"):
        cell = {
            "rat": "lte",
            "connectionStatus": "primary",
            **plmn,
            "eci": raw_id,
            "tac": area,
            **metrics,
        }
        cells.append({k: v for k, v in cell.items() if v is not None})
        nr = {"ssRsrp": _num(row.get("NRxRSRP", "")), "ssRsrq": _num(row.get("NRxRSRQ", ""))}
        if mode == "5G" and any(v is not None for v in nr.values()):
            cells.append(
                {
                    "rat": "nr",
                    "connectionStatus": "secondary",
                    **{k: v for k, v in nr.items() if v is not None},
                }
            )
    elif mode in _3G:
        cell = {
            "rat": "wcdma",
            "connectionStatus": "primary",
            **plmn,
            "ci": raw_id,
            "lac": area,
            "rscp": metrics["rsrp"],
            "ecNo": metrics["rsrq"],
            "rssi": metrics["rssi"],
        }
        cells.append({k: v for k, v in cell.items() if v is not None})
    elif mode in _2G:
        cell = {
            "rat": "gsm",
            "connectionStatus": "primary",
            **plmn,
            "cid": _num(row.get("CellID", "")),
            "lac": area,
            "rssi": metrics["rssi"],
        }
        cells.append({k: v for k, v in cell.items() if v is not None})
    return cells


def occupancy_records(
    path: str | Path, rows: int | None = None, sensor: str = "uci-office"
) -> Iterator[ReplayRecord]:
    """Env records from one UCI occupancy file, or every ``*.txt`` file of a folder."""
    root = Path(path)
    files = sorted(root.glob("datat*.txt")) if root.is_dir() else [root]
    if not files:
        raise FileNotFoundError(f"no occupancy files under {path}")
    count = 0
    for file in files:
        with file.open(newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            # The header lacks the row-number column the data rows start with.
            columns = ["row", *header] if len(header) == 7 else header
            for values in reader:
                if rows is not None and count >= rows:
                    return
                row = dict(zip(columns, values, strict=False))
                when = datetime.strptime(row["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
                env: dict[str, Any] = {"sensorId": sensor}
                for key, column in (
                    ("temperature", "Temperature"),
                    ("humidity", "Humidity"),
                    ("illuminance", "Light"),
                    ("co2", "CO2"),
                ):
                    value = _num(row.get(column, ""))
                    if value is not None:
                        env[key] = float(value)
                occupied = _num(row.get("Occupancy", ""))
                if occupied is not None:
                    env["occupancy"] = int(occupied)
                yield ReplayRecord(
                    sensor,
                    SignalType.ENV,
                    {
                        "schema": SCHEMA_VERSION,
                        "deviceId": sensor,
                        "seq": count,
                        "ts": int(when.timestamp() * 1000),
                        "env": env,
                    },
                    f"{file.name}:{row.get('row', count)}",
                )
                count += 1
