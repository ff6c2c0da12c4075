"""Differential test: the compiled JSON Schemas decide every twin exactly as pyshacl does.

Hypothesis generates Ditto-shaped twins, valid and invalid (values in and out
of range, wrong types, nulls, arrays for scalars, missing required members and
features, bad patterns, extra keys and features), for the twin types of a
fixture document that uses every data quality, of a sample of the OneDM
playground corpus, and of ndtwin's own models. For each twin, pyshacl's
verdict (data graph from ``projection.project_twin``, shapes from the SHACL
compiler) must equal ``TwinSchemas``' verdict (schemas from the JSON Schema
compiler).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pyshacl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from server.modeling.compilers import jsonschema as js_compiler
from server.modeling.compilers import shacl as shacl_compiler
from server.modeling.compilers.twintypes import MISSING, DataSchema, TwinType, twin_types
from server.modeling.projection import project_relationship, project_twin
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolvedDocument, resolve_registry

# Hypothesis flags a composite strategy that happened to make no choice on some draw
# (a trivial sub-strategy); that is a style warning about the test, not a failure of it.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

REPO = Path(__file__).resolve().parents[3]
PLAYGROUND = REPO.parent / "shared" / "corpus" / "onedm" / "playground"
MODELS = REPO / "models" / "sdf"

FIXTURE: dict[str, Any] = {
    "info": {"title": "Equivalence fixture", "version": "2026-11-21"},
    "namespace": {"fx": "https://example.org/ndtwin-test/fixture"},
    "defaultNamespace": "fx",
    "sdfData": {"level": {"type": "integer", "minimum": 0, "maximum": 4}},
    "sdfObject": {
        "Sensor": {
            "label": "Sensor",
            "sdfRequired": ["#/sdfObject/Sensor/sdfProperty/id"],
            "sdfProperty": {
                "id": {"type": "string", "pattern": "^[A-F0-9]{4}$", "nullable": False},
                "temperature": {
                    "type": "number",
                    "minimum": -40,
                    "maximum": 85.5,
                    "multipleOf": 0.5,
                    "unit": "Cel",
                },
                "humidity": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
                "count": {"type": "integer", "minimum": 0, "multipleOf": 3, "nullable": False},
                "name": {"type": "string", "minLength": 2, "maxLength": 5},
                "digits": {"type": "string", "pattern": "\\d+"},
                "seen": {"type": "string", "format": "date-time"},
                "uid": {"type": "string", "format": "uuid"},
                "on": {"type": "boolean", "writable": False},
                "mode": {"type": "string", "enum": ["auto", "manual"]},
                "kind": {"type": "string", "const": "sensor"},
                "ratio": {"type": "number", "const": 2.5},
                "level": {"sdfRef": "#/sdfData/level"},
                "quality": {
                    "sdfChoice": {
                        "good": {"const": 1},
                        "bad": {"const": 0},
                        "range": {"type": "number", "minimum": 10, "maximum": 20},
                    }
                },
                "band": {
                    "type": "integer",
                    "sdfChoice": {"low": {"const": 1}, "high": {"const": 7}},
                },
                "location": {
                    "type": "object",
                    "required": ["lat", "lon"],
                    "properties": {
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "floor": {"type": "integer", "nullable": False},
                    },
                },
                "bands": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 3,
                    "uniqueItems": True,
                    "items": {"type": "integer", "minimum": 1},
                },
                "tags": {
                    "type": "array",
                    "nullable": False,
                    "items": {"type": "string", "maxLength": 3},
                },
                "points": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["x"],
                        "properties": {"x": {"type": "number"}},
                    },
                },
                "anything": {"description": "no type at all"},
                "loose": {"minimum": 0, "maxLength": 2, "description": "facets, no type"},
                "list": {
                    "items": {"type": "number"},
                    "minItems": 2,
                    "description": "array facets, no type",
                },
                "strict": {"type": "number", "nullable": False},
                "stamp": {"type": "number", "sdfType": "unix-time"},
                "blob": {"type": "string", "sdfType": "byte-string"},
                "duration": {"type": "string", "pattern": "^P(?=[0-9])"},
                # Items that refuse null under an array that accepts it (reachable
                # through sdfRef), and an alternative that is an array.
                "strictItems": {"type": "array", "items": {"type": "integer", "nullable": False}},
                "shape": {
                    "sdfChoice": {
                        "one": {"type": "number"},
                        "many": {"type": "array", "maxItems": 2, "items": {"type": "number"}},
                    }
                },
            },
        },
        "Tag": {
            "sdfRequired": ["code"],
            "sdfProperty": {
                "code": {"sdfRequired": [True], "type": "string", "pattern": "^T[0-9]$"},
                "weight": {"type": "integer", "exclusiveMaximum": 10},
            },
        },
    },
    "sdfThing": {
        "Station": {
            "label": "Station",
            "sdfRequired": [
                "#/sdfThing/Station/sdfObject/main",
                "#/sdfThing/Station/sdfThing/sub/sdfObject/probe",
            ],
            "sdfProperty": {"title": {"type": "string", "maxLength": 8}},
            "sdfObject": {
                "main": {"sdfRef": "#/sdfObject/Sensor"},
                "extra": {"sdfRef": "#/sdfObject/Tag", "minItems": 0, "maxItems": 4},
            },
            "sdfThing": {
                "sub": {
                    "sdfProperty": {"depth": {"type": "number", "minimum": 0}},
                    "sdfObject": {
                        "probe": {
                            "sdfRequired": [
                                "#/sdfThing/Station/sdfThing/sub/sdfObject/probe/sdfProperty/v"
                            ],
                            "sdfProperty": {"v": {"type": "integer"}},
                        }
                    },
                },
            },
        },
    },
}

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(-1e9, 1e9, allow_nan=False)
    | st.text(max_size=6)
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=5,
)
KEYS = st.sampled_from(["extra", "x", "", "a/b", "ü", "name"])


def _good_numbers(schema: DataSchema) -> st.SearchStrategy[Any]:
    """Numbers that meet the bounds and step of ``schema`` (when it has them)."""
    low = max(
        (b for b in (schema.minimum, schema.exclusive_minimum) if b is not None), default=-100
    )
    high = min(
        (b for b in (schema.maximum, schema.exclusive_maximum) if b is not None), default=100
    )
    step = schema.multiple_of
    if step is not None:
        first, last = math.ceil(low / step), math.floor(high / step)
        if first > last:
            return st.just(step)
        return st.integers(first, min(last, first + 50)).map(lambda k: k * step)
    if schema.type == "integer":
        return st.integers(math.ceil(low), max(math.ceil(low), math.floor(high)))
    return st.floats(
        low,
        high,
        exclude_min=schema.exclusive_minimum is not None,
        exclude_max=schema.exclusive_maximum is not None,
    ) | st.integers(math.ceil(low), max(math.ceil(low), math.floor(high)))


def _edge_numbers(schema: DataSchema) -> st.SearchStrategy[Any]:
    """Numbers at and just beyond every bound and step of ``schema``."""
    points: list[int | float] = [0, -1, 0.5]
    for bound in (
        schema.minimum,
        schema.maximum,
        schema.exclusive_minimum,
        schema.exclusive_maximum,
    ):
        if bound is not None:
            points += [bound, bound + 1, bound - 1, bound + 0.5, bound - 0.25, float(bound)]
    if schema.multiple_of is not None:
        step = schema.multiple_of
        points += [step * 2.5, step + 0.1, step * 3.0]
    return st.sampled_from(points)


def _good_strings(schema: DataSchema) -> st.SearchStrategy[str]:
    if isinstance(schema.const, str):
        return st.just(schema.const)
    if schema.enum:
        return st.sampled_from([w for w in schema.enum if isinstance(w, str)] or [""])
    if schema.patterns:
        pattern = schema.patterns[0][0]
        return st.from_regex(re.compile(pattern), fullmatch=pattern.startswith("^"))
    low = schema.min_length or 0
    return st.text(
        alphabet="abcXYZ09 ",
        min_size=low,
        max_size=max(low, schema.max_length if schema.max_length is not None else 6),
    )


def _edge_strings(schema: DataSchema) -> st.SearchStrategy[str]:
    options: list[st.SearchStrategy[str]] = [st.text(max_size=7)]
    for pattern, _ in schema.patterns:
        options.append(st.from_regex(re.compile(pattern)).filter(lambda s: len(s) < 40))
    for length in (schema.min_length, schema.max_length):
        if length is not None:
            options.append(
                st.text(alphabet="a\u0661", min_size=max(0, length - 1), max_size=length + 1)
            )
    return st.one_of(options)


def good(schema: DataSchema, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values meant to satisfy ``schema`` (best effort: bounds and patterns can clash)."""
    kind = schema.type
    if schema.choices:
        return st.one_of([good(alt, depth + 1) for _, alt in schema.choices])
    if schema.const is not MISSING:
        return st.just(schema.const)
    if kind in ("number", "integer"):
        return _good_numbers(schema)
    if kind == "string" or schema.enum:
        return _good_strings(schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "array" or (kind is None and schema.has_array_facets and depth < 2):
        low = schema.min_items or 0
        item = good(schema.items, depth + 1) if schema.items else JSON_SCALARS
        return st.lists(
            item,
            min_size=low,
            max_size=max(low, schema.max_items or 3),
            unique_by=(lambda v: repr(v)) if schema.unique_items else None,
        )
    if kind == "object" and depth < 2:
        return members(dict(schema.properties), set(schema.required), depth + 1, clean=True)
    if kind is None and (schema.has_numeric_facets or schema.has_string_facets):
        # Booleans pass numeric and string facets, which do not apply to them.
        return st.booleans()
    return ANY_JSON


def wrong(schema: DataSchema, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values near or past the edges of ``schema``, and arbitrary JSON."""
    kind = schema.type
    options: list[st.SearchStrategy[Any]] = [ANY_JSON, st.none()]
    if kind in (None, "number", "integer"):
        options.append(_edge_numbers(schema))
    if kind in (None, "string"):
        options.append(_edge_strings(schema))
    for _, alternative in schema.choices:
        options.append(wrong(alternative, depth + 1))
    if depth < 2:
        item = schema.items or schema
        options.append(
            st.lists(
                st.one_of(good(item, depth + 1), wrong(item, depth + 1)),
                max_size=(schema.max_items or 2) + 1,
            )
        )
        options.append(good(item, depth + 1).map(lambda v: [v, v]))
        if schema.properties:
            options.append(
                members(dict(schema.properties), set(schema.required), depth + 1, clean=False)
            )
    if kind in ("number", "integer", "string", "boolean", "object"):
        # The scalar as a one-element array: the same RDF values, different JSON.
        options.append(good(schema, depth + 1).map(lambda v: [v]))
    return st.one_of(options)


def members(
    schemas: dict[str, DataSchema], required: set[str], depth: int = 0, clean: bool | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """An object: each member absent, good or wrong; sometimes extra keys."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        spotless = draw(st.booleans()) if clean is None else clean
        out: dict[str, Any] = {}
        for name, schema in schemas.items():
            # Required members are usually there, others usually not.
            if draw(st.integers(0, 19)) >= (19 if name in required else 6):
                continue
            roll = draw(st.integers(0, 19))
            if roll == 0 and schema.nullable:
                out[name] = None
            elif spotless or roll < 15:
                out[name] = draw(good(schema, depth))
            else:
                out[name] = draw(wrong(schema, depth))
        if draw(st.integers(0, 4)) == 0:
            out[draw(KEYS)] = draw(ANY_JSON)
        return out

    return build()


def twins(twin_type: TwinType, classes: list[TwinType]) -> st.SearchStrategy[dict[str, Any]]:
    """Ditto things whose definition is ``twin_type``, features included."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        thing: dict[str, Any] = {
            "thingId": "org.example:twin-1",
            "definition": twin_type.global_name,
        }
        attributes = draw(
            members(
                {m.name: m.schema for m in twin_type.members},
                {m.name for m in twin_type.members if m.required},
            )
        )
        if attributes or draw(st.booleans()):
            thing["attributes"] = attributes
        features: dict[str, Any] = {}
        for slot in twin_type.slots:
            if draw(st.integers(0, 19)) >= (19 if slot.required else 8):
                continue
            ids = (
                [slot.feature_id]
                if not slot.array
                else [
                    f"{slot.feature_id}.{k}"
                    for k in draw(
                        st.lists(st.sampled_from(["0", "1", "aa:bb"]), max_size=2, unique=True)
                    )
                ]
            )
            for feature_id in ids:
                features[feature_id] = draw(feature(slot.target, classes))
        objects = [c for c in classes if c.kind == "object"]
        for _ in range(draw(st.integers(0, 2 if objects else 0))):
            typed = draw(st.sampled_from(objects))
            features[draw(st.sampled_from(["other", "x.y", "main"]))] = draw(
                feature(typed, classes)
            )
        if features or draw(st.booleans()):
            thing["features"] = features
        return thing

    return build()


def feature(target: TwinType, classes: list[TwinType]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body: dict[str, Any] = {}
        choice = draw(st.integers(0, 3))
        if choice == 1:
            body["definition"] = [target.global_name]
        elif choice == 2 and classes:
            body["definition"] = [
                draw(st.sampled_from(classes)).global_name,
                "org.example:other:1.0",
            ]
        elif choice == 3:
            body["definition"] = ["org.example:other:1.0"]
        properties = draw(
            members(
                {m.name: m.schema for m in target.members},
                {m.name for m in target.members if m.required},
            )
        )
        if properties or draw(st.booleans()):
            body["properties"] = properties
        if draw(st.integers(0, 5)) == 0:
            body["desiredProperties"] = {"anything": draw(ANY_JSON)}
        return body

    return build()


class Judges:
    """pyshacl and the JSON Schemas over the same compiled documents."""

    def __init__(self, docs: list[ResolvedDocument]) -> None:
        self.shapes = Graph()
        for doc in docs:
            for text in shacl_compiler.compile_document(doc).values():
                self.shapes.parse(data=text, format="turtle")
        self.schemas = js_compiler.TwinSchemas.from_documents(docs)

    def shacl(self, thing: dict[str, Any]) -> bool:
        data = Graph()
        for triple in project_twin("tenant", thing):
            data.add(triple)
        conforms, _, _ = pyshacl.validate(data, shacl_graph=self.shapes)
        return bool(conforms)

    def json(self, thing: dict[str, Any]) -> bool:
        return self.schemas.is_valid_twin(thing)

    def relationship(self, rel: dict[str, Any]) -> bool:
        data = Graph()
        for triple in project_relationship("tenant", rel):
            data.add(triple)
        by_shacl = bool(pyshacl.validate(data, shacl_graph=self.shapes)[0])
        by_json = not self.schemas.relationship_errors(rel)
        assert by_shacl == by_json, (by_shacl, by_json, rel)
        return by_shacl

    def check(self, thing: dict[str, Any]) -> bool:
        by_shacl, by_json = self.shacl(thing), self.json(thing)
        assert by_shacl == by_json, (
            f"pyshacl says {by_shacl}, JSON Schema says {by_json} for {thing!r}; "
            f"JSON Schema errors: {self.schemas.twin_errors(thing)}"
        )
        return by_shacl


def _resolve(docs: list[SdfDocument]) -> list[ResolvedDocument]:
    registry = ModelRegistry()
    for doc in docs:
        registry.add(doc)
    resolved, errors = resolve_registry(registry)
    assert not errors, errors
    return resolved


@pytest.fixture(scope="module")
def fixture_docs() -> list[ResolvedDocument]:
    return _resolve([SdfDocument(path=Path("fixture.sdf.json"), data=FIXTURE)])


def _types(docs: list[ResolvedDocument]) -> list[TwinType]:
    return [t for doc in docs for t in twin_types(doc).types]


def _run(judges: Judges, types: list[TwinType], examples: int, verdicts: list[bool]) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        twin_type = data.draw(st.sampled_from(types))
        verdicts.append(judges.check(data.draw(twins(twin_type, types))))

    run()


def test_fixture_covers_every_quality(fixture_docs: list[ResolvedDocument]) -> None:
    sensor = next(t for t in _types(fixture_docs) if t.name == "Sensor")
    used: set[str] = set()

    def walk(schema: DataSchema) -> None:
        used.update(
            name
            for name in (
                "minimum",
                "maximum",
                "exclusive_minimum",
                "exclusive_maximum",
                "multiple_of",
                "min_length",
                "max_length",
                "min_items",
                "max_items",
                "items",
                "enum",
            )
            if getattr(schema, name) is not None
        )
        used.update(
            name
            for name, value in (
                ("const", schema.const is not MISSING),
                ("choices", schema.choices),
                ("patterns", schema.patterns),
                ("properties", schema.properties),
                ("required", schema.required),
                ("unique_items", schema.unique_items),
                ("not nullable", not schema.nullable),
                ("untyped", schema.type is None),
            )
            if value
        )
        for _, child in (*schema.choices, *schema.properties):
            walk(child)
        if schema.items:
            walk(schema.items)

    for member in sensor.members:
        walk(member.schema)
    assert used >= {
        "minimum",
        "maximum",
        "exclusive_minimum",
        "exclusive_maximum",
        "multiple_of",
        "min_length",
        "max_length",
        "min_items",
        "max_items",
        "items",
        "enum",
        "const",
        "choices",
        "patterns",
        "properties",
        "required",
        "unique_items",
        "not nullable",
        "untyped",
    }
    # The one pattern no XPath expression can state is dropped with a warning.
    assert any("duration/pattern" in w for w in sensor.warnings)


def test_fixture_document(fixture_docs: list[ResolvedDocument]) -> None:
    verdicts: list[bool] = []
    _run(Judges(fixture_docs), _types(fixture_docs), 80, verdicts)
    # Both verdicts must be well represented, or the comparison proves little.
    assert verdicts.count(True) >= 15 and verdicts.count(False) >= 15, (
        verdicts.count(True),
        verdicts.count(False),
    )


def _sample(paths: list[Path], every: int) -> list[Path]:
    return sorted(paths)[::every]


@pytest.mark.skipif(not PLAYGROUND.is_dir(), reason="OneDM corpus not present")
def test_playground_sample() -> None:
    files = _sample(list(PLAYGROUND.rglob("*.sdf.json")), 16)
    registry = ModelRegistry.from_paths(files)
    docs, errors = resolve_registry(registry)
    assert docs and not errors
    verdicts: list[bool] = []
    for doc in docs:
        if _types([doc]):
            _run(Judges([doc]), _types([doc]), 4, verdicts)
    assert True in verdicts and False in verdicts


@pytest.mark.skipif(not MODELS.is_dir(), reason="ndtwin models not present yet")
def test_own_models_across_documents() -> None:
    # Features of the phone name classes of other documents (cellular, wifi...):
    # one shapes graph and one schema set over all of them.
    registry = ModelRegistry.from_paths([MODELS])
    docs, errors = resolve_registry(registry)
    assert docs and not errors
    wanted = [d for d in docs if d.source.stem in ("phone", "cellular", "observation")]
    verdicts: list[bool] = []
    _run(Judges(docs), _types(wanted), 15, verdicts)
    assert True in verdicts and False in verdicts


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_fixture_document_long(fixture_docs: list[ResolvedDocument]) -> None:
    verdicts: list[bool] = []
    _run(Judges(fixture_docs), _types(fixture_docs), 1000, verdicts)
    assert True in verdicts and False in verdicts


def test_hand_picked_cases(fixture_docs: list[ResolvedDocument]) -> None:
    """Cases that pin the semantics both targets share (hand-computed verdicts)."""
    judges = Judges(fixture_docs)
    sensor = next(t for t in _types(fixture_docs) if t.name == "Sensor").global_name
    station = next(t for t in _types(fixture_docs) if t.name == "Station").global_name

    def twin(attributes: dict[str, Any] | None = None, **rest: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "thingId": "a:b",
            "definition": sensor,
            "attributes": {"id": "AB12", **(attributes or {})},
        }
        out.update(rest)
        return out

    cases: list[tuple[dict[str, Any], bool]] = [
        (twin(), True),
        (twin({"id": None}), False),  # nullable: false
        ({"thingId": "a:b", "definition": sensor}, False),  # id required
        (twin({"temperature": 20}), True),  # an int is a number
        (twin({"temperature": 20.5}), True),
        (twin({"temperature": 20.25}), False),  # multipleOf 0.5
        (twin({"temperature": 86}), False),  # maximum 85.5
        (twin({"temperature": None}), True),  # nullable by default
        (twin({"temperature": [20]}), False),  # an array is not a number
        (twin({"count": 6.0}), True),  # 6.0 is an integer
        (twin({"count": 7}), False),  # multipleOf 3
        (twin({"humidity": 0}), False),  # exclusiveMinimum
        (twin({"name": "abcdef"}), False),  # maxLength 5
        (twin({"digits": "a1"}), True),  # unanchored pattern
        (twin({"digits": "a\u0661"}), False),  # \d is ASCII (ECMA-262)
        (twin({"seen": "2026-11-21T10:00:00Z"}), True),
        (twin({"seen": "yesterday"}), False),  # format date-time enforced
        (twin({"mode": "off"}), False),
        (twin({"ratio": 2.5}), True),
        (twin({"quality": 15}), True),  # sdfChoice range alternative
        (twin({"quality": 5}), False),
        (twin({"band": 7}), True),
        (twin({"location": {"lat": 1, "lon": 2}}), True),
        (twin({"location": {"lat": 1}}), False),  # nested required
        (twin({"bands": [1, 2]}), True),
        (twin({"bands": [2, 2]}), False),  # uniqueItems
        (twin({"bands": []}), False),  # minItems 1
        (twin({"bands": 1}), False),  # scalar for an array
        (twin({"tags": None}), False),  # array, not nullable
        (twin({"points": [{"x": 1}, {}]}), False),  # required inside items
        (twin({"anything": [1, {"a": None}]}), True),
        (twin({"loose": "abc"}), False),  # maxLength without type
        (twin({"loose": -1}), False),  # minimum without type
        (twin({"loose": [-1, "abcdef"]}), True),  # neither applies to arrays
        (twin({"list": [1]}), False),  # minItems without type
        (twin({"list": 5}), True),  # array facets skip scalars
        (twin({"duration": "nope"}), True),  # untranslatable: not enforced
        (twin({"unmodelled": {"deep": [1, 2]}}), True),  # open shapes
        (twin({"strictItems": None}), True),
        (twin({"strictItems": [None]}), False),
        (twin({"strictItems": [1, 2]}), True),
        (twin({"shape": 3}), True),
        (twin({"shape": [3, 4]}), True),
        (twin({"shape": [3, 4, 5]}), False),  # maxItems of the alternative
        (twin({"shape": ["x"]}), False),
        (twin({"shape": "x"}), False),
        (twin(features={"f": {"definition": [sensor], "properties": {}}}), False),
        (twin(features={"f": {"definition": [sensor], "properties": {"id": "00FF"}}}), True),
        (
            {
                "thingId": "a:b",
                "definition": station,
                "features": {"main": {"properties": {"id": "AB12"}}},
            },
            True,
        ),
        ({"thingId": "a:b", "definition": station, "features": {}}, False),  # main required
        (
            {
                "thingId": "a:b",
                "definition": station,
                "features": {"main": {"properties": {"id": "AB12"}}, "sub": {}},
            },
            False,
        ),
        (
            {
                "thingId": "a:b",
                "definition": station,
                "features": {
                    "main": {"properties": {"id": "AB12"}},
                    "sub": {},
                    "sub.probe": {"properties": {"v": 1}},
                },
            },
            True,
        ),
        (
            {
                "thingId": "a:b",
                "definition": station,
                "features": {
                    "main": {"properties": {"id": "AB12"}},
                    "extra.1": {"properties": {"code": "T1"}},
                    "extra.2": {"properties": {"code": "bad"}},
                },
            },
            False,
        ),
        (
            {
                "thingId": "a:b",
                "definition": station,
                "features": {
                    "main": {"properties": {"id": "AB12"}},
                    "extra.1": {"properties": {"code": "T1", "weight": 9}},
                    "extra": {"properties": {"code": "not an element"}},
                },
            },
            True,
        ),
    ]
    for thing, expected in cases:
        assert judges.check(thing) is expected, thing
    tag = next(t for t in _types(fixture_docs) if t.name == "Tag").global_name
    rel = {"id": "r1", "source": "a:b", "target": "c:d", "type": "tags", "definition": tag}
    assert judges.relationship({**rel, "properties": {"code": "T1", "weight": 3}})
    assert not judges.relationship({**rel, "properties": {"code": "T1", "weight": 10}})
    assert not judges.relationship({**rel, "properties": {}})  # code required
    assert judges.relationship({**rel, "definition": "org.example:none:1", "properties": {}})
    # A thing that needs features can never type a relationship (it has none).
    assert not judges.relationship({**rel, "definition": station, "properties": {}})
