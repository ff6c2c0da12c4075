"""Value checks and the record JSON Schema, both derived from the SDF models.

A processor's description table names, for each record field, the SDF property it
carries (``LteCell.rsrp``). :class:`Bounds` reads that property's data qualities
(type, minimum/maximum, enum or sdfChoice, pattern, length) from the resolved model, so
a value that passes the processor also passes the twin's validation on write, and
changing a range in ``models/sdf`` changes what the adapter accepts.
:func:`record_schema` assembles the JSON Schema of the device record (docs/mqtt.md)
from the same properties.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from server.core.catalog import ModelCatalog

__all__ = [
    "RECORD_SCHEMA_ID",
    "SCHEMA_VERSION",
    "Bounds",
    "bounds_of",
    "object_schema",
    "property_schema",
    "record_schema",
]

#: The value every record's ``schema`` member carries (major version 1).
SCHEMA_VERSION = "ndtwin/1"
RECORD_SCHEMA_ID = "https://w3id.org/ndtwin/schemas/device-record-1.json"

_JSON_TYPES = {"integer", "number", "string", "boolean", "array", "object"}


@dataclass(frozen=True, slots=True)
class Bounds:
    """The data qualities of one SDF property that a single value can be checked against."""

    type: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None

    def narrowed(self, low: float | None, high: float | None) -> Bounds:
        """These bounds with a narrower accepted range (netmonster-core's, notes §1)."""
        lo = (
            self.minimum if low is None else low if self.minimum is None else max(low, self.minimum)
        )
        hi = (
            self.maximum
            if high is None
            else high
            if self.maximum is None
            else min(high, self.maximum)
        )
        return Bounds(
            self.type,
            lo,
            hi,
            self.exclusive_minimum,
            self.exclusive_maximum,
            self.choices,
            self.pattern,
            self.min_length,
            self.max_length,
        )

    def check(self, value: Any) -> tuple[Any, str | None]:
        """``(value, None)`` when acceptable (ints widened to float where needed), else
        ``(None, reason)``."""
        if self.type in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, f"not a number: {value!r}"
            if isinstance(value, float) and not math.isfinite(value):
                return None, f"not a finite number: {value!r}"
            if self.type == "integer":
                if isinstance(value, float):
                    if not value.is_integer():
                        return None, f"not an integer: {value!r}"
                    value = int(value)
            else:
                value = float(value)
            if self.minimum is not None and value < self.minimum:
                return None, f"{value} is below the minimum {_num(self.minimum)}"
            if self.maximum is not None and value > self.maximum:
                return None, f"{value} is above the maximum {_num(self.maximum)}"
            if self.exclusive_minimum is not None and value <= self.exclusive_minimum:
                return None, f"{value} is not above {_num(self.exclusive_minimum)}"
            if self.exclusive_maximum is not None and value >= self.exclusive_maximum:
                return None, f"{value} is not below {_num(self.exclusive_maximum)}"
        elif self.type == "string":
            if not isinstance(value, str):
                return None, f"not a string: {value!r}"
            if self.min_length is not None and len(value) < self.min_length:
                return None, f"shorter than {self.min_length} characters"
            if self.max_length is not None and len(value) > self.max_length:
                return None, f"longer than {self.max_length} characters"
            if self.pattern is not None and re.search(self.pattern, value) is None:
                return None, f"{value!r} does not match {self.pattern}"
        elif self.type == "boolean" and not isinstance(value, bool):
            return None, f"not a boolean: {value!r}"
        if self.choices is not None and value not in self.choices:
            return None, f"{value!r} is not one of {', '.join(map(repr, self.choices))}"
        return value, None


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _choices(node: dict[str, Any]) -> tuple[Any, ...] | None:
    if isinstance(node.get("enum"), list):
        return tuple(node["enum"])
    choice = node.get("sdfChoice")
    if isinstance(choice, dict):
        return tuple(
            alt["const"] for alt in choice.values() if isinstance(alt, dict) and "const" in alt
        )
    return None


def _property(catalog: ModelCatalog, model: str, prop: str) -> dict[str, Any]:
    entry = catalog.by_name(model)
    if entry is None:
        raise KeyError(f"no model named {model!r}")
    node = entry.node.get("sdfProperty", {}).get(prop)
    if not isinstance(node, dict):
        raise KeyError(f"{model} has no property {prop!r}")
    return node


def bounds_of(catalog: ModelCatalog, model: str, prop: str) -> Bounds:
    """The checkable qualities of ``model.prop``; raises `KeyError` when absent."""
    node = _property(catalog, model, prop)
    kind = node.get("type", "string")
    return Bounds(
        kind,
        node.get("minimum"),
        node.get("maximum"),
        node.get("exclusiveMinimum"),
        node.get("exclusiveMaximum"),
        _choices(node),
        node.get("pattern"),
        node.get("minLength"),
        node.get("maxLength"),
    )


def property_schema(node: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON Schema (2020-12) of one resolved SDF data node."""
    out: dict[str, Any] = {}
    for key in (
        "description",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "minLength",
        "maxLength",
        "multipleOf",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
        "const",
        "default",
    ):
        if key in node:
            out[key] = node[key]
    if node.get("type") in _JSON_TYPES:
        out["type"] = node["type"]
    choices = _choices(node)
    if choices is not None:
        out["enum"] = list(choices)
    if "unit" in node:
        out["x-unit"] = node["unit"]
    if isinstance(node.get("items"), dict):
        out["items"] = property_schema(node["items"])
    if isinstance(node.get("properties"), dict):
        out["properties"] = {
            k: property_schema(v) for k, v in node["properties"].items() if isinstance(v, dict)
        }
        if node.get("required"):
            out["required"] = list(node["required"])
    return out


def object_schema(
    catalog: ModelCatalog,
    model: str,
    names: dict[str, str],
    extra: dict[str, Any] | None = None,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An object schema whose members are ``record key -> model property``; members may
    be null (the adapter nulls what it cannot accept)."""
    properties: dict[str, Any] = dict(extra or {})
    for key, prop in names.items():
        schema = property_schema(_property(catalog, model, prop))
        properties[key] = {"anyOf": [schema, {"type": "null"}]}
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


def record_schema(catalog: ModelCatalog) -> dict[str, Any]:
    """The JSON Schema of a device record, built from the models' property definitions."""
    from adapters.mqtt.processors import REGISTRY

    defs: dict[str, Any] = {}
    for processor in REGISTRY.values():
        defs.update(processor.schema_defs(catalog))
    device = object_schema(
        catalog,
        "EndDevice",
        {
            k: k
            for k in (
                "deviceClass",
                "model",
                "manufacturer",
                "osName",
                "osVersion",
                "apiLevel",
                "appVersion",
                "batteryLevel",
                "charging",
                "reportingInterval",
            )
        },
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": RECORD_SCHEMA_ID,
        "title": "ndtwin device record",
        "description": "One telemetry message on dt/v1/{tenant}/{deviceId}/tele/{signal}. "
        "The member named by the signal type carries the payload.",
        "type": "object",
        "required": ["schema", "ts"],
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "deviceId": {
                "type": "string",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
                "description": "Must equal the topic's device level.",
            },
            "seq": {"type": "integer", "minimum": 0, "description": "Per-device message counter."},
            "ts": {
                "type": "number",
                "minimum": 0,
                "x-unit": "ms",
                "description": "Wall-clock time of the scan, milliseconds since the Unix epoch.",
            },
            "device": device,
            "cells": {"type": "array", "maxItems": 64, "items": {"$ref": "#/$defs/cell"}},
            "wifi": {"type": "array", "maxItems": 256, "items": {"$ref": "#/$defs/wifi"}},
            "ble": {"type": "array", "maxItems": 256, "items": {"$ref": "#/$defs/ble"}},
            "env": {"$ref": "#/$defs/env"},
            "loc": {"$ref": "#/$defs/loc"},
        },
        "$defs": defs,
    }
