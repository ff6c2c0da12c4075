"""A simulated campus floor: cells, access points, beacons, sensors and walking phones.

``ndtwin simulate campus`` publishes what the phones and sensors of one floor would
report. The floor is 120 m x 60 m; LTE and NR cells stand on masts a few hundred metres
away, Wi-Fi access points and BLE beacons on a grid inside, an environmental sensor in
every room. Phones walk between random waypoints at 0.8-1.6 m/s; their RSRP, RSRQ,
SINR and RSSI follow from path loss, shadowing and fading (:mod:`adapters.mqtt.radio`)
and stay within the 3GPP reporting ranges. Room CO2 and occupancy follow a working-day
cycle. ``bad_fraction`` replaces that share of records with malformed JSON, values
outside the ranges, or envelopes that break the rules, so the dead-letter path is
exercised. Everything is seeded: the same seed gives the same floor and the same walk.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.mqtt.radio import BLE_LOSS, CELL_LOSS, NOISE_DBM_HZ, WIFI_LOSS, Link, clip
from adapters.mqtt.schema import SCHEMA_VERSION
from adapters.mqtt.topics import SignalType, TopicScheme

__all__ = ["Campus", "Emission", "Phone"]

WIDTH_M, DEPTH_M = 120.0, 60.0
#: Origin of the floor plan (south-west corner), WGS 84.
ORIGIN = (60.2049, 24.9612)
_M_PER_DEG_LAT = 111_320.0
#: Test network PLMN (ITU-T E.212 reserves MCC 001 for tests).
MCC, MNC = "001", "01"


@dataclass(frozen=True, slots=True)
class Emission:
    """One message to publish: topic, payload, whether it is a deliberate bad one."""

    topic: str
    payload: bytes
    bad: bool = False
    retain: bool = False


@dataclass(slots=True)
class Cell:
    rat: str
    eci: int
    pci: int
    channel: int
    x: float
    y: float
    tx_dbm: float
    tac: int = 1201


@dataclass(slots=True)
class AccessPoint:
    bssid: str
    ssid: str
    frequency: int
    x: float
    y: float
    tx_dbm: float = 20.0


@dataclass(slots=True)
class Beacon:
    address: str
    x: float
    y: float
    major: int
    minor: int
    tx_dbm: float = -4.0
    measured_power: int = -59


@dataclass(slots=True)
class Room:
    sensor_id: str
    x: float
    y: float
    capacity: int


@dataclass(slots=True)
class Phone:
    device_id: str
    x: float
    y: float
    speed: float
    target: tuple[float, float]
    links: dict[str, Link] = field(default_factory=dict)
    moved: float = 0.0
    seq: int = 0


def _mac(rng: random.Random) -> str:
    # Locally administered unicast (bit 1 of the first octet set, bit 0 clear).
    first = (rng.randrange(256) | 0x02) & 0xFE
    return ":".join(f"{b:02x}" for b in [first, *(rng.randrange(256) for _ in range(5))])


def _lat_lon(x: float, y: float) -> tuple[float, float]:
    lat = ORIGIN[0] + y / _M_PER_DEG_LAT
    lon = ORIGIN[1] + x / (_M_PER_DEG_LAT * math.cos(math.radians(ORIGIN[0])))
    return round(lat, 7), round(lon, 7)


class Campus:
    """The floor and its population; :meth:`tick` yields the messages of one scan."""

    def __init__(
        self,
        devices: int,
        tenant: str,
        seed: int = 1,
        bad_fraction: float = 0.0,
        topics: TopicScheme | None = None,
        device_prefix: str = "phone",
    ) -> None:
        if not 0 <= bad_fraction <= 1:
            raise ValueError("bad_fraction must be within 0..1")
        self.rng = random.Random(seed)
        self.tenant = tenant
        self.topics = topics or TopicScheme()
        self.bad_fraction = bad_fraction
        rng = self.rng
        self.cells = [
            Cell("lte", 0x1A2B300 + i, 100 + i, 6300, x, y, 46.0)
            for i, (x, y) in enumerate([(-250.0, 30.0), (380.0, -120.0), (60.0, 520.0)])
        ] + [
            Cell("nr", 0x3C4D50001 + i, 400 + i, 636666, x, y, 43.0)
            for i, (x, y) in enumerate([(-150.0, -80.0), (300.0, 200.0)])
        ]
        self.aps = [
            AccessPoint(
                _mac(rng),
                "campus",
                2412 + 25 * (i % 3) if i % 2 else 5180 + 20 * (i % 4),
                15.0 + 30.0 * (i % 4),
                15.0 + 30.0 * (i // 4),
            )
            for i in range(8)
        ]
        self.beacons = [
            Beacon(_mac(rng), 10.0 + 25.0 * (i % 5), 12.0 + 36.0 * (i // 5), major=1, minor=i)
            for i in range(10)
        ]
        self.rooms = [
            Room(f"room-{i + 1}", 20.0 + 40.0 * (i % 3), 15.0 + 30.0 * (i // 3), capacity=8 + 4 * i)
            for i in range(6)
        ]
        self.phones = [self._phone(f"{device_prefix}-{i:04d}") for i in range(devices)]
        self._co2 = {room.sensor_id: 450.0 for room in self.rooms}

    def _phone(self, device_id: str) -> Phone:
        rng = self.rng
        return Phone(
            device_id,
            rng.uniform(0, WIDTH_M),
            rng.uniform(0, DEPTH_M),
            rng.uniform(0.8, 1.6),
            (rng.uniform(0, WIDTH_M), rng.uniform(0, DEPTH_M)),
        )

    # -- motion ------------------------------------------------------------------------
    def _walk(self, phone: Phone, dt: float) -> None:
        tx, ty = phone.target
        dx, dy = tx - phone.x, ty - phone.y
        dist = math.hypot(dx, dy)
        step = phone.speed * dt
        if dist <= step:
            phone.x, phone.y = tx, ty
            phone.target = (self.rng.uniform(0, WIDTH_M), self.rng.uniform(0, DEPTH_M))
            phone.moved = dist
        else:
            phone.x += dx / dist * step
            phone.y += dy / dist * step
            phone.moved = step

    def _rx(self, phone: Phone, key: str, model: Any, x: float, y: float, tx: float) -> float:
        link = phone.links.get(key)
        if link is None:
            link = phone.links[key] = Link(model, random.Random(f"{phone.device_id}/{key}"))
        distance = math.hypot(phone.x - x, phone.y - y) + 1.0
        return tx - link.gain(distance, phone.moved)

    # -- scans -------------------------------------------------------------------------
    def cell_scan(self, phone: Phone) -> list[dict[str, Any]]:
        # Per resource element: 46 dBm over 1200 subcarriers of LTE 20 MHz.
        re_offset = 10 * math.log10(1200)
        powers = [
            (
                cell,
                self._rx(phone, f"cell{cell.eci}", CELL_LOSS, cell.x, cell.y, cell.tx_dbm)
                - re_offset,
            )
            for cell in self.cells
        ]
        noise = NOISE_DBM_HZ + 10 * math.log10(15_000) + 7  # one subcarrier, 7 dB NF
        entries = []
        by_rat: dict[str, list[tuple[Cell, float]]] = {}
        for cell, rsrp in powers:
            by_rat.setdefault(cell.rat, []).append((cell, rsrp))
        for rat, measured in by_rat.items():
            measured.sort(key=lambda cr: cr[1], reverse=True)
            linear = [10 ** (p / 10) for _, p in measured]
            for index, (cell, rsrp) in enumerate(measured):
                others = sum(linear) - linear[index]
                sinr = 10 * math.log10(linear[index] / (others + 10 ** (noise / 10)))
                # RSRQ = N * RSRP / RSSI with RSSI over 12 subcarriers per RB, both ports.
                rssi_re = sum(linear) + 10 ** (noise / 10)
                rsrq = 10 * math.log10(linear[index] / (12 * rssi_re)) + 10 * math.log10(6)
                status = "primary" if index == 0 else "neighbour"
                if rat == "nr" and index == 0 and "lte" in by_rat:
                    status = "secondary"  # NR non-standalone leg
                entry: dict[str, Any] = {"rat": rat, "connectionStatus": status, "pci": cell.pci}
                if status != "neighbour":
                    entry.update({"mcc": MCC, "mnc": MNC, "tac": cell.tac})
                if rat == "lte":
                    entry.update(
                        {
                            "eci": cell.eci,
                            "earfcn": cell.channel,
                            "rsrp": clip(rsrp, -140, -44),
                            "rsrq": clip(rsrq, -19.5, -3, 0.5),
                            "snr": clip(sinr, -19.5, 30, 0.5),
                        }
                    )
                    if status == "primary":
                        entry["rssi"] = clip(10 * math.log10(rssi_re * 12 * 100), -113, -51)
                else:
                    entry.update(
                        {
                            "nci": cell.eci,
                            "nrArfcn": cell.channel,
                            "ssRsrp": clip(rsrp, -140, -44),
                            "ssRsrq": clip(rsrq, -20, -3, 0.5),
                            "ssSinr": clip(sinr, -23, 23, 0.5),
                        }
                    )
                entries.append(entry)
        return entries

    def wifi_scan(self, phone: Phone) -> list[dict[str, Any]]:
        out = []
        for ap in self.aps:
            level = self._rx(phone, f"ap{ap.bssid}", WIFI_LOSS, ap.x, ap.y, ap.tx_dbm)
            if level < -95:
                continue  # below sensitivity: not in the scan
            out.append(
                {
                    "bssid": ap.bssid,
                    "ssid": ap.ssid,
                    "frequency": ap.frequency,
                    "channelWidth": 1 if ap.frequency > 5000 else 0,
                    "wifiStandard": 6,
                    "capabilities": "[WPA2-PSK-CCMP][RSN-PSK-CCMP][ESS]",
                    "level": int(clip(level, -100, -20)),
                }
            )
        return out

    def ble_scan(self, phone: Phone) -> list[dict[str, Any]]:
        out = []
        for beacon in self.beacons:
            rssi = self._rx(
                phone, f"ble{beacon.address}", BLE_LOSS, beacon.x, beacon.y, beacon.tx_dbm
            )
            if rssi < -100:
                continue
            out.append(
                {
                    "address": beacon.address,
                    "rssi": int(clip(rssi, -127, 20)),
                    "txPower": 127,
                    "measuredPower": beacon.measured_power,
                    "companyId": 76,
                    "major": beacon.major,
                    "minor": beacon.minor,
                    "connectable": False,
                }
            )
        return out

    def room_reading(self, room: Room, now: float, dt: float) -> dict[str, Any]:
        hour = time.gmtime(now).tm_hour + time.gmtime(now).tm_min / 60
        busy = 0.85 if 9 <= hour < 17 and time.gmtime(now).tm_wday < 5 else 0.05
        occupants = sum(1 for _ in range(room.capacity) if self.rng.random() < busy * 0.6)
        # CO2 mass balance: each occupant adds ~0.3 ppm/s in a 150 m3 room; ventilation
        # pulls towards 420 ppm with a 30-minute time constant.
        co2 = self._co2[room.sensor_id]
        co2 += dt * (occupants * 0.3 - (co2 - 420.0) / 1800.0)
        self._co2[room.sensor_id] = co2
        return {
            "sensorId": room.sensor_id,
            "co2": round(co2, 1),
            "temperature": round(
                21.0 + 1.5 * math.sin((hour - 9) / 24 * 2 * math.pi) + 0.08 * occupants, 2
            ),
            "humidity": round(35.0 + 0.5 * occupants, 1),
            "illuminance": round(max(0.0, 500 * math.sin((hour - 6) / 12 * math.pi)), 1)
            if 6 <= hour <= 18
            else 0.0,
            "motion": occupants > 0,
            "occupantCount": occupants,
            "occupancy": "occupied" if occupants else "vacant",
        }

    # -- records -----------------------------------------------------------------------
    def _record(self, device: str, seq: int, ts_ms: int, member: str, value: Any) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "deviceId": device,
            "seq": seq,
            "ts": ts_ms,
            member: value,
        }

    def _bad(self, record: dict[str, Any], signal: SignalType) -> bytes:
        kind = self.rng.randrange(4)
        if kind == 0:
            return orjson.dumps(record)[:-7] + b"{,"  # malformed JSON
        if kind == 1:
            record = dict(record)
            record["schema"] = "ndtwin/0"
            return orjson.dumps(record)
        if kind == 2:
            record = dict(record)
            record["ts"] = 12_345  # a since-boot time stamp
            return orjson.dumps(record)
        # Out-of-range values: nulled with a reason, the record itself is kept.
        record = orjson.loads(orjson.dumps(record))
        for entry in record.get("cells", []):
            entry["rsrp"], entry["rsrq"] = -171, 11
        for entry in record.get("wifi", []) + record.get("ble", []):
            entry["level" if "level" in entry else "rssi"] = -127
        if signal is SignalType.ENV:
            record["env"]["co2"] = -5
        return orjson.dumps(record)

    def births(self) -> Iterator[Emission]:
        """Retained ``online`` status and meta of every device."""
        for phone in self.phones:
            yield Emission(
                self.topics.status(self.tenant, phone.device_id),
                orjson.dumps({"state": "online", "ts": int(time.time() * 1000)}),
                retain=True,
            )
            yield Emission(
                self.topics.meta(self.tenant, phone.device_id),
                orjson.dumps(
                    {
                        "deviceClass": "phone",
                        "model": "SimPhone 1",
                        "manufacturer": "ndtwin",
                        "osName": "Android",
                        "apiLevel": 34,
                    }
                ),
                retain=True,
            )
        for room in self.rooms:
            yield Emission(
                self.topics.status(self.tenant, room.sensor_id),
                orjson.dumps({"state": "online", "ts": int(time.time() * 1000)}),
                retain=True,
            )

    def deaths(self) -> Iterator[Emission]:
        for device in [p.device_id for p in self.phones] + [r.sensor_id for r in self.rooms]:
            yield Emission(
                self.topics.status(self.tenant, device),
                orjson.dumps(
                    {"state": "offline", "reason": "clean", "ts": int(time.time() * 1000)}
                ),
                retain=True,
            )

    def tick(
        self, now: float, dt: float, signals: tuple[SignalType, ...] = tuple(SignalType)
    ) -> Iterator[Emission]:
        """Move everyone by ``dt`` seconds and yield the records of this scan."""
        ts_ms = int(now * 1000)
        for phone in self.phones:
            self._walk(phone, dt)
            lat, lon = _lat_lon(phone.x, phone.y)
            scans = {
                SignalType.CELL: ("cells", self.cell_scan),
                SignalType.WIFI: ("wifi", self.wifi_scan),
                SignalType.BLE: ("ble", self.ble_scan),
            }
            for signal in signals:
                if signal is SignalType.ENV:
                    continue
                phone.seq += 1
                value: Any
                if signal is SignalType.LOC:
                    member, value = "loc", {"lat": lat, "lon": lon, "accuracy": 3.0, "floor": 0}
                else:
                    member, scan = scans[signal]
                    value = scan(phone)
                record = self._record(phone.device_id, phone.seq, ts_ms, member, value)
                yield self._emit(phone.device_id, signal, record)
        if SignalType.ENV in signals:
            for room in self.rooms:
                record = self._record(
                    room.sensor_id, 0, ts_ms, "env", self.room_reading(room, now, dt)
                )
                yield self._emit(room.sensor_id, SignalType.ENV, record)

    def _emit(self, device: str, signal: SignalType, record: dict[str, Any]) -> Emission:
        topic = self.topics.telemetry(self.tenant, device, signal)
        if self.bad_fraction and self.rng.random() < self.bad_fraction:
            return Emission(topic, self._bad(record, signal), bad=True)
        return Emission(topic, orjson.dumps(record))
