"""Device records: the versioned envelope, and what a processor makes of one.

A record is one JSON object per telemetry message (schema in docs/mqtt.md)::

    {"schema": "ndtwin/1", "deviceId": "phone-7", "seq": 42, "ts": 1732212345123,
     "device": {...}, "cells": [...] | "wifi": [...] | "ble": [...] | "env": {...} | "loc": {...}}

``ts`` is wall-clock milliseconds since the Unix epoch (scan times relative to boot are
the device's to convert, notes §2). :func:`parse_envelope` checks the envelope and
raises :class:`Rejected` with every reason found; processors turn the payload into a
:class:`Curated` record: cleaned readings with nulls where values were out of range
(each listed as an :class:`Issue`), a level and a quality label per reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.mqtt.schema import SCHEMA_VERSION
from adapters.mqtt.topics import SignalType, TopicTarget

__all__ = [
    "MAX_RECORD_BYTES",
    "Curated",
    "Envelope",
    "Issue",
    "Reading",
    "Rejected",
    "SensorReading",
    "parse_envelope",
]

#: Larger payloads are rejected before parsing (a phone scan is about 5 kB).
MAX_RECORD_BYTES = 256 * 1024
_MIN_TS_MS = 946_684_800_000  # 2000-01-01: anything earlier is a since-boot time stamp


class Rejected(Exception):
    """A record that cannot be used at all; ``reasons`` says why (for the dead letter)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class Issue:
    """A value the processor set to null or dropped: where, what it was, and why."""

    path: str
    value: Any
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "value": self.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed record: its topic coordinates, time (seconds), sequence number and body."""

    tenant: str
    device: str
    signal: SignalType
    ts: float
    seq: int | None
    body: dict[str, Any]


@dataclass(slots=True)
class Reading:
    """One source heard by the device, ready for the twin controller.

    ``identity`` holds the source twin's attributes (model property names), ``metrics``
    the Observation properties of the device->source relationship.
    """

    source_id: str
    source_type: str
    model: str
    identity: dict[str, Any]
    metrics: dict[str, Any]
    level: int
    quality: str | None
    #: Every checked signal field by SDF property name (for the curated record).
    signal: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sourceId": self.source_id,
            "sourceType": self.source_type,
            "model": self.model,
            "identity": self.identity,
            "signal": self.signal,
            "metrics": self.metrics,
            "level": self.level,
            "quality": self.quality,
        }


@dataclass(slots=True)
class SensorReading:
    """Environmental values for a sensor twin (EnvironmentSensor attributes)."""

    sensor_id: str
    attributes: dict[str, Any]


@dataclass(slots=True)
class Curated:
    """What a processor keeps of a record; published on the curated topic as JSON."""

    envelope: Envelope
    readings: list[Reading] = field(default_factory=list)
    device: dict[str, Any] = field(default_factory=dict)
    sensor: SensorReading | None = None
    issues: list[Issue] = field(default_factory=list)
    #: Set by the signal handler when every reading repeats one already taken.
    duplicate: bool = False

    @property
    def tenant(self) -> str:
        return self.envelope.tenant

    @property
    def device_id(self) -> str:
        return self.envelope.device

    @property
    def ts(self) -> float:
        return self.envelope.ts

    @property
    def has_content(self) -> bool:
        return bool(self.readings or self.device or self.sensor)

    def to_json(self) -> dict[str, Any]:
        env = self.envelope
        out: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "deviceId": env.device,
            "signal": str(env.signal),
            "ts": round(env.ts * 1000, 3),
            "seq": env.seq,
            "readings": [r.to_json() for r in self.readings],
        }
        if self.device:
            out["device"] = self.device
        if self.sensor is not None:
            out["sensor"] = {"sensorId": self.sensor.sensor_id, **self.sensor.attributes}
        out["issues"] = [i.to_json() for i in self.issues]
        return out


def parse_envelope(target: TopicTarget, payload: bytes, now: float, max_skew_s: float) -> Envelope:
    """Check the envelope of a telemetry payload; raise `Rejected` with every reason."""
    assert target.signal is not None
    if len(payload) > MAX_RECORD_BYTES:
        raise Rejected([f"payload of {len(payload)} bytes exceeds {MAX_RECORD_BYTES}"])
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejected([f"malformed JSON: {exc}"]) from None
    if not isinstance(body, dict):
        raise Rejected([f"a record must be a JSON object, not {type(body).__name__}"])
    reasons: list[str] = []
    schema = body.get("schema")
    if schema != SCHEMA_VERSION:
        reasons.append(f"schema must be {SCHEMA_VERSION!r}, got {schema!r}")
    device = body.get("deviceId", target.device)
    if device != target.device:
        reasons.append(f"deviceId {device!r} differs from the topic's {target.device!r}")
    seq = body.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 0):
        reasons.append(f"seq must be a non-negative integer, got {seq!r}")
        seq = None
    ts = body.get("ts")
    ts_s = 0.0
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        reasons.append(f"ts must be epoch milliseconds, got {ts!r}")
    elif ts < _MIN_TS_MS:
        reasons.append(f"ts {ts} is before 2000-01-01 (a since-boot time?)")
    elif ts / 1000.0 > now + max_skew_s:
        reasons.append(f"ts {ts} lies more than {max_skew_s:g} s in the future")
    else:
        ts_s = ts / 1000.0
    member = _MEMBERS[target.signal]
    if member not in body:
        reasons.append(f"a {target.signal} record needs a '{member}' member")
    if reasons:
        raise Rejected(reasons)
    return Envelope(target.tenant, target.device, target.signal, ts_s, seq, body)


_MEMBERS = {
    SignalType.CELL: "cells",
    SignalType.WIFI: "wifi",
    SignalType.BLE: "ble",
    SignalType.ENV: "env",
    SignalType.LOC: "loc",
}
