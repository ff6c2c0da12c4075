"""SDF → SHACL: the mapping of each data quality, the corpus, and pattern translation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyshacl
import pytest
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import SH

from server.modeling.compilers import shacl
from server.modeling.compilers.patterns import FORMATS, UnsupportedPattern, translate
from server.modeling.compilers.twintypes import twin_types
from server.modeling.projection import project_twin
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolvedDocument, resolve_registry
from server.modeling.vocab import KEY, NDT, SIZE

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus" / "onedm"
NS = "https://example.org/m"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="OneDM corpus not present")


def resolve(*bodies: dict[str, Any]) -> list[ResolvedDocument]:
    registry = ModelRegistry()
    for index, body in enumerate(bodies):
        registry.add(SdfDocument(path=Path(f"doc{index}.sdf.json"), data=body))
    docs, errors = resolve_registry(registry)
    assert not errors, errors
    return docs


def one(properties: dict[str, Any], **object_qualities: Any) -> ResolvedDocument:
    return resolve(
        {
            "namespace": {"m": NS},
            "defaultNamespace": "m",
            "sdfObject": {"Cell": {"sdfProperty": properties, **object_qualities}},
        }
    )[0]


def prop_shape(graph: Graph, name: str) -> URIRef:
    return URIRef(f"{NS}#/sdfObject/Cell/sdfProperty/{name}/shape")


def test_node_shape_per_object_targets_its_class() -> None:
    graph = shacl.shapes_graph(
        one({"rsrp": {"type": "integer"}}, label="LTE cell", description="An LTE cell")
    )
    shape = URIRef(f"{NS}#/sdfObject/Cell/shape")
    assert (shape, RDF.type, SH.NodeShape) in graph
    assert (shape, SH.targetClass, URIRef(f"{NS}#/sdfObject/Cell")) in graph
    assert (shape, SH.name, Literal("LTE cell")) in graph
    assert (shape, SH.description, Literal("An LTE cell")) in graph
    assert (shape, SH.property, prop_shape(graph, "rsrp")) in graph


def test_typed_member_mapping() -> None:
    graph = shacl.shapes_graph(
        one(
            {
                "rsrp": {
                    "type": "integer",
                    "minimum": -140,
                    "maximum": -44,
                    "unit": "dBm",
                    "label": "RSRP",
                    "description": "Reference signal received power",
                    "nullable": False,
                    "writable": False,
                },
                "sinr": {"type": "number", "exclusiveMinimum": -20.5, "exclusiveMaximum": 30},
                "mcc": {
                    "type": "string",
                    "pattern": "^\\d{3}$",
                    "minLength": 3,
                    "maxLength": 3,
                    "nullable": False,
                },
                "on": {"type": "boolean", "nullable": False},
                "band": {"type": "string", "enum": ["b3", "b20"], "nullable": False},
            },
            sdfRequired=["#/sdfObject/Cell/sdfProperty/rsrp"],
        )
    )
    rsrp = prop_shape(graph, "rsrp")
    expected = {
        (SH.path, KEY.rsrp),
        (SH.datatype, XSD.integer),
        (SH.minCount, Literal(1)),
        (SH.maxCount, Literal(1)),
        (SH.minInclusive, Literal(-140)),
        (SH.maxInclusive, Literal(-44)),
        (NDT.unit, Literal("dBm")),
        (SH.name, Literal("RSRP")),
        (SH.description, Literal("Reference signal received power")),
        (NDT.writable, Literal(False)),
    }
    assert expected <= set(graph.predicate_objects(rsrp))
    size = URIRef(f"{rsrp}/size")
    assert {(SH.path, SIZE.rsrp), (SH.maxCount, Literal(0))} <= set(graph.predicate_objects(size))
    # number: nullable by default, so null or a number in the open interval.
    sinr_value = URIRef(f"{prop_shape(graph, 'sinr')}/value")
    assert {
        (SH.node, NDT.NumberValue),
        (SH.minExclusive, Literal(-20.5)),
        (SH.maxExclusive, Literal(30)),
    } <= set(graph.predicate_objects(sinr_value))
    mcc = set(graph.predicate_objects(prop_shape(graph, "mcc")))
    assert {
        (SH.datatype, XSD.string),
        (SH.pattern, Literal("^[0-9]{3}$")),
        (SH.minLength, Literal(3)),
        (SH.maxLength, Literal(3)),
    } <= mcc
    assert (SH.datatype, XSD.boolean) in set(graph.predicate_objects(prop_shape(graph, "on")))
    band = graph.value(prop_shape(graph, "band"), SH["in"])
    assert [str(v) for v in graph.items(band)] == ["b3", "b20"]


def test_unsupported_pattern_is_skipped_with_a_warning() -> None:
    doc = one({"d": {"type": "string", "pattern": "^P(?!$)"}})
    graph = shacl.shapes_graph(doc)
    assert not list(graph.subjects(SH.pattern, None))
    warnings = [str(w) for w in graph.objects(URIRef(f"{NS}#/sdfObject/Cell/shape"), NDT.warning)]
    assert any("/sdfProperty/d/pattern" in w and "lookaround" in w for w in warnings)


def test_multiple_of_is_a_shared_sparql_constraint() -> None:
    graph = shacl.shapes_graph(
        one(
            {"a": {"type": "number", "multipleOf": 0.5}, "b": {"type": "number", "multipleOf": 0.5}}
        )
    )
    shared = NDT["MultipleOf/0.5"]
    assert len(list(graph.subjects(SH.node, shared))) == 2
    query = str(graph.value(graph.value(shared, SH.sparql), SH.select))
    assert "FLOOR($this / " in query


def _validates(doc: ResolvedDocument, attributes: dict[str, Any]) -> bool:
    data = Graph()
    for triple in project_twin(
        "t", {"thingId": "n:x", "definition": f"{NS}#/sdfObject/Cell", "attributes": attributes}
    ):
        data.add(triple)
    conforms, _, _ = pyshacl.validate(data, shacl_graph=shacl.shapes_graph(doc))
    return bool(conforms)


def test_pyshacl_decides_with_the_shapes() -> None:
    doc = one(
        {
            "level": {"type": "integer", "minimum": 0, "maximum": 4},
            "step": {"type": "number", "multipleOf": 0.5},
            "ids": {
                "type": "array",
                "items": {"type": "string"},
                "uniqueItems": True,
                "maxItems": 2,
            },
        },
        sdfRequired=["#/sdfObject/Cell/sdfProperty/level"],
    )
    assert _validates(doc, {"level": 4})
    assert _validates(doc, {"level": None})  # required, and null is present
    assert not _validates(doc, {})
    assert not _validates(doc, {"level": 5})
    assert not _validates(doc, {"level": "4"})
    assert _validates(doc, {"level": 1, "step": 2.5, "extra": {"any": ["thing"]}})
    assert not _validates(doc, {"level": 1, "step": 2.25})
    assert _validates(doc, {"level": 1, "ids": ["a", "b"]})
    assert not _validates(doc, {"level": 1, "ids": ["a", "a"]})
    assert not _validates(doc, {"level": 1, "ids": ["a", "b", "c"]})
    assert not _validates(doc, {"level": 1, "ids": "a"})


def test_thing_validates_features_named_after_its_objects() -> None:
    doc = resolve(
        {
            "namespace": {"m": NS},
            "defaultNamespace": "m",
            "sdfThing": {
                "Fridge": {
                    "sdfRequired": ["#/sdfThing/Fridge/sdfObject/cooler"],
                    "sdfProperty": {"on": {"type": "boolean"}},
                    "sdfObject": {
                        "cooler": {"sdfProperty": {"t": {"type": "number", "maximum": 8}}},
                        "shelf": {
                            "minItems": 0,
                            "maxItems": 4,
                            "sdfProperty": {"h": {"type": "integer"}},
                        },
                    },
                }
            },
        }
    )[0]
    graph = shacl.shapes_graph(doc)

    def ok(features: dict[str, Any]) -> bool:
        data = Graph()
        for triple in project_twin(
            "t",
            {
                "thingId": "n:f",
                "definition": f"{NS}#/sdfThing/Fridge",
                "attributes": {"on": True},
                "features": features,
            },
        ):
            data.add(triple)
        return bool(pyshacl.validate(data, shacl_graph=graph)[0])

    assert ok({"cooler": {"properties": {"t": 4}}})
    assert not ok({})  # required feature
    assert not ok({"cooler": {"properties": {"t": 9}}})
    assert ok({"cooler": {}, "shelf.1": {"properties": {"h": 3}}})
    assert not ok({"cooler": {}, "shelf.1": {"properties": {"h": 3.5}}})
    assert ok({"cooler": {}, "unmodelled": {"properties": {"t": "hot"}}})


def test_compiled_turtle_is_deterministic_across_hash_seeds() -> None:
    doc = one(
        {
            "a": {"sdfChoice": {"x": {"const": 1}, "y": {"type": "string"}}},
            "b": {
                "type": "array",
                "items": {"type": "object", "properties": {"c": {"type": "integer"}}},
            },
        }
    )
    text = shacl.compile_document(doc)["doc0.ttl"]
    script = (
        "import json,sys\n"
        "from pathlib import Path\n"
        "from server.modeling.registry import ModelRegistry, SdfDocument\n"
        "from server.modeling.resolve import resolve_registry\n"
        "from server.modeling.compilers import shacl\n"
        "r = ModelRegistry(); r.add(SdfDocument(Path('doc0.sdf.json'), json.load(sys.stdin)))\n"
        "print(shacl.compile_document(resolve_registry(r)[0][0])['doc0.ttl'], end='')\n"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(doc.source.data),
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert out.stdout == text


@pytest.mark.parametrize(
    ("ecma", "xpath"),
    [
        ("^[0-9]{3}$", "^[0-9]{3}$"),
        ("^\\d+$", "^[0-9]+$"),
        ("[\\w-]+", "[A-Za-z0-9_\\-]+"),
        (
            "\\s",
            "[\\t\\n\u000b\u000c\\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]",
        ),
        ("a.b", "a[^\\n\\r\u2028\u2029]b"),
        ("(?:ab)+?", "(ab)+"),
        ("\\/x\\:", "/x:"),
        ("a{,3}", "a\\{,3\\}"),
        ("\\u00e9\\x41", "éA"),
        ("[\\s\\S]*", "[\\s\\S]*"),
        ("[^]", "[\\s\\S]"),
    ],
)
def test_pattern_translation(ecma: str, xpath: str) -> None:
    assert translate(ecma) == xpath


@pytest.mark.parametrize(
    "ecma",
    ["(?=a)", "(?!a)", "(?<=a)b", "\\bword", "(a)\\1", "[\\Da]", "[]", "(?<n>a)", "a)", "\\"],
)
def test_untranslatable_patterns(ecma: str) -> None:
    with pytest.raises(UnsupportedPattern):
        translate(ecma)


def test_format_patterns_are_in_the_common_subset() -> None:
    for pattern in FORMATS.values():
        assert translate(pattern) == pattern
    assert re.search(FORMATS["date-time"], "2026-11-21T10:00:00.5+01:00")
    assert not re.search(FORMATS["date-time"], "2026-13-21T10:00:00Z")
    assert re.search(FORMATS["uuid"], "123e4567-e89b-12d3-a456-426614174000")


def test_required_entries_inherited_through_sdf_ref_apply_to_the_copy() -> None:
    base = {
        "namespace": {"b": "https://example.org/base"},
        "defaultNamespace": "b",
        "sdfObject": {
            "Device": {
                "sdfRequired": ["#/sdfObject/Device/sdfProperty/model"],
                "sdfProperty": {"model": {"type": "string"}, "os": {"type": "string"}},
            }
        },
    }
    phone = {
        "namespace": {"p": NS, "b": "https://example.org/base"},
        "defaultNamespace": "p",
        "sdfThing": {"Phone": {"sdfObject": {"device": {"sdfRef": "b:#/sdfObject/Device"}}}},
    }
    docs = resolve(base, phone)
    types = {t.pointer: t for t in twin_types(docs[1]).types}
    device = types["/sdfThing/Phone/sdfObject/device"]
    assert {m.name: m.required for m in device.members} == {"model": True, "os": False}
    assert not twin_types(docs[1]).warnings


def _corpus_docs() -> list[ResolvedDocument]:
    registry = ModelRegistry.from_paths([CORPUS / "playground", CORPUS / "rfc9880-examples"])
    docs, errors = resolve_registry(registry)
    assert not errors and not registry.load_errors
    return docs


@needs_corpus
def test_every_corpus_model_compiles_to_turtle_that_parses() -> None:
    docs = _corpus_docs()
    assert len(docs) == 191  # playground 187 + RFC 9880 examples 4
    union = Graph()
    for doc in docs:
        ((name, text),) = shacl.compile_document(doc).items()
        assert name == f"{doc.source.stem}.ttl"
        graph = Graph().parse(data=text, format="turtle")
        assert len(graph) == len(shacl.shapes_graph(doc))
        shapes = set(graph.subjects(SH.targetClass, None))
        assert len(shapes) == len(twin_types(doc).types)
        union += graph
    # One shapes graph for all models, as the twin core loads them: SHACL
    # parameters that take one value per shape must still have one.
    single = (
        SH["in"],
        SH.minCount,
        SH.maxCount,
        SH.datatype,
        SH.nodeKind,
        SH.minLength,
        SH.maxLength,
        SH.qualifiedMinCount,
        SH.pattern,
    )
    counts = Counter((s, p) for s, p, _ in union if p in single)
    assert [key for key, n in counts.items() if n > 1] == []


@needs_corpus
def test_pyshacl_accepts_corpus_shapes() -> None:
    docs = _corpus_docs()
    sample = docs[::8] + [d for d in docs if "rfc9880" in str(d.source.path)]
    for doc in sample:
        ((_, text),) = shacl.compile_document(doc).items()
        shapes = Graph().parse(data=text, format="turtle")
        types = twin_types(doc).types
        data = Graph()
        for index, twin_type in enumerate(types):
            for triple in project_twin(
                "t", {"thingId": f"n:{index}", "definition": twin_type.global_name}
            ):
                data.add(triple)
        # meta_shacl: pyshacl first checks the shapes against SHACL's own shapes.
        conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, meta_shacl=True)
        # An empty twin conforms unless something is required.
        expected = not any(m.required for t in types for m in t.members) and not any(
            t.requires_features for t in types
        )
        assert conforms == expected, doc.source.path
        assert (None, RDF.type, SH.ValidationReport) in report
