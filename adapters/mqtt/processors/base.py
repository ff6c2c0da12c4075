"""What every signal processor shares: field descriptions, their checks, the base class.

A processor is a Ditto-style payload mapper (style notes §2.8): it turns the payload of
one signal type into readings for the twin controller. Its fields are declared in a
description table of :class:`FieldSpec` rows (record key, SDF property, aliases, unit
conversion, accepted range); the checks come from the SDF model the property belongs to
(:mod:`adapters.mqtt.schema`), narrowed where netmonster-core accepts less (notes §1).
A value that fails its check becomes null and an :class:`Issue` says why; an entry whose
identity is incomplete is dropped with an issue; the adapter never raises on input
beyond :class:`Rejected`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from adapters.mqtt.levels import Grader
from adapters.mqtt.records import Curated, Envelope, Issue, Rejected
from adapters.mqtt.schema import Bounds, bounds_of, object_schema
from adapters.mqtt.topics import SignalType
from server.core.catalog import ModelCatalog

__all__ = ["CheckedField", "FieldSpec", "Processor", "device_fields", "extract", "required_of"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One row of a processor's description table.

    ``key`` is the record member (normally the SDF property name), ``prop`` the SDF
    property whose data qualities check it (default: ``key``), ``aliases`` other
    spellings accepted on input (Android names), ``convert`` a unit normalisation applied
    before the check, ``accept`` a narrower (low, high) range, ``markers`` values that
    mean "not available" (nulled with that reason), ``obs`` the Observation property a
    metric feeds, and ``identity`` whether the value belongs on the source twin.
    """

    key: str
    prop: str | None = None
    aliases: tuple[str, ...] = ()
    convert: Callable[[Any], Any] | None = None
    accept: tuple[float | None, float | None] | None = None
    markers: tuple[Any, ...] = ()
    obs: str | None = None
    identity: bool = True


@dataclass(frozen=True, slots=True)
class CheckedField:
    """A description row with the bounds read from its model."""

    spec: FieldSpec
    bounds: Bounds


def compile_table(
    catalog: ModelCatalog, model: str, table: Sequence[FieldSpec]
) -> tuple[CheckedField, ...]:
    out = []
    for spec in table:
        bounds = bounds_of(catalog, model, spec.prop or spec.key)
        if spec.accept is not None:
            bounds = bounds.narrowed(*spec.accept)
        out.append(CheckedField(spec, bounds))
    return tuple(out)


def extract(
    entry: Mapping[str, Any], table: Sequence[CheckedField], path: str, issues: list[Issue]
) -> dict[str, Any]:
    """Checked values of ``entry`` by SDF property name; rejected ones are None + issue."""
    out: dict[str, Any] = {}
    for checked in table:
        spec = checked.spec
        raw: Any = None
        found = None
        for key in (spec.key, *spec.aliases):
            if key in entry:
                raw, found = entry[key], key
                break
        if found is None or raw is None:
            continue
        name = spec.prop or spec.key
        if raw in spec.markers and not isinstance(raw, bool):
            out[name] = None
            issues.append(Issue(f"{path}/{found}", raw, "not-available marker"))
            continue
        value = raw
        if spec.convert is not None:
            try:
                value = spec.convert(raw)
            except (TypeError, ValueError, KeyError, ArithmeticError):
                out[name] = None
                issues.append(Issue(f"{path}/{found}", raw, "cannot be converted"))
                continue
        value, reason = checked.bounds.check(value)
        if reason is not None:
            issues.append(Issue(f"{path}/{found}", raw, reason))
        out[name] = value
    return out


def required_of(catalog: ModelCatalog, model: str) -> tuple[str, ...]:
    """Properties a twin of ``model`` must carry (its sdfRequired, by name)."""
    entry = catalog.by_name(model)
    if entry is None:
        return ()
    names = []
    for item in entry.node.get("sdfRequired", []):
        if isinstance(item, str):
            names.append(item.rsplit("/", 1)[-1])
    return tuple(names)


#: Identity fields of the reporting device (EndDevice), accepted in any record.
DEVICE_TABLE: tuple[FieldSpec, ...] = (
    FieldSpec("deviceClass", aliases=("class",)),
    FieldSpec("model"),
    FieldSpec("manufacturer"),
    FieldSpec("osName"),
    FieldSpec("osVersion"),
    FieldSpec("apiLevel"),
    FieldSpec("appVersion"),
    FieldSpec("batteryLevel", aliases=("battery",)),
    FieldSpec("charging"),
    FieldSpec("reportingInterval"),
)


def device_fields(catalog: ModelCatalog) -> tuple[CheckedField, ...]:
    return compile_table(catalog, "EndDevice", DEVICE_TABLE)


class Processor:
    """Maps the payload of one signal type; subclasses set ``signal`` and ``parse_body``."""

    signal: ClassVar[SignalType]
    #: Record member that carries this signal's payload.
    member: ClassVar[str]

    def __init__(self, catalog: ModelCatalog, grader: Grader | None = None) -> None:
        self.catalog = catalog
        self.grader = grader or Grader()
        self._device = device_fields(catalog)

    def process(self, envelope: Envelope) -> Curated:
        """The curated record; raises `Rejected` when nothing usable is left."""
        curated = Curated(envelope)
        device = envelope.body.get("device")
        if device is not None:
            if isinstance(device, dict):
                values = extract(device, self._device, "/device", curated.issues)
                curated.device.update({k: v for k, v in values.items() if v is not None})
            else:
                curated.issues.append(Issue("/device", device, "not an object; ignored"))
        self.parse_body(envelope.body[self.member], envelope, curated)
        if not curated.has_content:
            reasons = [f"{i.path}: {i.reason}" for i in curated.issues] or [
                f"the '{self.member}' member holds nothing usable"
            ]
            raise Rejected(reasons)
        return curated

    def parse_body(self, payload: Any, envelope: Envelope, curated: Curated) -> None:
        raise NotImplementedError

    @classmethod
    def schema_defs(cls, catalog: ModelCatalog) -> dict[str, Any]:
        """JSON Schema definitions of this processor's record member."""
        raise NotImplementedError


def entries(payload: Any, member: str, curated: Curated) -> list[tuple[str, dict[str, Any]]]:
    """The object entries of an array member, with their pointers; others become issues."""
    if not isinstance(payload, list):
        raise Rejected([f"'{member}' must be an array"])
    out = []
    for index, entry in enumerate(payload):
        path = f"/{member}/{index}"
        if isinstance(entry, dict):
            out.append((path, entry))
        else:
            curated.issues.append(Issue(path, entry, "not an object; dropped"))
    return out


def table_schema(
    catalog: ModelCatalog,
    model: str,
    table: Sequence[FieldSpec],
    extra: dict[str, Any] | None = None,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Object schema of a table's record keys and aliases, typed by their SDF properties;
    not-available markers are listed as accepted values (they are nulled on input)."""
    names = {key: spec.prop or spec.key for spec in table for key in (spec.key, *spec.aliases)}
    schema = object_schema(catalog, model, names, extra, required)
    for spec in table:
        if spec.markers:
            for key in (spec.key, *spec.aliases):
                schema["properties"][key]["anyOf"].append(
                    {"enum": list(spec.markers), "description": "not available"}
                )
    return schema
