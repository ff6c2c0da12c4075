"""Compile resolved SDF documents to JSON Schema 2020-12, one schema per twin type.

Each sdfObject and sdfThing (nested ones included) gets a schema of the
Ditto-shaped twin JSON whose ``definition`` names it: ``attributes`` are its
sdfProperties, and for an sdfThing ``features.<id>.properties`` are those of
the child in that feature slot (``twintypes``). The schemas read the same
``twintypes`` model as the SHACL compiler and decide exactly as the shapes do
under pyshacl on the projected twin; ``tests/server/modeling/
test_shacl_jsonschema_equivalence.py`` checks that on generated twins.

Where SHACL targets by class, JSON Schema has no equivalent: a feature whose
``definition`` array names a class is checked by that class's shapes wherever
the feature sits. Each schema therefore also carries ``$defs/feature``, the
schema of a feature (or a relationship) typed with its class, and
``TwinSchemas`` applies a twin's schema plus ``$defs/feature`` of every class
its features name, which is the whole decision SHACL makes.

Data qualities map one to one onto JSON Schema keywords; the exceptions are
ndtwin's: ``nullable`` (RFC 9880 §4.7.1, default true) becomes an ``anyOf``
with ``{"type": "null"}``, ``format`` becomes a ``pattern`` (JSON Schema only
annotates formats; the shapes enforce them), ``sdfChoice`` becomes ``anyOf``,
and qualities the shapes cannot enforce are left out with a ``$comment``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator

from server.modeling import pointers
from server.modeling.compilers.twintypes import (
    MISSING,
    DataSchema,
    FeatureSlot,
    TwinType,
    twin_types,
)
from server.modeling.projection import default_class_of
from server.modeling.resolve import ResolvedDocument

__all__ = ["TwinSchemas", "compile_document", "document_schemas", "twin_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NULL = {"type": "null"}


def value_schema(schema: DataSchema) -> dict[str, Any]:
    """The schema of a non-null value for ``schema`` (JSON Schema's type-conditional keywords)."""
    out: dict[str, Any] = {}
    all_of: list[dict[str, Any]] = []
    kind = schema.type
    if kind:
        out["type"] = kind
    if kind in (None, "number", "integer"):
        for key, value in (
            ("minimum", schema.minimum),
            ("maximum", schema.maximum),
            ("exclusiveMinimum", schema.exclusive_minimum),
            ("exclusiveMaximum", schema.exclusive_maximum),
            ("multipleOf", schema.multiple_of),
        ):
            if value is not None:
                out[key] = value
    if kind in (None, "string"):
        if schema.min_length is not None:
            out["minLength"] = schema.min_length
        if schema.max_length is not None:
            out["maxLength"] = schema.max_length
        for index, (pattern, _) in enumerate(schema.patterns):
            if index == 0:
                out["pattern"] = pattern
            else:
                all_of.append({"pattern": pattern})
    if kind in (None, "array"):
        if schema.items is not None:
            out["items"] = position_schema(schema.items)
        if schema.min_items is not None:
            out["minItems"] = schema.min_items
        if schema.max_items is not None:
            out["maxItems"] = schema.max_items
        if schema.unique_items:
            out["uniqueItems"] = True
    if kind in (None, "object"):
        if schema.properties:
            out["properties"] = {
                name: position_schema(member) for name, member in schema.properties
            }
        if schema.required:
            out["required"] = list(schema.required)
    if schema.const is not MISSING:
        out["const"] = schema.const
    if schema.enum is not None:
        out["enum"] = list(schema.enum)
    if schema.choices:
        out["anyOf"] = [
            {"title": name, **value_schema(alternative)} for name, alternative in schema.choices
        ]
    if all_of:
        out["allOf"] = all_of
    return out


_ANNOTATION_KEYS = frozenset(
    {"title", "description", "unit", "default", "readOnly", "writeOnly", "$comment"}
)


def _annotations(schema: DataSchema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if schema.label:
        out["title"] = schema.label
    if schema.description:
        out["description"] = schema.description
    if schema.unit:
        out["unit"] = schema.unit
    if schema.default is not MISSING:
        out["default"] = schema.default
    qualities = dict(schema.annotations)
    if qualities.get("writable") is False:
        out["readOnly"] = True
    if qualities.get("readable") is False:
        out["writeOnly"] = True
    return out


def position_schema(schema: DataSchema) -> dict[str, Any]:
    """The schema of a value that may be null when ``schema`` is nullable."""
    value = value_schema(schema)
    notes = _annotations(schema)
    constraining = {k: v for k, v in value.items() if k not in _ANNOTATION_KEYS}
    if schema.nullable:
        if not constraining:
            return notes
        return {**notes, "anyOf": [_NULL, value]}
    if "type" in value:
        return {**notes, **value}
    return {**notes, "allOf": [value, {"not": _NULL}]}


def _values(twin_type: TwinType) -> dict[str, Any]:
    """Schema of a twin's attributes (or a feature's properties) for ``twin_type``."""
    out: dict[str, Any] = {"type": "object"}
    if twin_type.members:
        out["properties"] = {m.name: position_schema(m.schema) for m in twin_type.members}
    required = [m.name for m in twin_type.members if m.required]
    if required:
        out["required"] = required
    return out


def _key(twin_type: TwinType) -> str:
    """``$defs`` key and file-name part: the given names along its pointer, dotted."""
    return ".".join(pointers.split(twin_type.pointer)[1::2])


def _ref(key: str) -> str:
    return "#/$defs/" + quote(pointers.escape_token(key), safe="-._~:@!$&'()*+,;=")


def _feature_value(target: TwinType) -> dict[str, Any]:
    """A feature in a slot: its ``properties`` hold the target's members."""
    out: dict[str, Any] = {
        "type": "object",
        "properties": {"properties": {"$ref": _ref("values:" + _key(target))}},
    }
    if any(m.required for m in target.members):
        out["required"] = ["properties"]
    return out


def _has_element(slot: FeatureSlot) -> dict[str, Any]:
    """Some feature id matches the slot's element pattern (``not`` all names fail it)."""
    return {"not": {"propertyNames": {"not": {"pattern": slot.id_pattern}}}}


def _features(twin_type: TwinType, defs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    named: dict[str, list[dict[str, Any]]] = {}
    patterned: dict[str, list[dict[str, Any]]] = {}
    required: list[str] = []
    all_of: list[dict[str, Any]] = []
    dependent: dict[str, list[str]] = {}
    dependent_schemas: dict[str, list[dict[str, Any]]] = {}
    for slot in twin_type.slots:
        defs["values:" + _key(slot.target)] = _values(slot.target)
        value = _feature_value(slot.target)
        if slot.array:
            patterned.setdefault(slot.id_pattern, []).append(value)
        else:
            named.setdefault(slot.feature_id, []).append(value)
        if not slot.required:
            continue
        if slot.parent is None:
            if slot.array:
                all_of.append(_has_element(slot))
            else:
                required.append(slot.feature_id)
        elif slot.array:
            dependent_schemas.setdefault(slot.parent, []).append(_has_element(slot))
        else:
            dependent.setdefault(slot.parent, []).append(slot.feature_id)

    def merged(schemas: list[dict[str, Any]]) -> dict[str, Any]:
        return schemas[0] if len(schemas) == 1 else {"allOf": schemas}

    if named:
        out["properties"] = {k: merged(v) for k, v in named.items()}
    if patterned:
        out["patternProperties"] = {k: merged(v) for k, v in patterned.items()}
    if required:
        out["required"] = list(dict.fromkeys(required))
    if all_of:
        out["allOf"] = all_of
    if dependent:
        out["dependentRequired"] = {k: list(dict.fromkeys(v)) for k, v in dependent.items()}
    if dependent_schemas:
        out["dependentSchemas"] = {k: merged(v) for k, v in dependent_schemas.items()}
    return out


def twin_schema(twin_type: TwinType, warnings: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON Schema of a twin whose ``definition`` is ``twin_type``'s global name."""
    values = _values(twin_type)
    defs: dict[str, Any] = {"values": values}
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"urn:ndtwin:schema:{quote(twin_type.class_iri, safe='')}",
        "title": twin_type.label or twin_type.name,
    }
    if twin_type.description:
        schema["description"] = twin_type.description
    schema["x-ndtwin-class"] = twin_type.class_iri
    notes = list(dict.fromkeys([*twin_type.warnings, *warnings]))
    if notes:
        schema["$comment"] = "Not enforced (the SHACL shapes skip them too): " + " | ".join(notes)
    features = _features(twin_type, defs) if twin_type.kind == "thing" else {"type": "object"}
    schema["type"] = "object"
    schema["properties"] = {"attributes": {"$ref": "#/$defs/values"}, "features": features}
    required = []
    if "required" in values:
        required.append("attributes")
    if twin_type.requires_features:
        required.append("features")
    if required:
        schema["required"] = required
    if twin_type.requires_features:
        # Checked as a feature (or relationship), this type would need features
        # of its own, which Ditto features never have: nothing conforms.
        defs["feature"] = False
    else:
        feature: dict[str, Any] = {
            "type": "object",
            "properties": {"properties": {"$ref": "#/$defs/values"}},
        }
        if "required" in values:
            feature["required"] = ["properties"]
        defs["feature"] = feature
    schema["$defs"] = defs
    return schema


def document_schemas(doc: ResolvedDocument) -> dict[str, dict[str, Any]]:
    """``{"<stem>.<Name>.schema.json": schema}`` for every twin type of ``doc``."""
    types = twin_types(doc)
    out: dict[str, dict[str, Any]] = {}
    for twin_type in types.types:
        name = f"{doc.source.stem}.{quote(_key(twin_type), safe='-_.~')}.schema.json"
        out[name] = twin_schema(twin_type, types.warnings)
    return out


def compile_document(doc: ResolvedDocument) -> dict[str, str]:
    """``{"<stem>.<Name>.schema.json": text}``; nested types are named by their dotted path."""
    return {
        name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in document_schemas(doc).items()
    }


class TwinSchemas:
    """Validators of many compiled schemas, applied the way the shapes target classes.

    A twin is checked by the schema of the class its ``definition`` names and
    each feature by ``$defs/feature`` of every class its ``definition`` array
    names (SHACL ``sh:targetClass``); a relationship by ``$defs/feature`` of
    its ``definition``. ``class_of`` must be the mapping the projection uses.
    """

    def __init__(
        self,
        schemas: Iterable[Mapping[str, Any]],
        class_of: Callable[[str], str | None] = default_class_of,
    ) -> None:
        self.class_of = class_of
        self._twin: dict[str, Draft202012Validator] = {}
        self._feature: dict[str, Draft202012Validator] = {}
        for schema in schemas:
            cls = schema["x-ndtwin-class"]
            self._twin[cls] = Draft202012Validator(schema)
            self._feature[cls] = Draft202012Validator(
                {"$schema": DIALECT, "$defs": schema["$defs"], "$ref": "#/$defs/feature"}
            )

    @classmethod
    def from_documents(cls, docs: Iterable[ResolvedDocument]) -> TwinSchemas:
        return cls(schema for doc in docs for schema in document_schemas(doc).values())

    def twin_errors(self, thing: Mapping[str, Any]) -> list[str]:
        """Every violation of ``thing``, as ``<where>: <message>`` lines (empty: valid)."""
        found: list[str] = []
        definition = thing.get("definition")
        cls = self.class_of(definition) if isinstance(definition, str) else None
        if cls in self._twin:
            found.extend(
                f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in self._twin[cls].iter_errors(thing)
            )
        features = thing.get("features")
        if isinstance(features, Mapping):
            for feature_id, feature in features.items():
                found.extend(
                    f"/features/{feature_id}{line}" for line in self._feature_errors(feature)
                )
        return found

    def relationship_errors(self, rel: Mapping[str, Any]) -> list[str]:
        """Violations of a relationship's properties against its ``definition``'s class."""
        definition = rel.get("definition")
        cls = self.class_of(definition) if isinstance(definition, str) else None
        if cls not in self._feature:
            return []
        return [
            f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self._feature[cls].iter_errors(rel)
        ]

    def _feature_errors(self, feature: Any) -> list[str]:
        if not isinstance(feature, Mapping) or not isinstance(feature.get("definition"), list):
            return []
        classes = {self.class_of(d) for d in feature["definition"] if isinstance(d, str)}
        found: list[str] = []
        for cls in sorted(c for c in classes if c in self._feature):
            found.extend(
                f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in self._feature[cls].iter_errors(feature)
            )
        return found

    def is_valid_twin(self, thing: Mapping[str, Any]) -> bool:
        return not self.twin_errors(thing)
