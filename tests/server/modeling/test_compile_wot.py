"""SDF → WoT Thing Model compiler: mapping rules, naming, and the real-model corpus."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource

from server.modeling.compilers import wot
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolvedDocument, Resolver, resolve_registry

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("NDTWIN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "onedm"
TM_SCHEMA = SHARED / "schemas" / "wot" / "tm-json-schema-validation.json"


def _no_fetch(uri: str) -> Any:
    # Every $ref of the TM schema is local; a remote one must fail, never be fetched.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def tm_validator() -> Draft7Validator:
    if not TM_SCHEMA.is_file():
        pytest.skip(f"TM schema not found at {TM_SCHEMA}")
    schema = json.loads(TM_SCHEMA.read_text(encoding="utf-8"))
    return Draft7Validator(
        schema,
        registry=Registry(retrieve=_no_fetch),  # type: ignore[call-arg]
        format_checker=Draft7Validator.FORMAT_CHECKER,
    )


def resolve(data: dict[str, Any], name: str = "fixture.sdf.json") -> ResolvedDocument:
    registry = ModelRegistry()
    doc = SdfDocument(path=Path(name), data=data)
    registry.add(doc)
    return Resolver(registry).resolve_document(doc)


SWITCH = {
    "info": {
        "title": "Switch test",
        "version": "2026-01-01",
        "license": "BSD-3-Clause",
        "copyright": "nobody",
    },
    "namespace": {"ex": "https://example.com/switch"},
    "defaultNamespace": "ex",
    "sdfObject": {
        "Switch": {
            "label": "A switch",
            "description": "on/off",
            "sdfRequired": ["#/sdfObject/Switch/sdfProperty/value"],
            "sdfProperty": {
                "value": {"type": "boolean"},
                "counter": {
                    "type": "integer",
                    "writable": False,
                    "observable": False,
                    "unit": "s",
                    "minimum": 0,
                },
                "secret": {"type": "string", "readable": False, "nullable": False},
                "stamp": {"type": "number", "sdfType": "unix-time"},
                "blob": {
                    "type": "string",
                    "sdfType": "byte-string",
                    "contentFormat": "application/octet-stream",
                },
                "mode": {"type": "string", "enum": ["a", "b"]},
                "level": {
                    "type": "integer",
                    "sdfChoice": {
                        "low": {"const": 1, "description": "the low one"},
                        "high": {"const": 2, "label": "High!"},
                        "vendor": {"minimum": 10, "maximum": 20},
                    },
                },
            },
            "sdfAction": {
                "toggle": {
                    "label": "Toggle",
                    "sdfInputData": {
                        "type": "object",
                        "properties": {"delay": {"type": "number"}},
                        "required": ["delay"],
                    },
                    "sdfOutputData": {"type": "boolean"},
                },
            },
            "sdfEvent": {"flipped": {"sdfOutputData": {"type": "boolean"}}},
            "sdfData": {
                "pair": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 2,
                    "maxItems": 2,
                    "uniqueItems": True,
                }
            },
        }
    },
}


def test_object_becomes_one_tm_with_td11_context_and_document_terms() -> None:
    models = wot.thing_models(resolve(SWITCH))
    assert list(models) == ["fixture/Switch.tm.jsonld"]
    tm = models["fixture/Switch.tm.jsonld"]
    assert tm["@context"] == [
        wot.TD_CONTEXT,
        {"sdf": wot.SDF_TERMS, "ex": "https://example.com/switch"},
    ]
    assert tm["@type"] == "tm:ThingModel"
    assert tm["title"] == "A switch"
    assert tm["description"] == "on/off"
    assert tm["version"] == {"model": "2026-01-01"}
    assert {"rel": "license", "href": "BSD-3-Clause"} in tm["links"]
    assert tm["sdf:info"] == {"title": "Switch test", "copyright": "nobody"}
    assert tm["sdf:defaultNamespace"] == "ex"
    assert tm["sdf:globalName"] == "https://example.com/switch#/sdfObject/Switch"


def test_property_access_flags_and_observable_always_written() -> None:
    props = wot.thing_models(resolve(SWITCH))["fixture/Switch.tm.jsonld"]["properties"]
    assert props["value"] == {"type": "boolean", "observable": True}
    counter = props["counter"]
    assert counter["readOnly"] is True and "writeOnly" not in counter
    assert counter["observable"] is False
    assert counter["unit"] == "s" and counter["minimum"] == 0
    secret = props["secret"]
    assert secret["writeOnly"] is True and "readOnly" not in secret
    assert secret["sdf:nullable"] is False
    assert all("observable" in p for p in props.values())


def test_extension_terms_for_qualities_without_td_counterpart() -> None:
    props = wot.thing_models(resolve(SWITCH))["fixture/Switch.tm.jsonld"]["properties"]
    assert props["stamp"]["sdf:sdfType"] == "unix-time"
    assert props["blob"]["sdf:sdfType"] == "byte-string"
    assert props["blob"]["contentEncoding"] == "base64url"
    assert props["blob"]["sdf:contentFormat"] == "application/octet-stream"
    assert props["blob"]["contentMediaType"] == "application/octet-stream"
    assert props["mode"]["enum"] == ["a", "b"]


def test_sdfchoice_becomes_oneof_of_const_and_title() -> None:
    level = wot.thing_models(resolve(SWITCH))["fixture/Switch.tm.jsonld"]["properties"]["level"]
    assert level["type"] == "integer"
    assert level["oneOf"] == [
        {"title": "low", "const": 1, "description": "the low one"},
        {"title": "high", "sdf:label": "High!", "const": 2},
        {"title": "vendor", "minimum": 10, "maximum": 20},
    ]
    schema = {k: v for k, v in level.items() if k != "observable"}
    # The DataSchema works as JSON Schema: the choices' values pass, others fail.
    assert Draft7Validator(schema).is_valid(2)
    assert Draft7Validator(schema).is_valid(15)
    assert not Draft7Validator(schema).is_valid(3)


def test_actions_events_and_schema_definitions() -> None:
    tm = wot.thing_models(resolve(SWITCH))["fixture/Switch.tm.jsonld"]
    assert tm["actions"]["toggle"] == {
        "title": "Toggle",
        "input": {
            "type": "object",
            "properties": {"delay": {"type": "number"}},
            "required": ["delay"],
        },
        "output": {"type": "boolean"},
    }
    assert tm["events"]["flipped"] == {"data": {"type": "boolean"}}
    assert tm["schemaDefinitions"]["pair"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
        "uniqueItems": True,
    }


def test_sdfrequired_becomes_tm_required_and_the_rest_tm_optional() -> None:
    tm = wot.thing_models(resolve(SWITCH))["fixture/Switch.tm.jsonld"]
    assert tm["tm:required"] == ["#/properties/value"]
    assert "/properties/value" not in tm["tm:optional"]
    assert "/properties/counter" in tm["tm:optional"]
    assert "/actions/toggle" in tm["tm:optional"]
    assert "/events/flipped" in tm["tm:optional"]


def test_sdfrequired_true_on_an_affordance() -> None:
    doc = {
        "sdfObject": {
            "o": {
                "sdfProperty": {
                    "p": {"type": "number", "sdfRequired": [True]},
                    "q": {"type": "number"},
                }
            }
        }
    }
    tm = wot.thing_models(resolve(doc))["fixture/o.tm.jsonld"]
    assert tm["tm:required"] == ["#/properties/p"]
    assert tm["tm:optional"] == ["/properties/q"]


THING = {
    "info": {"title": "house"},
    "sdfThing": {
        "house": {
            "sdfRequired": ["#/sdfThing/house/sdfObject/door"],
            "sdfProperty": {"address": {"type": "string"}},
            "sdfObject": {"door": {"sdfProperty": {"open": {"type": "boolean"}}}},
            "sdfThing": {
                "floor": {
                    "label": "Floor",
                    "minItems": 1,
                    "sdfObject": {"lamp": {"sdfProperty": {"on": {"type": "boolean"}}}},
                },
            },
        }
    },
}


def test_sdfthing_links_its_children_as_submodels() -> None:
    models = wot.thing_models(resolve(THING, "house.sdf.json"))
    assert list(models) == [
        "house/house.tm.jsonld",
        "house/house/floor.tm.jsonld",
        "house/house/floor/lamp.tm.jsonld",
        "house/house/door.tm.jsonld",
    ]
    house = models["house/house.tm.jsonld"]
    assert house["links"] == [
        {
            "rel": "tm:submodel",
            "href": wot.TM_BASE + "house/house/floor.tm.jsonld",
            "type": "application/tm+json",
            "instanceName": "floor",
        },
        {
            "rel": "tm:submodel",
            "href": wot.TM_BASE + "house/house/door.tm.jsonld",
            "type": "application/tm+json",
            "instanceName": "door",
        },
    ]
    assert house["properties"]["address"]["type"] == "string"
    floor = models["house/house/floor.tm.jsonld"]
    assert floor["title"] == "Floor"
    assert floor["sdf:minItems"] == 1
    assert floor["links"][0]["href"] == wot.TM_BASE + "house/house/floor/lamp.tm.jsonld"
    assert models["house/house/door.tm.jsonld"]["sdf:required"] is True
    assert "sdf:required" not in floor


def test_tm_url_and_base_url() -> None:
    doc = resolve(THING, "house.sdf.json")
    assert (
        wot.tm_url(doc, "/sdfThing/house/sdfObject/door")
        == "https://w3id.org/ndtwin/tm/house/house/door.tm.jsonld"
    )
    models = wot.thing_models(doc, base_url="http://localhost:8080/tm/")
    assert (
        models["house/house.tm.jsonld"]["links"][1]["href"]
        == "http://localhost:8080/tm/house/house/door.tm.jsonld"
    )


def test_names_are_percent_encoded_in_paths() -> None:
    doc = resolve({"sdfObject": {"a/b c": {"sdfProperty": {"x": {"type": "number"}}}}})
    assert list(wot.thing_models(doc)) == ["fixture/a%2Fb%20c.tm.jsonld"]


def test_clashing_paths_are_an_error() -> None:
    doc = resolve({"sdfThing": {"x": {}}, "sdfObject": {"x": {}}})
    with pytest.raises(wot.WotCompileError, match="already used"):
        wot.thing_models(doc)


def test_top_level_definitions_get_a_definitions_tm() -> None:
    doc = resolve(
        {
            "sdfProperty": {"temperature": {"type": "number", "unit": "Cel"}},
            "sdfData": {"percent": {"type": "number", "minimum": 0, "maximum": 100}},
            "sdfObject": {
                "fridge": {
                    "sdfProperty": {"t": {"sdfRef": "#/sdfProperty/temperature", "maximum": 8}}
                }
            },
        },
        "lib.sdf.json",
    )
    models = wot.thing_models(doc)
    assert list(models) == ["lib.tm.jsonld", "lib/fridge.tm.jsonld"]
    library = models["lib.tm.jsonld"]
    assert library["title"] == "lib"
    assert library["properties"]["temperature"]["unit"] == "Cel"
    assert library["schemaDefinitions"]["percent"]["maximum"] == 100
    fridge = models["lib/fridge.tm.jsonld"]["properties"]["t"]
    assert (fridge["unit"], fridge["maximum"]) == ("Cel", 8)


def test_compile_document_writes_json_text(tm_validator: Draft7Validator) -> None:
    files = wot.compile_document(resolve(SWITCH))
    for text in files.values():
        assert text.endswith("\n")
        tm_validator.validate(json.loads(text))


def test_validator_is_not_vacuous(tm_validator: Draft7Validator) -> None:
    tm = wot.thing_models(resolve(SWITCH))["fixture/Switch.tm.jsonld"]
    broken = {k: v for k, v in tm.items() if k != "@type"}
    assert not tm_validator.is_valid(broken)
    bad_optional = {**tm, "tm:optional": ["#/properties/value"]}
    assert not tm_validator.is_valid(bad_optional)


def test_rfc9880_fridge_freezer(tm_validator: Draft7Validator) -> None:
    path = CORPUS / "rfc9880-examples" / "example-sdfthing-refrigerator-freezer.sdf.json"
    if not path.is_file():
        pytest.skip("corpus not available")
    registry = ModelRegistry.from_paths([path])
    (doc,), errors = resolve_registry(registry)
    assert errors == []
    models = wot.thing_models(doc)
    stem = "example-sdfthing-refrigerator-freezer"
    thing = models[f"{stem}/refrigerator-freezer.tm.jsonld"]
    assert [link["instanceName"] for link in thing["links"]] == ["refrigerator", "freezer"]
    fridge = models[f"{stem}/refrigerator-freezer/refrigerator.tm.jsonld"]
    freezer = models[f"{stem}/refrigerator-freezer/freezer.tm.jsonld"]
    assert fridge["properties"]["temperature"]["maximum"] == 8
    assert freezer["properties"]["temperature"]["maximum"] == -6
    assert freezer["properties"]["temperature"]["unit"] == "Cel"
    assert freezer["title"] == "A freezer compartment"
    for tm in models.values():
        tm_validator.validate(tm)


# -- the corpus: every file that passes the strict schema compiles to valid TMs ---------------


def _strict_passing() -> set[Path]:
    rows = csv.DictReader((CORPUS / "validation-results.csv").open(encoding="utf-8"))
    return {CORPUS / row["path"] for row in rows if row["rfc9880_validation_schema"] == "pass"}


@pytest.fixture(scope="module")
def corpus_documents() -> list[ResolvedDocument]:
    if not (CORPUS / "validation-results.csv").is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    passing = _strict_passing()
    # The whole corpus is the local registry, so cross-document sdfRefs resolve offline.
    resolved, _ = resolve_registry(ModelRegistry.from_paths([CORPUS]))
    return [doc for doc in resolved if doc.source.path in passing]


def test_corpus_every_strictly_valid_file_compiles_to_valid_tms(
    corpus_documents: list[ResolvedDocument], tm_validator: Draft7Validator
) -> None:
    assert len(corpus_documents) == len(_strict_passing()) == 340
    per_folder: Counter[str] = Counter()
    failures = []
    for doc in corpus_documents:
        models = wot.thing_models(doc)
        assert models, doc.source.path
        per_folder[doc.source.path.relative_to(CORPUS).parts[0]] += 1
        for path, tm in models.items():
            errors = list(tm_validator.iter_errors(tm))
            if errors:
                failures.append(f"{doc.source.path}: {path}: {errors[0].message}")
    assert failures == []
    assert per_folder == {
        "playground": 187,
        "ocf-models": 142,
        "exploratory": 7,
        "rfc9880-examples": 4,
    }


def test_corpus_every_grouping_has_a_tm_and_every_submodel_link_resolves(
    corpus_documents: list[ResolvedDocument],
) -> None:
    for doc in corpus_documents:
        models = wot.thing_models(doc)
        urls = {wot.TM_BASE + path for path in models}
        assert {wot.tm_url(doc, p) for p in wot.grouping_pointers(doc)} <= urls
        for tm in models.values():
            for link in tm.get("links", []):
                if link["rel"] == "tm:submodel":
                    assert link["href"] in urls


def test_our_models_compile_to_valid_tms(tm_validator: Draft7Validator) -> None:
    models_dir = ROOT / "models" / "sdf"
    registry = ModelRegistry.from_paths([models_dir])
    if not registry.documents:
        pytest.skip("no models under models/sdf yet")
    resolved, errors = resolve_registry(registry)
    assert [str(e) for e in errors] == []
    for doc in resolved:
        for path, tm in wot.thing_models(doc).items():
            assert tm_validator.is_valid(tm), (path, next(tm_validator.iter_errors(tm)).message)


def test_thing_model_rejects_pointers_that_are_not_groupings() -> None:
    doc = resolve(SWITCH)
    with pytest.raises(wot.WotCompileError, match="no definition"):
        wot.thing_model(doc, "/sdfObject/Nope")
    with pytest.raises(wot.WotCompileError, match="not an sdfObject"):
        wot.thing_model(doc, "/sdfObject/Switch/sdfProperty/value")
