"""Twin types of a resolved SDF document: what the SHACL and JSON Schema compilers read.

Both compilers must decide every twin alike, so neither reads raw SDF: this
module reads it once into a small model and both translate that model.

* ``DataSchema`` is one set of data qualities (RFC 9880 §4.7) normalized:
  types checked, ``nullable`` defaulted (true, RFC 9880 §4.7.1; also for
  ``properties`` members and ``items``), ``pattern`` translated to the
  regular-expression subset both validators read alike (``patterns``),
  ``format`` turned into a pattern, and everything that cannot be enforced the
  same way in both targets dropped with a warning.
* ``TwinType`` is one sdfObject or sdfThing (nested ones included): its class
  IRI (the SDF global name), its data ``members`` (its sdfProperties: a
  twin's attributes or a feature's properties) and, for an sdfThing, the
  ``slots`` its children occupy among the twin's features.

Features (Eclipse Ditto's WoT rule, ``shared/notes/ditto-api.md`` §2): the
child sdfObject or sdfThing ``c`` of an sdfThing is the feature with id ``c``.
Ditto features are flat, so the children of a nested sdfThing ``n`` are the
features ``n.c``, and a child that is an array (``minItems``/``maxItems``,
RFC 9880 §5.1) is one feature per element, ``c.<key>`` for any key. An
sdfRequired child is a required feature; a required child of a nested thing is
required whenever the nested thing's own feature is present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from server.modeling import pointers
from server.modeling.compilers.patterns import FORMATS, UnsupportedPattern, escape, translate
from server.modeling.resolve import ResolvedDocument, iter_definitions, split_global_name
from server.modeling.vocab import model_class_iri

__all__ = [
    "JSON_TYPES",
    "MISSING",
    "DataSchema",
    "DocumentTypes",
    "FeatureSlot",
    "Member",
    "TwinType",
    "data_schema",
    "twin_types",
]

JSON_TYPES = ("number", "integer", "string", "boolean", "array", "object")
#: Value of ``DataSchema.const`` when the quality is absent.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
_GROUPINGS = ("sdfObject", "sdfThing")
_Scalar = (str, int, float, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class DataSchema:
    """One normalized set of data qualities; ``pointer`` locates it in the document."""

    pointer: str
    type: str | None = None
    nullable: bool = True
    const: Any = MISSING
    enum: tuple[Any, ...] | None = None
    choices: tuple[tuple[str, DataSchema], ...] = ()
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None
    multiple_of: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    #: (regular expression, where it came from: ``pattern`` or ``format <name>``)
    patterns: tuple[tuple[str, str], ...] = ()
    items: DataSchema | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    properties: tuple[tuple[str, DataSchema], ...] = ()
    required: tuple[str, ...] = ()
    label: str | None = None
    description: str | None = None
    unit: str | None = None
    default: Any = MISSING
    #: Qualities kept as annotations only (writable, sdfType, contentFormat...).
    annotations: tuple[tuple[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def has_numeric_facets(self) -> bool:
        return any(
            v is not None
            for v in (
                self.minimum,
                self.maximum,
                self.exclusive_minimum,
                self.exclusive_maximum,
                self.multiple_of,
            )
        )

    @property
    def has_string_facets(self) -> bool:
        return self.min_length is not None or self.max_length is not None or bool(self.patterns)

    @property
    def has_array_facets(self) -> bool:
        return (
            self.items is not None
            or self.min_items is not None
            or self.max_items is not None
            or self.unique_items
        )

    @property
    def has_object_facets(self) -> bool:
        return bool(self.properties) or bool(self.required)


@dataclass
class Member:
    """A named data member of a twin type (an sdfProperty) and whether it is required."""

    name: str
    schema: DataSchema
    required: bool


@dataclass
class FeatureSlot:
    """Where a child grouping of an sdfThing sits among the twin's features."""

    #: The feature id, or for an array child the id prefix (features ``<id>.<key>``).
    feature_id: str
    array: bool
    #: The child's twin type: the feature's properties are its members.
    target: TwinType
    required: bool
    #: The slot whose feature, when present, makes this one required (nested things).
    parent: str | None = None

    @property
    def id_pattern(self) -> str:
        """For an array slot: the regular expression of its feature ids, ``<id>.<key>``."""
        return f"^{escape(self.feature_id)}\\..+$"


@dataclass
class TwinType:
    """An sdfObject or sdfThing as a type of twins (and of features)."""

    kind: str
    name: str
    pointer: str
    global_name: str
    class_iri: str
    label: str | None
    description: str | None
    members: list[Member] = field(default_factory=list)
    slots: list[FeatureSlot] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def requires_features(self) -> bool:
        """True when a node without features can never conform (a required slot)."""
        return any(slot.required and slot.parent is None for slot in self.slots)


# -- data qualities ------------------------------------------------------------------


def data_schema(
    node: dict[str, Any],
    pointer: str,
    nullable_default: bool = True,
) -> DataSchema:
    """Normalize one set of data qualities (RFC 9880 §4.7) found at ``pointer``."""
    warnings: list[str] = []
    annotations: list[tuple[str, Any]] = []
    values: dict[str, Any] = {}

    def warn(quality: str, why: str) -> None:
        warnings.append(f"{pointer}/{quality}: {why}; not enforced")

    kind = node.get("type")
    if kind is not None and kind not in JSON_TYPES:
        warn("type", f"unknown type {kind!r}")
        kind = None
    values["type"] = kind
    nullable = node.get("nullable", nullable_default)
    values["nullable"] = nullable if isinstance(nullable, bool) else True
    if "const" in node:
        const = node["const"]
        if isinstance(const, _Scalar) and (not isinstance(const, float) or math.isfinite(const)):
            values["const"] = const
        else:
            warn("const", "a const that is an object or array has no RDF equivalent")
    if "enum" in node:
        enum = node["enum"]
        if isinstance(enum, list) and all(isinstance(v, _Scalar) for v in enum):
            values["enum"] = tuple(enum)
        else:
            warn("enum", "enum members must be scalars")
    choices = node.get("sdfChoice")
    if isinstance(choices, dict):
        values["choices"] = tuple(
            (name, data_schema(alt, f"{pointer}/sdfChoice/{pointers.escape_token(name)}"))
            for name, alt in choices.items()
            if isinstance(alt, dict)
        )
    for quality, attr in (
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("exclusiveMinimum", "exclusive_minimum"),
        ("exclusiveMaximum", "exclusive_maximum"),
    ):
        if quality in node:
            if _is_number(node[quality]):
                values[attr] = node[quality]
            else:
                warn(quality, "not a number (RFC 9880 allows only the numeric form)")
    if "multipleOf" in node:
        step = node["multipleOf"]
        if _is_number(step) and step > 0:
            values["multiple_of"] = step
        else:
            warn("multipleOf", "not a positive number")
    for quality, attr in (
        ("minLength", "min_length"),
        ("maxLength", "max_length"),
        ("minItems", "min_items"),
        ("maxItems", "max_items"),
    ):
        if quality in node:
            if _is_count(node[quality]):
                values[attr] = node[quality]
            else:
                warn(quality, "not a non-negative integer")
    patterns: list[tuple[str, str]] = []
    if "pattern" in node:
        raw = node["pattern"]
        try:
            if not isinstance(raw, str):
                raise UnsupportedPattern("not a string")
            patterns.append((translate(raw), "pattern"))
        except UnsupportedPattern as exc:
            warn(
                "pattern",
                f"pattern {raw!r} cannot be checked alike by SHACL and JSON Schema ({exc})",
            )
    if "format" in node:
        fmt = node["format"]
        if fmt in FORMATS:
            patterns.append((FORMATS[fmt], f"format {fmt}"))
        else:
            warn("format", f"unknown format {fmt!r}")
    values["patterns"] = tuple(patterns)
    items = node.get("items")
    if isinstance(items, dict):
        values["items"] = data_schema(items, f"{pointer}/items")
    if node.get("uniqueItems") is True:
        item_type = values["items"].type if "items" in values else None
        if item_type in ("number", "integer", "string", "boolean"):
            values["unique_items"] = True
        else:
            # Elements that are objects become distinct nodes in RDF, so SHACL
            # cannot compare them as JSON Schema does (RFC 8259 equality).
            warn("uniqueItems", "only arrays of typed scalars can be checked for duplicates")
    properties = node.get("properties")
    if isinstance(properties, dict):
        values["properties"] = tuple(
            (name, data_schema(member, f"{pointer}/properties/{pointers.escape_token(name)}"))
            for name, member in properties.items()
            if isinstance(member, dict)
        )
    required = node.get("required")
    if isinstance(required, list):
        values["required"] = tuple(dict.fromkeys(r for r in required if isinstance(r, str)))
    for quality, attr in (("label", "label"), ("description", "description"), ("unit", "unit")):
        if isinstance(node.get(quality), str):
            values[attr] = node[quality]
    if isinstance(node.get("default"), _Scalar):
        values["default"] = node["default"]
    for quality in ("readable", "writable", "observable", "sdfType", "contentFormat"):
        if quality in node:
            annotations.append((quality, node[quality]))
    nested = [w for _, alt in values.get("choices", ()) for w in alt.warnings]
    if "items" in values:
        nested.extend(values["items"].warnings)
    nested.extend(w for _, member in values.get("properties", ()) for w in member.warnings)
    return DataSchema(
        pointer=pointer, annotations=tuple(annotations), warnings=(*warnings, *nested), **values
    )


# -- twin types ----------------------------------------------------------------------


def _grouping_of(pointer: str) -> str | None:
    """The innermost sdfObject/sdfThing containing (or being) ``pointer``."""
    tokens = pointers.split(pointer)
    for end in range(len(tokens), 1, -2):
        if tokens[end - 2] in _GROUPINGS:
            return pointers.join(*tokens[:end])
    return None


def _place_required(doc: ResolvedDocument, owner: str, entry: str) -> str | None:
    """The pointer (in this document) that an sdfRequired entry of ``owner`` names.

    An entry written in this grouping names a member below it. One that came
    in through ``sdfRef`` still names the definition it was copied from
    (possibly in another document), so it is matched by its tail below the
    grouping that now holds it.
    """
    uri, pointer = split_global_name(entry)
    try:
        tokens = pointers.split(pointer)
    except ValueError:
        return None
    if uri == doc.base_uri and (pointer == owner or pointer.startswith(owner + "/")):
        try:
            pointers.lookup(doc.body, tokens)
            return pointer
        except KeyError:
            return None
    base = pointers.split(owner)
    for start in range(0, len(tokens) - 1):
        if tokens[start] not in ("sdfProperty", "sdfAction", "sdfEvent", *_GROUPINGS):
            continue
        candidate = base + tokens[start:]
        try:
            pointers.lookup(doc.body, candidate)
        except KeyError:
            continue
        return pointers.join(*candidate)
    return None


def _required_pointers(doc: ResolvedDocument) -> tuple[set[str], list[str]]:
    required: set[str] = set()
    warnings: list[str] = []
    for definition in iter_definitions(doc.body):
        entries = definition.node.get("sdfRequired")
        if not isinstance(entries, list):
            continue
        owner = _grouping_of(definition.pointer)
        for entry in entries:
            placed = (
                _place_required(doc, owner, entry)
                if owner is not None and isinstance(entry, str)
                else None
            )
            if placed is None:
                warnings.append(
                    f"{definition.pointer}/sdfRequired: entry {entry!r} names no "
                    "member of this grouping; not enforced"
                )
            else:
                required.add(placed)
    return required, warnings


@dataclass
class DocumentTypes:
    """The twin types of one document and every warning met while reading them."""

    types: list[TwinType]
    #: Warnings that belong to no single type (sdfRequired entries that name nothing).
    warnings: list[str]

    @property
    def all_warnings(self) -> list[str]:
        """Every warning once (a nested thing's slots are also its parent's)."""
        return list(dict.fromkeys([*self.warnings, *(w for t in self.types for w in t.warnings)]))


def twin_types(doc: ResolvedDocument) -> DocumentTypes:
    """Every sdfObject and sdfThing of ``doc`` (nested ones too), in document order."""
    required, warnings = _required_pointers(doc)
    found: dict[str, TwinType] = {}
    groupings = list(iter_definitions(doc.body, _GROUPINGS))
    for definition in groupings:
        node = definition.node
        found[definition.pointer] = TwinType(
            kind="object" if definition.group == "sdfObject" else "thing",
            name=definition.name,
            pointer=definition.pointer,
            global_name=doc.global_name(definition.pointer),
            class_iri=str(model_class_iri(doc.base_uri, definition.pointer)),
            label=node.get("label") if isinstance(node.get("label"), str) else None,
            description=(
                node.get("description") if isinstance(node.get("description"), str) else None
            ),
        )
    for definition in groupings:
        twin_type = found[definition.pointer]
        properties = definition.node.get("sdfProperty")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                if not isinstance(prop, dict):
                    continue
                pointer = definition.pointer + pointers.join("sdfProperty", name)
                schema = data_schema(prop, pointer)
                twin_type.warnings.extend(schema.warnings)
                twin_type.members.append(Member(name, schema, pointer in required))
        if twin_type.kind == "thing":
            _add_slots(twin_type, definition.node, definition.pointer, "", None, found, required)
    return DocumentTypes(list(found.values()), warnings)


def _add_slots(
    owner: TwinType,
    node: dict[str, Any],
    pointer: str,
    prefix: str,
    parent: str | None,
    found: dict[str, TwinType],
    required: set[str],
) -> None:
    """Add the feature slots of the children of ``node`` (a thing) to ``owner``."""
    for group in _GROUPINGS:
        children = node.get(group)
        if not isinstance(children, dict):
            continue
        for name, child in children.items():
            if not isinstance(child, dict):
                continue
            child_pointer = pointer + pointers.join(group, name)
            target = found[child_pointer]
            array = "minItems" in child or "maxItems" in child
            feature_id = prefix + name
            owner.slots.append(
                FeatureSlot(feature_id, array, target, child_pointer in required, parent)
            )
            if array and ("minItems" in child or "maxItems" in child):
                owner.warnings.append(
                    f"{child_pointer}: the number of {name!r} features (minItems/maxItems) "
                    "is not enforced"
                )
            if group == "sdfThing":
                if array:
                    if any(isinstance(child.get(g), dict) and child.get(g) for g in _GROUPINGS):
                        owner.warnings.append(
                            f"{child_pointer}: children of an array of sdfThings have no "
                            "feature ids; not enforced"
                        )
                    continue
                _add_slots(
                    owner, child, child_pointer, feature_id + ".", feature_id, found, required
                )
