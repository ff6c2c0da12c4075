"""WoT Thing Model → SDF import, and the SDF → TM → SDF round trip.

Equivalence of two resolved documents (what the round trip must preserve).
Both are resolved (RFC 9880 §4.4: sdfRef applied, sdfRequired made global
names, property defaults filled in) and then canonicalized; they are
equivalent when the canonical bodies are equal. Canonicalization removes
only these differences, none of which changes what a model allows:

1. *Where* an sdfRequired entry is written: all entries of a document are
   compared as one set of global names (relative to the document's base URI).
   A TM can only say "required" on the TM that holds the affordance, so the
   importer writes each entry there.
2. A grouping's ``label`` equal to its given name: TD requires a ``title``, so
   the compiler writes the name when there is no label; RFC 9880 §6.2 lets
   applications use the name when the label is absent.
3. An empty definition group (``"sdfAction": {}``), which says nothing.

Everything else must be equal: ``info``, ``namespace``, ``defaultNamespace``,
every definition (sdfThing, sdfObject, top-level and nested affordances,
sdfData) with every quality — data qualities, sdfChoice names and order,
labels and descriptions of affordances and data, units, ``readable``/
``writable``/``observable``/``nullable``, ``sdfType``, ``contentFormat``,
``$comment``, ``minItems``/``maxItems`` of groupings.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from server.modeling.compilers import wot
from server.modeling.importers.tm import TmImportError, import_tm, import_tm_file, import_tms
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolvedDocument, Resolver, resolve_registry

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("NDTWIN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "onedm"
SDF_SCHEMA = SHARED / "schemas" / "sdf" / "sdf-validation.jso.json"
TM_SCHEMA = SHARED / "schemas" / "wot" / "tm-json-schema-validation.json"
FIXTURES = ROOT / "tests" / "fixtures" / "sdf"

_GROUPS = ("sdfThing", "sdfObject", "sdfProperty", "sdfAction", "sdfEvent", "sdfData")


def canonical(doc: ResolvedDocument) -> tuple[Any, set[Any]]:
    """The canonical body and the required set of a resolved document (see module doc)."""
    body = json.loads(json.dumps(doc.body))
    local = doc.base_uri + "#"
    required: set[Any] = set()

    def walk(node: Any, name: str | None = None, grouping: bool = False) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for entry in node.pop("sdfRequired", None) or []:
            relative = isinstance(entry, str) and entry.startswith(local)
            required.add(entry[len(local) :] if relative else entry)
        if grouping and node.get("label") == name:
            del node["label"]
        for key in [k for k in _GROUPS if node.get(k) == {}]:
            del node[key]
        for key, value in node.items():
            if key in ("sdfThing", "sdfObject") and isinstance(value, dict):
                for child_name, child in value.items():
                    walk(child, child_name, True)
            else:
                walk(value)

    walk(body)
    return body, required


def round_trip(doc: ResolvedDocument) -> tuple[dict[str, Any], ResolvedDocument]:
    """Compile to TM files, parse them back, import, and resolve the result alone."""
    texts = wot.compile_document(doc)
    models = {wot.TM_BASE + path: json.loads(text) for path, text in texts.items()}
    imported = import_tms(models)
    registry = ModelRegistry()
    again = SdfDocument(path=doc.source.path, data=imported)
    registry.add(again)
    # Resolving in a registry of its own: the import leaves no reference outside itself.
    return imported, Resolver(registry).resolve_document(again)


def assert_equivalent(original: ResolvedDocument, again: ResolvedDocument) -> None:
    assert canonical(again) == canonical(original)


def resolve(data: dict[str, Any], name: str = "fixture.sdf.json") -> ResolvedDocument:
    registry = ModelRegistry()
    doc = SdfDocument(path=Path(name), data=data)
    registry.add(doc)
    return Resolver(registry).resolve_document(doc)


RICH = {
    "info": {
        "title": "Round trip fixture",
        "version": "2026-02-01",
        "license": "Apache-2.0",
        "copyright": "ndtwin",
        "$comment": "kept",
    },
    "namespace": {
        "rt": "https://example.com/rt",
        "other": "https://example.com/other",
        "schema": "https://schema.org/",
    },
    "defaultNamespace": "rt",
    "sdfProperty": {
        "temperature": {
            "type": "number",
            "unit": "Cel",
            "description": "shared template",
            "sdfRequired": ["other:#/sdfObject/y"],
        }
    },
    "sdfData": {"percent": {"type": "integer", "minimum": 0, "maximum": 100, "unit": "/100"}},
    "sdfThing": {
        "site": {
            "label": "A site",
            "sdfRequired": ["#/sdfThing/site/sdfObject/meter", "other:#/sdfObject/x"],
            "sdfProperty": {"address": {"type": "string", "maxLength": 80}},
            "sdfEvent": {
                "alarm": {
                    "sdfOutputData": {
                        "type": "object",
                        "required": ["code"],
                        "properties": {"code": {"type": "integer"}},
                    }
                }
            },
            "sdfObject": {
                "meter": {
                    "sdfRequired": ["power"],
                    "$comment": "a meter",
                    "sdfProperty": {
                        "power": {
                            "type": "number",
                            "unit": "W",
                            "writable": False,
                            "observable": False,
                            "exclusiveMinimum": 0,
                        },
                        "temp": {"sdfRef": "#/sdfProperty/temperature", "maximum": 60},
                        "share": {"sdfRef": "#/sdfData/percent", "nullable": False},
                        "token": {
                            "type": "string",
                            "readable": False,
                            "sdfType": "byte-string",
                            "contentFormat": "application/cbor",
                        },
                        "seen": {"type": "number", "sdfType": "unix-time"},
                        "phase": {"type": "string", "enum": ["L1", "L2", "L3"], "label": "Phase"},
                        "quality": {
                            "type": "integer",
                            "sdfChoice": {
                                "good": {"const": 0, "description": "fine"},
                                "bad": {"const": 1, "label": "Bad one"},
                                "vendor": {"minimum": 16, "maximum": 23},
                            },
                        },
                        "samples": {
                            "type": "array",
                            "minItems": 1,
                            "uniqueItems": True,
                            "items": {"type": "number", "minimum": 0},
                        },
                    },
                    "sdfAction": {
                        "reset": {
                            "label": "Reset",
                            "sdfRequired": [True],
                            "sdfInputData": {"sdfRef": "#/sdfData/percent"},
                            "sdfOutputData": {"type": "boolean"},
                            "sdfData": {"scratch": {"type": "string"}},
                        },
                    },
                    "sdfData": {
                        "window": {
                            "type": "object",
                            "properties": {
                                "from": {"type": "string", "format": "date-time"},
                                "to": {"type": "string", "format": "date-time"},
                            },
                        }
                    },
                },
            },
            "sdfThing": {
                "floor": {
                    "minItems": 1,
                    "maxItems": 4,
                    "sdfObject": {
                        "lamp": {
                            "label": "lamp",
                            "sdfRequired": [True],
                            "sdfProperty": {"on": {"type": "boolean"}},
                        }
                    },
                },
            },
        }
    },
}


def test_rich_fixture_round_trips() -> None:
    original = resolve(RICH, "rich.sdf.json")
    if TM_SCHEMA.is_file():
        validator = Draft7Validator(json.loads(TM_SCHEMA.read_text(encoding="utf-8")))
        for tm in wot.thing_models(original).values():
            validator.validate(tm)
    imported, again = round_trip(original)
    assert_equivalent(original, again)
    # The differences the canonical form forgives do show up here, as documented.
    # (the sdfRef to the top-level temperature copied its sdfRequired into the meter)
    assert imported["sdfThing"]["site"]["sdfObject"]["meter"]["sdfRequired"] == [
        "#/sdfThing/site/sdfObject/meter/sdfProperty/power",
        "#/sdfThing/site/sdfObject/meter/sdfAction/reset",
        True,
        "other:#/sdfObject/y",
    ]
    assert imported["sdfProperty"]["temperature"]["sdfRequired"] == ["other:#/sdfObject/y"]
    assert imported["sdfThing"]["site"]["sdfRequired"] == ["other:#/sdfObject/x"]
    assert "label" not in imported["sdfThing"]["site"]["sdfThing"]["floor"]["sdfObject"]["lamp"]
    # The reserved prefix stays out of @context but is not lost.
    assert imported["namespace"]["schema"] == "https://schema.org/"


def test_equivalence_is_not_vacuous() -> None:
    original = resolve(RICH, "rich.sdf.json")
    _, again = round_trip(original)
    changed = json.loads(json.dumps(again.body))
    meter = changed["sdfThing"]["site"]["sdfObject"]["meter"]
    meter["sdfProperty"]["power"]["observable"] = True
    assert canonical(original) != canonical(ResolvedDocument(again.source, changed))
    meter["sdfProperty"]["power"]["observable"] = False
    meter["sdfProperty"]["quality"]["sdfChoice"]["bad"]["const"] = 2
    assert canonical(original) != canonical(ResolvedDocument(again.source, changed))
    del meter["sdfProperty"]["quality"]["sdfChoice"]["bad"]["const"]
    meter["sdfProperty"]["quality"]["sdfChoice"]["bad"]["const"] = 1
    assert canonical(original) == canonical(ResolvedDocument(again.source, changed))
    meter["sdfRequired"] = []
    assert canonical(original) != canonical(ResolvedDocument(again.source, changed))


def _registry_documents(*folders: Path) -> list[ResolvedDocument]:
    registry = ModelRegistry.from_paths([f for f in folders if f.is_dir()])
    resolved, errors = resolve_registry(registry)
    assert [str(e) for e in errors] == []
    return resolved


def test_our_fixtures_and_models_round_trip() -> None:
    docs = _registry_documents(FIXTURES / "valid", FIXTURES / "registry")
    docs += _registry_documents(ROOT / "models" / "sdf")
    if not docs:
        pytest.skip("no SDF fixtures or models in the tree yet")
    for doc in docs:
        _, again = round_trip(doc)
        assert canonical(again) == canonical(doc), doc.source.path


@pytest.fixture(scope="module")
def corpus_documents() -> list[ResolvedDocument]:
    results = CORPUS / "validation-results.csv"
    if not results.is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    rows = csv.DictReader(results.open(encoding="utf-8"))
    passing = {CORPUS / row["path"] for row in rows if row["rfc9880_validation_schema"] == "pass"}
    resolved, _ = resolve_registry(ModelRegistry.from_paths([CORPUS]))
    return [doc for doc in resolved if doc.source.path in passing]


def test_corpus_round_trips_to_equivalent_models(corpus_documents: list[ResolvedDocument]) -> None:
    assert len(corpus_documents) == 340
    playground = [d for d in corpus_documents if "playground" in d.source.path.parts]
    assert len(playground) == 187
    not_equivalent = []
    for doc in corpus_documents:
        _, again = round_trip(doc)
        if canonical(again) != canonical(doc):
            not_equivalent.append(str(doc.source.path))
    assert not_equivalent == []


def test_imported_corpus_documents_pass_the_strict_sdf_schema(
    corpus_documents: list[ResolvedDocument],
) -> None:
    if not SDF_SCHEMA.is_file():
        pytest.skip("SDF schema not available")
    strict = Draft7Validator(json.loads(SDF_SCHEMA.read_text(encoding="utf-8")))
    invalid = set()
    for doc in corpus_documents:
        imported, _ = round_trip(doc)
        if not strict.is_valid(imported):
            invalid.add(doc.source.path.name)
    # Only where resolution itself pulled in pre-RFC syntax: oven-mode's cross-document
    # target (sdfdata-ovenModeData) still uses sdfEnum, and fails the strict schema too.
    carries_old_syntax = {
        d.source.path.name for d in corpus_documents if '"sdfEnum"' in json.dumps(d.body)
    }
    assert invalid == carries_old_syntax
    assert len(invalid) <= 1


# -- Thing Models written by others ----------------------------------------------------------

FOREIGN_ROOM = {
    "@context": ["https://www.w3.org/2022/wot/td/v1.1", {"saref": "https://saref.etsi.org/core/"}],
    "@type": "tm:ThingModel",
    "title": "Room",
    "version": {"model": "1.0.0"},
    "links": [
        {"rel": "tm:submodel", "href": "./lamp.tm.jsonld", "instanceName": "ceiling"},
        {"rel": "license", "href": "https://spdx.org/licenses/MIT"},
    ],
    "schemaDefinitions": {"level": {"type": "integer", "minimum": 0, "maximum": 10}},
    "properties": {
        "occupied": {"type": "boolean", "readOnly": True},
        "dim": {"tm:ref": "#/schemaDefinitions/level", "observable": True},
        "speed": {"type": "integer", "enum": [1, 2, 3]},
        "scene": {"oneOf": [{"const": "day", "title": "Day"}, {"const": "night"}]},
        "kind": {
            "type": "string",
            "writeOnly": True,
            "@type": "saref:Property",
            "forms": [{"href": "http://x/kind"}],
        },
    },
    "actions": {
        "clean": {
            "title": "Clean",
            "safe": False,
            "idempotent": True,
            "input": {
                "type": "object",
                "properties": {"fast": {"type": "boolean", "readOnly": True}},
            },
        }
    },
    "events": {"entered": {"data": {"type": "string"}, "subscription": {"type": "string"}}},
    "tm:optional": ["/properties/speed", "/actions/clean"],
}
FOREIGN_LAMP = {
    "@context": "https://www.w3.org/2022/wot/td/v1.1",
    "@type": "tm:ThingModel",
    "title": "Lamp",
    "properties": {"on": {"type": "boolean", "observable": True}},
}


def test_import_a_foreign_tm_with_a_submodel() -> None:
    sdf = import_tm(
        FOREIGN_ROOM,
        url="http://tm.example/room.tm.jsonld",
        load={"http://tm.example/lamp.tm.jsonld": FOREIGN_LAMP},
    )
    assert sdf["info"] == {
        "title": "Room",
        "version": "1.0.0",
        "license": "https://spdx.org/licenses/MIT",
    }
    assert sdf["namespace"] == {"saref": "https://saref.etsi.org/core/"}
    room = sdf["sdfThing"]["Room"]
    assert "label" not in room
    assert room["sdfObject"]["ceiling"] == {
        "label": "Lamp",
        "sdfProperty": {"on": {"type": "boolean", "observable": True}},
        "sdfRequired": ["#/sdfThing/Room/sdfObject/ceiling/sdfProperty/on"],
    }
    props = room["sdfProperty"]
    assert props["occupied"] == {"type": "boolean", "writable": False, "observable": False}
    assert props["dim"] == {"sdfRef": "#/sdfThing/Room/sdfData/level", "observable": True}
    assert props["speed"]["sdfChoice"] == {"1": {"const": 1}, "2": {"const": 2}, "3": {"const": 3}}
    assert props["scene"]["sdfChoice"] == {
        "Day": {"const": "day"},
        "alternative2": {"const": "night"},
    }
    assert props["kind"] == {"type": "string", "readable": False, "observable": False}
    assert room["sdfAction"]["clean"] == {
        "label": "Clean",
        "sdfInputData": {"type": "object", "properties": {"fast": {"type": "boolean"}}},
    }
    assert room["sdfEvent"]["entered"] == {"sdfOutputData": {"type": "string"}}
    assert sorted(room["sdfRequired"]) == sorted(
        [
            "#/sdfThing/Room/sdfProperty/occupied",
            "#/sdfThing/Room/sdfProperty/dim",
            "#/sdfThing/Room/sdfProperty/scene",
            "#/sdfThing/Room/sdfProperty/kind",
            "#/sdfThing/Room/sdfEvent/entered",
        ]
    )


def test_imported_foreign_tm_is_valid_sdf_and_resolves() -> None:
    sdf = import_tm(
        FOREIGN_ROOM,
        url="http://tm.example/room.tm.jsonld",
        load={"http://tm.example/lamp.tm.jsonld": FOREIGN_LAMP},
    )
    if SDF_SCHEMA.is_file():
        Draft7Validator(json.loads(SDF_SCHEMA.read_text(encoding="utf-8"))).validate(sdf)
    resolved = resolve(sdf, "room.sdf.json")
    dim = resolved.body["sdfThing"]["Room"]["sdfProperty"]["dim"]
    assert (dim["minimum"], dim["maximum"], dim["writable"]) == (0, 10, True)


def test_unsupported_and_broken_inputs_raise_import_errors() -> None:
    extends = {**FOREIGN_LAMP, "links": [{"rel": "tm:extends", "href": "base.tm.jsonld"}]}
    with pytest.raises(TmImportError, match="tm:extends"):
        import_tm(extends)
    remote_ref = {**FOREIGN_LAMP, "properties": {"x": {"tm:ref": "other.tm.jsonld#/p"}}}
    with pytest.raises(TmImportError, match="schemaDefinitions"):
        import_tm(remote_ref)
    with pytest.raises(TmImportError, match="not among"):
        import_tm(FOREIGN_ROOM, url="http://tm.example/room.tm.jsonld", load={})
    with pytest.raises(TmImportError, match="no loader"):
        import_tm(FOREIGN_ROOM)
    looping = {
        "title": "loop",
        "links": [{"rel": "tm:submodel", "href": "loop.tm.jsonld", "instanceName": "again"}],
    }
    with pytest.raises(TmImportError, match="contains itself"):
        import_tm(
            looping,
            url="http://tm.example/loop.tm.jsonld",
            load={"http://tm.example/loop.tm.jsonld": looping},
        )
    with pytest.raises(TmImportError):
        import_tm([])  # type: ignore[arg-type]


def test_import_tm_file_reads_submodels_from_the_compiled_layout(tmp_path: Path) -> None:
    original = resolve(RICH, "rich.sdf.json")
    for path, text in wot.compile_document(original).items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    sdf = import_tm_file(tmp_path / "rich" / "site.tm.jsonld")
    site = sdf["sdfThing"]["site"]
    assert site["label"] == "A site"
    assert site["sdfThing"]["floor"]["sdfObject"]["lamp"]["sdfProperty"]["on"]["type"] == "boolean"
    assert site["sdfObject"]["meter"]["sdfProperty"]["temp"]["maximum"] == 60
    (tmp_path / "rich" / "site" / "meter.tm.jsonld").unlink()
    with pytest.raises(TmImportError, match="not found"):
        import_tm_file(tmp_path / "rich" / "site.tm.jsonld")
