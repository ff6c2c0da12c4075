"""SDF → Eclipse Ditto: thing definitions and the skeletons Ditto's WoT rules create."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from server.modeling.compilers import ditto, wot
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolvedDocument, Resolver, resolve_registry

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("NDTWIN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "onedm"
# Ditto feature ids: non-empty, no "/", no control or \x7F-\xFF characters, not "*".
FEATURE_ID = re.compile(r"^[^/\x00-\x1F\x7F-\xFF]+$")


def resolve(data: dict[str, Any], name: str = "fixture.sdf.json") -> ResolvedDocument:
    registry = ModelRegistry()
    doc = SdfDocument(path=Path(name), data=data)
    registry.add(doc)
    return Resolver(registry).resolve_document(doc)


STATION = {
    "sdfThing": {
        "station": {
            "sdfRequired": [
                "#/sdfThing/station/sdfProperty/name",
                "#/sdfThing/station/sdfProperty/since",
            ],
            "sdfProperty": {
                "name": {"type": "string", "minLength": 3},
                "since": {"type": "string", "format": "date-time"},
                "note": {"type": "string"},
            },
            "sdfObject": {
                "sensor": {
                    "sdfRequired": [
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/temperature",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/mode",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/calibrated",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/position",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/history",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/level",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/kind",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/code",
                        "#/sdfThing/station/sdfObject/sensor/sdfProperty/day",
                    ],
                    "sdfProperty": {
                        "temperature": {"type": "number", "minimum": -40, "maximum": -10},
                        "mode": {"type": "string", "enum": ["auto", "manual"]},
                        "calibrated": {"type": "boolean", "default": True},
                        "position": {
                            "type": "object",
                            "required": ["lat", "lon"],
                            "properties": {
                                "lat": {"type": "number", "minimum": -90},
                                "lon": {"type": "number", "const": 8.5},
                                "floor": {"type": "integer"},
                                "zone": {"description": "untyped"},
                            },
                        },
                        "history": {
                            "type": "array",
                            "minItems": 2,
                            "items": {"type": "integer", "exclusiveMinimum": 4},
                        },
                        "level": {
                            "type": "integer",
                            "sdfChoice": {"low": {"const": 1}, "high": {"const": 2}},
                        },
                        "kind": {"sdfChoice": {"a": {}, "b": {}}},
                        "code": {"type": "integer", "exclusiveMaximum": -3},
                        "day": {"type": "string", "format": "date"},
                        "spare": {"type": "number"},
                    },
                },
            },
        }
    }
}


@pytest.fixture(scope="module")
def station() -> ResolvedDocument:
    return resolve(STATION, "station.sdf.json")


def test_thing_definition_is_the_tm_url(station: ResolvedDocument) -> None:
    assert (
        ditto.thing_definition(station, "/sdfThing/station")
        == "https://w3id.org/ndtwin/tm/station/station.tm.jsonld"
    )
    skeleton = ditto.skeleton_for(station, "/sdfThing/station")
    assert skeleton["definition"] == ditto.thing_definition(station, "/sdfThing/station")
    # The body of PUT /api/2/things/{thingId}: the path names the thing.
    assert "thingId" not in skeleton and "policyId" not in skeleton


def test_thing_properties_become_attributes_skipping_optional(station: ResolvedDocument) -> None:
    skeleton = ditto.skeleton_for(station, "/sdfThing/station")
    assert skeleton["attributes"] == {"name": "___", "since": "1970-01-01T00:00:00Z"}
    with_optional = ditto.skeleton_for(station, "/sdfThing/station", include_optional=True)
    assert with_optional["attributes"]["note"] == ""


def test_submodels_become_features_with_definition_arrays(station: ResolvedDocument) -> None:
    features = ditto.skeleton_for(station, "/sdfThing/station")["features"]
    assert list(features) == ["sensor"]
    assert features["sensor"]["definition"] == [
        "https://w3id.org/ndtwin/tm/station/station/sensor.tm.jsonld"
    ]


def test_feature_property_values_follow_const_default_neutral(station: ResolvedDocument) -> None:
    props = ditto.skeleton_for(station, "/sdfThing/station")["features"]["sensor"]["properties"]
    assert props["temperature"] == -10.0  # 0.0 moved down to the maximum
    assert isinstance(props["temperature"], float)
    assert props["calibrated"] is True  # default
    assert props["position"] == {"lat": 0.0, "lon": 8.5}  # required members only; const wins
    assert props["history"] == [5, 5]  # minItems copies; exclusiveMinimum 4 -> 5
    assert props["code"] == -4  # exclusiveMaximum -3 -> -4
    assert props["day"] == "1970-01-01"
    assert "spare" not in props  # optional (not in sdfRequired)


def test_enum_and_oneof_take_their_first_value(station: ResolvedDocument) -> None:
    props = ditto.skeleton_for(station, "/sdfThing/station")["features"]["sensor"]["properties"]
    assert props["mode"] == "auto"
    assert props["level"] == 1
    assert "kind" not in props  # untyped alternatives give no value


def test_initial_value_rules() -> None:
    assert ditto.initial_value({"type": "boolean"}) is False
    assert ditto.initial_value({"type": "integer", "minimum": 3}) == 3
    assert ditto.initial_value({"type": "number", "minimum": 0.5}) == 0.5
    assert ditto.initial_value({"type": "string", "format": "time"}) == "00:00:00Z"
    assert ditto.initial_value({"type": "object"}) == {}
    assert ditto.initial_value({"type": "array"}) == []
    assert ditto.initial_value({"type": "array", "items": {"type": "string"}}) == [""]
    assert ditto.initial_value({"type": "array", "minItems": 0, "items": {"type": "string"}}) == []
    assert ditto.initial_value(
        {"type": "object", "required": ["x"], "properties": {"x": {"description": "untyped"}}}
    ) == {"x": None}
    assert ditto.initial_value({"type": "string", "const": "c", "default": "d"}) == "c"
    with pytest.raises(LookupError):
        ditto.initial_value({"description": "no type"})


def test_object_skeleton_has_attributes_and_no_features() -> None:
    doc = resolve({"sdfObject": {"lamp": {"sdfProperty": {"on": {"type": "boolean"}}}}})
    assert ditto.skeleton_for(doc, "/sdfObject/lamp", include_optional=True) == {
        "definition": "https://w3id.org/ndtwin/tm/fixture/lamp.tm.jsonld",
        "attributes": {"on": False},
    }


def test_only_first_level_submodels_become_features() -> None:
    doc = resolve(
        {
            "sdfThing": {
                "a": {
                    "sdfThing": {
                        "b": {
                            "sdfProperty": {"x": {"type": "integer", "sdfRequired": [True]}},
                            "sdfObject": {"c": {"sdfProperty": {"y": {"type": "integer"}}}},
                        }
                    }
                }
            }
        }
    )
    skeleton = ditto.skeleton_for(doc, "/sdfThing/a")
    assert skeleton["features"] == {
        "b": {
            "definition": ["https://w3id.org/ndtwin/tm/fixture/a/b.tm.jsonld"],
            "properties": {"x": 0},
        }
    }


def test_skeleton_from_a_foreign_thing_model_with_extends() -> None:
    base = "http://tm.example/"
    models = {
        base + "lamp.tm.jsonld": {
            "properties": {"on": {"type": "boolean"}},
            "links": [{"rel": "tm:extends", "href": "switch.tm.jsonld"}],
        },
        base + "switch.tm.jsonld": {"properties": {"on": {"type": "boolean"}}},
    }
    root = {"links": [{"rel": "tm:submodel", "href": "lamp.tm.jsonld", "instanceName": "lamp"}]}
    skeleton = ditto.skeleton_from_thing_model(root, base + "room.tm.jsonld", models.__getitem__)
    assert skeleton == {
        "definition": base + "room.tm.jsonld",
        "features": {
            "lamp": {
                "definition": [base + "lamp.tm.jsonld", base + "switch.tm.jsonld"],
                "properties": {"on": False},
            }
        },
    }


def test_compile_document_writes_one_skeleton_per_grouping(station: ResolvedDocument) -> None:
    files = ditto.compile_document(station)
    assert list(files) == ["station/station.thing.json", "station/station/sensor.thing.json"]
    assert json.loads(files["station/station.thing.json"]) == ditto.skeleton_for(
        station, "/sdfThing/station"
    )


# -- the corpus ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_documents() -> list[ResolvedDocument]:
    results = CORPUS / "validation-results.csv"
    if not results.is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    rows = csv.DictReader(results.open(encoding="utf-8"))
    passing = {CORPUS / row["path"] for row in rows if row["rfc9880_validation_schema"] == "pass"}
    resolved, _ = resolve_registry(ModelRegistry.from_paths([CORPUS]))
    return [doc for doc in resolved if doc.source.path in passing]


def _schemas(tm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in schema.items() if not k.startswith(("sdf:", "tm:"))}
        for name, schema in tm.get("properties", {}).items()
    }


def test_corpus_skeletons_are_well_formed_and_their_values_fit_the_model(
    corpus_documents: list[ResolvedDocument],
) -> None:
    assert len(corpus_documents) == 340
    checked = 0
    pattern_misses = []
    for doc in corpus_documents:
        files = ditto.compile_document(doc)
        assert len(files) == len(wot.grouping_pointers(doc))
        for pointer in wot.grouping_pointers(doc):
            skeleton = ditto.skeleton_for(doc, pointer, include_optional=True)
            assert re.match(r"^https?://", skeleton["definition"])
            parts = [(wot.thing_model(doc, pointer), skeleton.get("attributes", {}))]
            for feature_id, feature in skeleton.get("features", {}).items():
                assert FEATURE_ID.match(feature_id) and feature_id != "*"
                assert feature["definition"] and len(set(feature["definition"])) == len(
                    feature["definition"]
                )
                child = pointer + f"/sdfObject/{feature_id}"
                if not any(p == child for p in wot.grouping_pointers(doc)):
                    child = pointer + f"/sdfThing/{feature_id}"
                parts.append((wot.thing_model(doc, child), feature.get("properties", {})))
            for tm, values in parts:
                for name, value in values.items():
                    schema = _schemas(tm)[name]
                    checked += 1
                    if not Draft7Validator(schema).is_valid(value):
                        # Ditto's rules know no pattern; nothing else may miss.
                        assert "pattern" in schema, (doc.source.path, name, value)
                        pattern_misses.append((doc.source.path.name, name))
    assert checked > 1000
    assert len(pattern_misses) < checked / 100
