"""SDF → JSON Schema 2020-12: per-type schemas of Ditto-shaped twins, and their dispatch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from server.modeling.compilers import jsonschema as compiler
from server.modeling.compilers.twintypes import twin_types
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolvedDocument, resolve_registry

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus" / "onedm"
MODELS = REPO / "models" / "sdf"
NS = "https://example.org/m"


def resolve(body: dict[str, Any], name: str = "cells") -> ResolvedDocument:
    registry = ModelRegistry()
    registry.add(SdfDocument(path=Path(f"{name}.sdf.json"), data=body))
    docs, errors = resolve_registry(registry)
    assert not errors, errors
    return docs[0]


CELLS = resolve(
    {
        "namespace": {"m": NS},
        "defaultNamespace": "m",
        "sdfObject": {
            "Cell": {
                "label": "LTE cell",
                "sdfRequired": ["#/sdfObject/Cell/sdfProperty/pci"],
                "sdfProperty": {
                    "pci": {"type": "integer", "minimum": 0, "maximum": 503, "nullable": False},
                    "rsrp": {"type": "number", "minimum": -140, "maximum": -44, "unit": "dBm"},
                    "seen": {"type": "string", "format": "date-time"},
                    "mode": {"sdfChoice": {"idle": {"const": "idle"}, "busy": {"const": "busy"}}},
                    "code": {"type": "string", "pattern": "^P(?=1)"},
                },
            }
        },
        "sdfThing": {
            "Site": {
                "sdfRequired": ["#/sdfThing/Site/sdfObject/main"],
                "sdfObject": {
                    "main": {"sdfRef": "#/sdfObject/Cell"},
                    "neighbours": {"sdfRef": "#/sdfObject/Cell", "minItems": 0, "maxItems": 8},
                },
                "sdfThing": {
                    "modem": {
                        "sdfRequired": ["#/sdfThing/Site/sdfThing/modem/sdfObject/sim"],
                        "sdfObject": {"sim": {"sdfProperty": {"iccid": {"type": "string"}}}},
                    }
                },
            }
        },
    }
)
CELL = f"{NS}#/sdfObject/Cell"
SITE = f"{NS}#/sdfThing/Site"


def schemas(doc: ResolvedDocument) -> dict[str, dict[str, Any]]:
    return compiler.document_schemas(doc)


def test_one_schema_per_twin_type_named_by_its_path() -> None:
    names = sorted(compiler.compile_document(CELLS))
    assert names == sorted(
        [
            "cells.Cell.schema.json",
            "cells.Site.schema.json",
            "cells.Site.main.schema.json",
            "cells.Site.neighbours.schema.json",
            "cells.Site.modem.schema.json",
            "cells.Site.modem.sim.schema.json",
        ]
    )
    for text in compiler.compile_document(CELLS).values():
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_member_schemas() -> None:
    cell = schemas(CELLS)["cells.Cell.schema.json"]
    assert cell["title"] == "LTE cell"
    assert cell["x-ndtwin-class"] == CELL
    values = cell["$defs"]["values"]
    assert values["required"] == ["pci"]
    assert cell["required"] == ["attributes"]
    # Not nullable: the type alone. Nullable (the default): null or the value.
    assert values["properties"]["pci"] == {"type": "integer", "minimum": 0, "maximum": 503}
    assert values["properties"]["rsrp"] == {
        "unit": "dBm",
        "anyOf": [{"type": "null"}, {"type": "number", "minimum": -140, "maximum": -44}],
    }
    seen = values["properties"]["seen"]["anyOf"][1]
    assert seen["type"] == "string" and seen["pattern"].startswith("^[0-9]{4}-")
    mode = values["properties"]["mode"]["anyOf"][1]
    assert mode == {
        "anyOf": [{"title": "idle", "const": "idle"}, {"title": "busy", "const": "busy"}]
    }
    # The lookahead cannot be enforced alike in SHACL, so neither enforces it.
    assert "pattern" not in values["properties"]["code"]["anyOf"][1]
    assert "/sdfProperty/code/pattern" in cell["$comment"]


def test_decisions_on_a_twin() -> None:
    validator = Draft202012Validator(schemas(CELLS)["cells.Cell.schema.json"])

    def ok(attributes: dict[str, Any]) -> bool:
        return validator.is_valid({"thingId": "a:b", "definition": CELL, "attributes": attributes})

    assert ok({"pci": 7})
    assert ok({"pci": 7.0})  # an integer in JSON Schema's sense
    assert ok({"pci": 7, "rsrp": -100})  # an int is a number
    assert ok({"pci": 7, "rsrp": None})
    assert not ok({"pci": None})
    assert not ok({"rsrp": -100})
    assert not ok({"pci": 7, "rsrp": [-100]})
    assert not ok({"pci": 7, "seen": "2026-11-21"})
    assert ok({"pci": 7, "seen": "2026-11-21T10:00:00Z", "mode": "busy", "unmodelled": 1})
    assert not ok({"pci": 7, "mode": "off"})
    assert not validator.is_valid({"thingId": "a:b", "definition": CELL})


def test_thing_features() -> None:
    site = schemas(CELLS)["cells.Site.schema.json"]
    features = site["properties"]["features"]
    assert features["required"] == ["main"]
    assert set(features["properties"]) == {"main", "modem", "modem.sim"}
    assert set(features["patternProperties"]) == {"^neighbours\\..+$"}
    assert features["dependentRequired"] == {"modem": ["modem.sim"]}
    assert site["required"] == ["features"]
    # A Site named in a feature's definition needs features of its own: never valid.
    assert site["$defs"]["feature"] is False
    validator = Draft202012Validator(site)
    main = {"properties": {"pci": 1}}
    assert validator.is_valid({"features": {"main": main}})
    assert not validator.is_valid({"features": {"main": {"properties": {}}}})
    assert not validator.is_valid({"features": {"main": main, "modem": {}}})
    assert validator.is_valid({"features": {"main": main, "modem": {}, "modem.sim": {}}})
    assert not validator.is_valid({"features": {"main": main, "neighbours.7": {}}})
    assert validator.is_valid(
        {"features": {"main": main, "neighbours.7": {"properties": {"pci": 2}}}}
    )


def test_twin_schemas_dispatch_on_definitions() -> None:
    checker = compiler.TwinSchemas(schemas(CELLS).values())
    base = {"thingId": "a:b", "definition": SITE, "features": {"main": {"properties": {"pci": 1}}}}
    assert checker.twin_errors(base) == []
    # Any feature whose definition names Cell is checked as a Cell.
    typed = {
        **base,
        "features": {**base["features"], "other": {"definition": [CELL], "properties": {}}},
    }
    errors = checker.twin_errors(typed)
    assert errors and all(e.startswith("/features/other/properties") for e in errors)
    # Definitions that name no compiled class select nothing.
    unknown = {
        "thingId": "a:b",
        "definition": "org.example:x:1",
        "features": {"f": {"definition": ["org.example:y:1"], "properties": {"p": 1}}},
    }
    assert checker.is_valid_twin(unknown)
    relation = {
        "id": "r",
        "source": "a:b",
        "target": "c:d",
        "type": "observes",
        "definition": CELL,
        "properties": {"pci": 600},
    }
    assert checker.relationship_errors(relation)
    assert not checker.relationship_errors({**relation, "properties": {"pci": 6}})


def test_type_set_warnings_are_recorded() -> None:
    types = twin_types(CELLS)
    site = next(t for t in types.types if t.name == "Site")
    assert any("neighbours" in w and "not enforced" in w for w in site.warnings)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="OneDM corpus not present")
def test_every_corpus_model_compiles_to_valid_schemas() -> None:
    registry = ModelRegistry.from_paths([CORPUS / "playground", CORPUS / "rfc9880-examples"])
    docs, errors = resolve_registry(registry)
    assert len(docs) == 191 and not errors
    total = 0
    for doc in docs:
        compiled = compiler.compile_document(doc)
        assert len(compiled) == len(twin_types(doc).types)
        for name, text in compiled.items():
            assert name.startswith(doc.source.stem + ".") and name.endswith(".schema.json")
            Draft202012Validator.check_schema(json.loads(text))
            total += 1
    assert total >= 187


@pytest.mark.skipif(not MODELS.is_dir(), reason="ndtwin models not present yet")
def test_own_models_compile_and_validate_their_own_examples() -> None:
    docs, errors = resolve_registry(ModelRegistry.from_paths([MODELS]))
    assert docs and not errors
    checker = compiler.TwinSchemas.from_documents(docs)
    for doc in docs:
        for schema in compiler.document_schemas(doc).values():
            Draft202012Validator.check_schema(schema)
    empty = {"thingId": "a:b", "definition": "https://w3id.org/ndtwin/models/phone#/sdfThing/Phone"}
    # The phone requires its device and modem features.
    assert any("features" in e for e in checker.twin_errors(empty))
