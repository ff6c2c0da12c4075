"""sdfRef resolution (RFC 9880 §4.4, RFC 7396), sdfRequired forms and defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import (
    ResolutionError,
    ResolvedDocument,
    Resolver,
    iter_definitions,
    merge_patch,
    resolve_registry,
    split_global_name,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sdf"
LAMP = "https://example.com/ndtwin-test/lamp"


def _registry(*docs: tuple[str, dict[str, Any]]) -> ModelRegistry:
    registry = ModelRegistry()
    for name, data in docs:
        registry.add(SdfDocument(Path(name), data))
    return registry


def _resolve(
    data: dict[str, Any], *others: tuple[str, dict[str, Any]], name: str = "doc.sdf.json"
) -> ResolvedDocument:
    registry = _registry((name, data), *others)
    return Resolver(registry).resolve_document(registry.documents[0])


def _contains_key(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(_contains_key(v, key) for v in value.values())
    if isinstance(value, list):
        return any(_contains_key(v, key) for v in value)
    return False


# -- RFC 7396 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # The test cases of RFC 7396 Appendix A.
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc7396(target: Any, patch: Any, result: Any) -> None:
    before = json.dumps(target)
    assert merge_patch(target, patch) == result
    assert json.dumps(target) == before  # inputs are never modified


# -- sdfRef ------------------------------------------------------------------


def test_same_document_reference_is_merged_and_narrowed() -> None:
    body = _resolve(
        {
            "sdfData": {
                "percent": {"type": "number", "minimum": 0, "maximum": 100, "unit": "/100"}
            },
            "sdfObject": {
                "Lamp": {
                    "sdfProperty": {
                        "dim": {
                            "sdfRef": "#/sdfData/percent",
                            "maximum": 80,
                            "description": "dim level",
                        }
                    }
                }
            },
        }
    ).body
    assert body["sdfObject"]["Lamp"]["sdfProperty"]["dim"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 80,
        "unit": "/100",
        "description": "dim level",
        "readable": True,
        "writable": True,
        "observable": True,
        "nullable": True,
    }
    assert not _contains_key(body, "sdfRef")


def test_cross_document_reference_goes_through_the_namespace_prefix() -> None:
    registry = ModelRegistry.from_paths([FIXTURES / "valid", FIXTURES / "registry"])
    resolved, errors = resolve_registry(registry)
    assert errors == []
    lamp = next(d for d in resolved if d.source.path.name == "lamp.sdf.json")
    lamp_props = lamp.body["sdfObject"]["Lamp"]["sdfProperty"]
    assert lamp_props["brightness"]["unit"] == "/100"  # from units.sdf.json
    assert lamp_props["brightness"]["maximum"] == 80  # the local narrowing wins
    assert lamp_props["fadeTime"]["unit"] == "s"  # from units-extra.sdf.json, same namespace
    assert lamp_props["fadeTime"]["writable"] is False  # written; not overwritten by defaults
    assert not _contains_key(lamp.body, "sdfRef")


def test_references_chain_and_resolve_their_targets_first() -> None:
    body = _resolve(
        {
            "sdfData": {
                "base": {"type": "integer", "minimum": 0, "unit": "s"},
                "middle": {"sdfRef": "#/sdfData/base", "maximum": 60},
            },
            "sdfProperty": {"top": {"sdfRef": "#/sdfData/middle", "minimum": 5}},
        }
    ).body
    assert body["sdfProperty"]["top"]["minimum"] == 5
    assert body["sdfProperty"]["top"]["maximum"] == 60
    assert body["sdfData"]["middle"] == {
        "type": "integer",
        "minimum": 0,
        "unit": "s",
        "maximum": 60,
    }


def test_null_in_the_patch_deletes_what_the_target_defines() -> None:
    # RFC 9880 §4.4 / RFC 7396: "toggle": null removes the inherited action.
    body = _resolve(
        {
            "sdfObject": {
                "Switch": {
                    "sdfAction": {"on": {}, "off": {}, "toggle": {}},
                    "sdfProperty": {"value": {"type": "boolean", "description": "state"}},
                },
                "SimpleSwitch": {
                    "sdfRef": "#/sdfObject/Switch",
                    "sdfAction": {"toggle": None},
                    "sdfProperty": {"value": {"description": None}},
                },
            },
        }
    ).body
    simple = body["sdfObject"]["SimpleSwitch"]
    assert sorted(simple["sdfAction"]) == ["off", "on"]
    assert "description" not in simple["sdfProperty"]["value"]
    assert sorted(body["sdfObject"]["Switch"]["sdfAction"]) == ["off", "on", "toggle"]


def test_names_chosen_by_the_modeller_are_not_qualities() -> None:
    # A member named "sdfRef" inside 'properties' and an sdfRef-shaped const are data.
    body = _resolve(
        {
            "sdfData": {
                "link": {
                    "type": "object",
                    "properties": {"sdfRef": {"type": "string"}},
                    "const": {"sdfRef": "#/nowhere"},
                }
            }
        }
    ).body
    assert body["sdfData"]["link"]["properties"] == {"sdfRef": {"type": "string"}}
    assert body["sdfData"]["link"]["const"] == {"sdfRef": "#/nowhere"}


def test_percent_encoded_and_escaped_reference() -> None:
    body = _resolve(
        {
            "sdfData": {"a/b": {"type": "string"}, "caf\u00e9": {"type": "boolean"}},
            "sdfProperty": {
                "x": {"sdfRef": "#/sdfData/a~1b"},
                "y": {"sdfRef": "#/sdfData/caf%C3%A9"},
            },
        }
    ).body
    assert body["sdfProperty"]["x"]["type"] == "string"
    assert body["sdfProperty"]["y"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        ({"sdfData": {"a": {"sdfRef": "#/sdfData/a"}}}, "/sdfData/a/sdfRef"),
        (
            {"sdfData": {"a": {"sdfRef": "#/sdfData/b"}, "b": {"sdfRef": "#/sdfData/a"}}},
            "/sdfData/a/sdfRef",
        ),
        # A definition that includes its own ancestor would be infinitely deep.
        (
            {"sdfObject": {"Box": {"sdfProperty": {"inner": {"sdfRef": "#/sdfObject/Box"}}}}},
            "/sdfObject/Box/sdfProperty/inner/sdfRef",
        ),
    ],
)
def test_cycles_are_detected(data: dict[str, Any], pointer: str) -> None:
    with pytest.raises(ResolutionError) as info:
        _resolve(data)
    assert info.value.rule == "sdfref-cycle"
    assert info.value.pointer == pointer


def test_cycle_across_documents_is_detected() -> None:
    a = {
        "namespace": {"a": "urn:x:a", "b": "urn:x:b"},
        "defaultNamespace": "a",
        "sdfData": {"x": {"sdfRef": "b:#/sdfData/y"}},
    }
    b = {
        "namespace": {"a": "urn:x:a", "b": "urn:x:b"},
        "defaultNamespace": "b",
        "sdfData": {"y": {"sdfRef": "a:#/sdfData/x"}},
    }
    with pytest.raises(ResolutionError) as info:
        _resolve(a, ("b.sdf.json", b))
    assert info.value.rule == "sdfref-cycle"


@pytest.mark.parametrize(
    ("ref", "rule"),
    [
        ("#/sdfData/missing", "sdfref-unresolved"),
        ("#/info/title", "sdfref-unresolved"),  # a string is no definition
        ("sdfData/a", "sdfref-syntax"),
        ("#sdfData/a", "sdfref-syntax"),
        ("nope:#/sdfData/a", "sdfref-namespace"),
        ("other:#/sdfData/a", "sdfref-unresolved"),  # no document of that namespace loaded
    ],
)
def test_broken_references_name_their_rule(ref: str, rule: str) -> None:
    data = {
        "info": {"title": "t"},
        "namespace": {"other": "urn:x:other"},
        "sdfData": {"a": {"type": "string"}},
        "sdfProperty": {"p": {"sdfRef": ref}},
    }
    with pytest.raises(ResolutionError) as info:
        _resolve(data)
    assert info.value.rule == rule
    assert info.value.pointer == "/sdfProperty/p/sdfRef"


def test_failure_deep_in_a_chain_is_reported_at_this_documents_sdfref() -> None:
    lib = {
        "namespace": {"lib": "urn:x:lib"},
        "defaultNamespace": "lib",
        "sdfData": {"x": {"sdfRef": "#/sdfData/gone"}},
    }
    app = {"namespace": {"lib": "urn:x:lib"}, "sdfProperty": {"p": {"sdfRef": "lib:#/sdfData/x"}}}
    with pytest.raises(ResolutionError) as info:
        _resolve(app, ("lib.sdf.json", lib))
    assert info.value.pointer == "/sdfProperty/p/sdfRef"
    assert info.value.rule == "sdfref-unresolved"
    assert "lib.sdf.json:/sdfData/x/sdfRef" in info.value.message


# -- sdfRequired (RFC 9880 §4.5) -----------------------------------------------


def test_sdfrequired_forms_become_global_names() -> None:
    body = _resolve(
        {
            "namespace": {"lamp": LAMP, "ext": "https://example.com/ext"},
            "defaultNamespace": "lamp",
            "sdfObject": {
                "Lamp": {
                    "sdfRequired": [
                        "onOff",
                        "#/sdfObject/Lamp/sdfAction/toggle",
                        "ext:#/sdfObject/Other/sdfProperty/x",
                    ],
                    "sdfProperty": {"onOff": {"type": "boolean"}},
                    "sdfAction": {"toggle": {}, "onOff": {}},
                    "sdfEvent": {"alarm": {"sdfRequired": [True]}},
                }
            },
        }
    ).body
    lamp = body["sdfObject"]["Lamp"]
    assert lamp["sdfRequired"] == [
        # A bare name selects every affordance of that name directly in the grouping.
        f"{LAMP}#/sdfObject/Lamp/sdfProperty/onOff",
        f"{LAMP}#/sdfObject/Lamp/sdfAction/onOff",
        f"{LAMP}#/sdfObject/Lamp/sdfAction/toggle",
        "https://example.com/ext#/sdfObject/Other/sdfProperty/x",
    ]
    assert lamp["sdfEvent"]["alarm"]["sdfRequired"] == [f"{LAMP}#/sdfObject/Lamp/sdfEvent/alarm"]


def test_true_and_bare_names_follow_the_definition_into_its_new_place() -> None:
    body = _resolve(
        {
            "namespace": {"lamp": LAMP},
            "defaultNamespace": "lamp",
            "sdfObject": {
                "Lamp": {
                    "sdfRequired": ["onOff"],
                    "sdfProperty": {"onOff": {"type": "boolean", "sdfRequired": [True]}},
                }
            },
            "sdfThing": {"Room": {"sdfObject": {"desk": {"sdfRef": "#/sdfObject/Lamp"}}}},
        }
    ).body
    desk = body["sdfThing"]["Room"]["sdfObject"]["desk"]
    assert desk["sdfRequired"] == [f"{LAMP}#/sdfThing/Room/sdfObject/desk/sdfProperty/onOff"]
    assert desk["sdfProperty"]["onOff"]["sdfRequired"] == [
        f"{LAMP}#/sdfThing/Room/sdfObject/desk/sdfProperty/onOff"
    ]


def test_document_without_default_namespace_gets_a_file_urn() -> None:
    body = _resolve(
        {
            "sdfObject": {
                "Lamp": {"sdfRequired": ["on"], "sdfProperty": {"on": {"type": "boolean"}}}
            }
        },
        name="models/lamp.sdf.json",
    ).body
    assert body["sdfObject"]["Lamp"]["sdfRequired"] == [
        "urn:ndtwin:sdf:lamp#/sdfObject/Lamp/sdfProperty/on"
    ]


# -- defaults and the document walk ---------------------------------------------


def test_property_defaults_apply_to_every_sdfproperty_only() -> None:
    body = _resolve(
        {
            "sdfProperty": {"top": {"type": "number", "observable": False}},
            "sdfThing": {
                "T": {
                    "sdfObject": {
                        "O": {"sdfProperty": {"deep": {"type": "string", "nullable": False}}}
                    }
                }
            },
            "sdfData": {"d": {"type": "number"}},
            "sdfAction": {"a": {"sdfInputData": {"type": "number"}}},
        }
    ).body
    assert body["sdfProperty"]["top"] == {
        "type": "number",
        "observable": False,
        "readable": True,
        "writable": True,
        "nullable": True,
    }
    deep = body["sdfThing"]["T"]["sdfObject"]["O"]["sdfProperty"]["deep"]
    assert (deep["readable"], deep["writable"], deep["observable"], deep["nullable"]) == (
        True,
        True,
        True,
        False,
    )
    assert body["sdfData"]["d"] == {"type": "number"}
    assert body["sdfAction"]["a"]["sdfInputData"] == {"type": "number"}


def test_resolution_leaves_the_source_document_untouched() -> None:
    data = {"sdfData": {"a": {"type": "number"}}, "sdfProperty": {"p": {"sdfRef": "#/sdfData/a"}}}
    before = json.dumps(data, sort_keys=True)
    _resolve(data)
    assert json.dumps(data, sort_keys=True) == before


def test_iter_definitions_walks_nested_groups() -> None:
    body = {
        "sdfThing": {"T": {"sdfObject": {"O": {"sdfProperty": {"p": {}}}}}},
        "sdfData": {"d": {}},
    }
    found = [(d.group, d.pointer) for d in iter_definitions(body)]
    assert found == [
        ("sdfThing", "/sdfThing/T"),
        ("sdfObject", "/sdfThing/T/sdfObject/O"),
        ("sdfProperty", "/sdfThing/T/sdfObject/O/sdfProperty/p"),
        ("sdfData", "/sdfData/d"),
    ]
    only = [d.name for d in iter_definitions(body, ("sdfProperty",))]
    assert only == ["p"]


@pytest.mark.parametrize(
    ("name", "uri", "pointer"),
    [
        ("https://example.com/lamp#/sdfObject/Lamp", "https://example.com/lamp", "/sdfObject/Lamp"),
        # Real models declare namespace URIs ending in "#" (OneDM playground).
        (
            "https://onedm.org/playground/##/sdfObject/OnOff",
            "https://onedm.org/playground/#",
            "/sdfObject/OnOff",
        ),
        ("urn:x:lamp#", "urn:x:lamp", ""),
    ],
)
def test_split_global_name(name: str, uri: str, pointer: str) -> None:
    assert split_global_name(name) == (uri, pointer)
