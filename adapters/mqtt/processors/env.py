"""Environmental readings: CO2, particles, climate, light, motion and occupancy.

The ``env`` member describes one sensor (``sensorId``, by default the publishing
device). Values go to that sensor's EnvironmentSensor twin (``sensor:{sensorId}``).
Units are normalised: pressure in hPa (below 2000) becomes Pa, occupancy given as a
boolean or 0/1 becomes ``occupied``/``vacant``.
"""

from __future__ import annotations

from typing import Any

from adapters.mqtt.levels import Grader
from adapters.mqtt.processors.base import (
    FieldSpec,
    Processor,
    compile_table,
    extract,
    table_schema,
)
from adapters.mqtt.records import Curated, Envelope, Issue, Rejected, SensorReading
from adapters.mqtt.topics import SignalType, TopicError, validate_segment
from server.core.catalog import ModelCatalog

__all__ = ["ENV", "EnvProcessor"]


def _pascal(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2000:
        return value * 100.0
    return value


def _occupancy(value: Any) -> Any:
    if isinstance(value, bool):
        return "occupied" if value else "vacant"
    if isinstance(value, int | float) and value in (0, 1):
        return "occupied" if value == 1 else "vacant"
    return value


ENV: tuple[FieldSpec, ...] = (
    FieldSpec("co2"),
    FieldSpec("pm25"),
    FieldSpec("pm10"),
    FieldSpec("temperature"),
    FieldSpec("humidity"),
    FieldSpec("pressure", convert=_pascal),
    FieldSpec("illuminance", aliases=("light",)),
    FieldSpec("motion"),
    FieldSpec("motionCount"),
    FieldSpec("occupancy", convert=_occupancy),
    FieldSpec("occupantCount"),
)


class EnvProcessor(Processor):
    """The ``env`` processor."""

    signal = SignalType.ENV
    member = "env"

    def __init__(self, catalog: ModelCatalog, grader: Grader | None = None) -> None:
        super().__init__(catalog, grader)
        self._table = compile_table(catalog, "EnvironmentSensor", ENV)

    def parse_body(self, payload: Any, envelope: Envelope, curated: Curated) -> None:
        if not isinstance(payload, dict):
            raise Rejected(["'env' must be an object"])
        sensor = payload.get("sensorId", envelope.device)
        try:
            validate_segment(sensor, "sensorId")
        except TopicError as exc:
            raise Rejected([f"/env/sensorId: {exc}"]) from None
        values = extract(payload, self._table, "/env", curated.issues)
        kept = {k: v for k, v in values.items() if v is not None}
        if not kept:
            curated.issues.append(Issue("/env", None, "no usable environmental value"))
            return
        curated.sensor = SensorReading(sensor, kept)

    @classmethod
    def schema_defs(cls, catalog: ModelCatalog) -> dict[str, Any]:
        schema = table_schema(
            catalog,
            "EnvironmentSensor",
            ENV,
            {
                "sensorId": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
                    "description": "The sensor; defaults to the publishing device.",
                }
            },
        )
        schema["properties"]["occupancy"]["anyOf"].append(
            {"enum": [True, False, 0, 1], "description": "Normalised to occupied/vacant."}
        )
        return {"env": schema}
