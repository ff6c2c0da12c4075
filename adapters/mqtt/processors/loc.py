"""Location fixes: WGS 84 position, accuracy, floor and zone of the reporting device."""

from __future__ import annotations

from typing import Any

from adapters.mqtt.levels import Grader
from adapters.mqtt.processors.base import Processor
from adapters.mqtt.records import Curated, Envelope, Issue, Rejected
from adapters.mqtt.schema import Bounds, property_schema
from adapters.mqtt.topics import SignalType
from server.core.catalog import ModelCatalog

__all__ = ["LocProcessor"]

_ALIASES = {
    "lat": ("latitude",),
    "lon": ("lng", "longitude"),
    "accuracy": ("acc",),
    "floor": (),
    "zone": (),
}


class LocProcessor(Processor):
    """The ``loc`` processor: updates the device twin's ``location``."""

    signal = SignalType.LOC
    member = "loc"

    def __init__(self, catalog: ModelCatalog, grader: Grader | None = None) -> None:
        super().__init__(catalog, grader)
        node = _location_node(catalog)
        self._required = tuple(node.get("required", ()))
        self._bounds = {
            name: Bounds(
                sub.get("type", "number"),
                sub.get("minimum"),
                sub.get("maximum"),
                min_length=sub.get("minLength"),
                max_length=sub.get("maxLength"),
            )
            for name, sub in node["properties"].items()
        }

    def parse_body(self, payload: Any, envelope: Envelope, curated: Curated) -> None:
        if not isinstance(payload, dict):
            raise Rejected(["'loc' must be an object"])
        location: dict[str, Any] = {}
        for name, bounds in self._bounds.items():
            for key in (name, *_ALIASES.get(name, ())):
                if key in payload and payload[key] is not None:
                    value, reason = bounds.check(payload[key])
                    if reason is not None:
                        curated.issues.append(Issue(f"/loc/{key}", payload[key], reason))
                    else:
                        location[name] = value
                    break
        missing = [n for n in self._required if n not in location]
        if missing:
            curated.issues.append(
                Issue("/loc", None, f"location needs {', '.join(missing)}; fix dropped")
            )
            return
        curated.device["location"] = location

    @classmethod
    def schema_defs(cls, catalog: ModelCatalog) -> dict[str, Any]:
        return {"loc": property_schema(_location_node(catalog))}


def _location_node(catalog: ModelCatalog) -> dict[str, Any]:
    entry = catalog.by_name("EndDevice")
    assert entry is not None, "the EndDevice model is needed"
    node = entry.node["sdfProperty"]["location"]
    assert isinstance(node, dict)
    return node
