"""The validator: one broken fixture per rule, precise schema findings, semantics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.modeling.issues import ERROR, WARNING, Issue, count_errors, sort_issues
from server.modeling.registry import ModelRegistry
from server.modeling.rules import RULES, rule
from server.modeling.validate import MAX_DEPTH, json_depth, validate_data, validate_paths

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sdf"
BROKEN = FIXTURES / "broken"
OBJ = "/sdfObject/Thing/sdfProperty/p"

#: fixture stem -> (rule, pointer, severity, words the message must contain)
EXPECTED: dict[str, tuple[str, str, str, str]] = {
    "json-syntax": ("json-syntax", "", ERROR, "line 4 column 1"),
    "document-not-object": ("document-not-object", "", ERROR, "not an array"),
    "info-missing": ("info-missing", "", WARNING, "no info block"),
    "namespace-default": ("namespace-default", "/defaultNamespace", ERROR, "'lump'"),
    "namespace-uri": ("namespace-uri", "/namespace/lamp", WARNING, "without '#'"),
    "sdfref-syntax": (
        "sdfref-syntax",
        "/sdfObject/Lamp/sdfProperty/brightness/sdfRef",
        ERROR,
        "'sdfData/level'",
    ),
    "sdfref-namespace": (
        "sdfref-namespace",
        "/sdfObject/Lamp/sdfProperty/brightness/sdfRef",
        ERROR,
        "prefix 'dim'",
    ),
    "sdfref-unresolved": (
        "sdfref-unresolved",
        "/sdfObject/Fridge/sdfProperty/temperature/sdfRef",
        ERROR,
        "'#/sdfProprety/temperature'",
    ),
    "sdfref-cycle": ("sdfref-cycle", "/sdfData/a/sdfRef", ERROR, "cycle"),
    "sdfrequired-namespace": (
        "sdfrequired-namespace",
        "/sdfObject/Lamp/sdfRequired/0",
        ERROR,
        "prefix 'dim'",
    ),
    "sdfrequired-unresolved": (
        "sdfrequired-unresolved",
        "/sdfObject/Lamp/sdfRequired/0",
        ERROR,
        "'on'",
    ),
    "enum-with-choice": ("enum-with-choice", f"{OBJ}/enum", ERROR, "together"),
    "enum-type": ("enum-type", f"{OBJ}/type", ERROR, "'integer'"),
    "range-empty": ("range-empty", f"{OBJ}/maximum", ERROR, "minimum 10 and maximum 5"),
    "length-range": ("length-range", f"{OBJ}/maxLength", ERROR, "minLength 8"),
    "items-range": ("items-range", f"{OBJ}/maxItems", ERROR, "minItems 3"),
    "multipleof-invalid": ("multipleof-invalid", f"{OBJ}/multipleOf", ERROR, "greater than 0"),
    "pattern-invalid": ("pattern-invalid", f"{OBJ}/pattern", ERROR, "does not compile"),
    "default-invalid": ("default-invalid", f"{OBJ}/default", ERROR, "150 is above maximum 100"),
    "const-invalid": ("const-invalid", f"{OBJ}/const", ERROR, "does not match pattern"),
    "sdftype-type": ("sdftype-type", f"{OBJ}/sdfType", ERROR, "'unix-time' needs type"),
    "unit-urn": ("unit-urn", f"{OBJ}/unit", ERROR, "'Cel'"),
    "schema-additional-properties": (
        "schema-additional-properties",
        f"{OBJ}/scaleMinimum",
        ERROR,
        "'scaleMinimum' is not allowed in an sdfProperty",
    ),
    "schema-type": (
        "schema-type",
        f"{OBJ}/exclusiveMinimum",
        ERROR,
        'true is not of type "number"',
    ),
    "resolved-range-empty": (
        "range-empty",
        "/sdfObject/Lamp/sdfProperty/dim/maximum",
        ERROR,
        "in the resolved model",
    ),
    "resolved-schema": (
        "schema-additional-properties",
        "/sdfObject/Probe/sdfProperty/samples/items/unit",
        ERROR,
        "in the resolved model",
    ),
}


@pytest.fixture(scope="module")
def broken_report() -> dict[str, list[Issue]]:
    report = validate_paths([BROKEN])
    by_file: dict[str, list[Issue]] = {}
    for issue in report.issues:
        by_file.setdefault(Path(issue.file).name.removesuffix(".sdf.json"), []).append(issue)
    return by_file


def test_every_broken_fixture_is_covered_by_the_table() -> None:
    stems = {p.name.removesuffix(".sdf.json") for p in BROKEN.glob("*.sdf.json")}
    assert stems == set(EXPECTED)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_broken_fixture_gets_its_precise_issue(
    stem: str, broken_report: dict[str, list[Issue]]
) -> None:
    rule_id, pointer, severity, words = EXPECTED[stem]
    issues = broken_report[stem]
    matching = [i for i in issues if i.rule == rule_id and i.pointer == pointer]
    assert matching, [i.render() for i in issues]
    assert matching[0].severity == severity
    assert words in matching[0].message
    assert rule(rule_id).severity == severity or rule_id == "sdftype-type"


def test_each_rule_of_the_catalogue_has_a_fixture() -> None:
    covered = {rule(r).id for r, *_ in EXPECTED.values()}
    # no-models is about directories, file-unreadable and nesting-depth need inputs made at
    # test time; each has its own test (here and in test_registry.py).
    missing = set(RULES) - covered - {"no-models", "file-unreadable", "nesting-depth"}
    assert missing == set()


def test_warnings_alone_leave_a_document_valid(broken_report: dict[str, list[Issue]]) -> None:
    assert count_errors(broken_report["info-missing"]) == 0
    assert count_errors(broken_report["namespace-uri"]) == 0


# -- the Issue record ----------------------------------------------------------


def test_issue_renders_as_one_line_and_as_json() -> None:
    issue = Issue("m/x.sdf.json", "/sdfData/a~1b", "range-empty", ERROR, "no value\nsatisfies")
    assert issue.render() == "m/x.sdf.json:/sdfData/a~1b: error [range-empty] no value satisfies"
    assert issue.to_json() == {
        "file": "m/x.sdf.json",
        "pointer": "/sdfData/a~1b",
        "rule": "range-empty",
        "severity": "error",
        "message": "no value\nsatisfies",
    }
    root = Issue("x.sdf.json", "", "info-missing", WARNING, "no info")
    assert root.render() == "x.sdf.json:/: warning [info-missing] no info"
    assert json.loads(json.dumps(root.to_json()))["pointer"] == ""


def test_sort_issues_orders_by_file_then_document_position() -> None:
    issues = [
        Issue("b", "/x", "r", ERROR, "m"),
        Issue("a", "/z", "r", ERROR, "m"),
        Issue("a", "/b/c", "r", ERROR, "m"),
        Issue("a", "", "r", WARNING, "m"),
    ]
    assert [(i.file, i.pointer) for i in sort_issues(issues)] == [
        ("a", ""),
        ("a", "/b/c"),
        ("a", "/z"),
        ("b", "/x"),
    ]


# -- strict schema: precise leaves of anyOf --------------------------------------


def _issues(data: Any, **kwargs: Any) -> list[Issue]:
    return validate_data(data, "t.sdf.json", **kwargs)


def _rendered(data: Any) -> list[str]:
    return [i.render() for i in _issues(data) if i.is_error]


INFO = {"title": "t"}


def test_property_quality_inside_properties_points_at_the_member() -> None:
    lines = _rendered(
        {
            "info": INFO,
            "sdfObject": {
                "O": {
                    "sdfProperty": {
                        "p": {
                            "type": "object",
                            "properties": {"a": {"type": "string", "writable": False}},
                        }
                    }
                }
            },
        }
    )
    assert lines == [
        "t.sdf.json:/sdfObject/O/sdfProperty/p/properties/a/writable: error "
        "[schema-additional-properties] 'writable' is not allowed in an entry of 'properties' "
        "(only an sdfProperty takes it, RFC 9880 §5.2)"
    ]


def test_properties_without_object_type_says_what_is_missing() -> None:
    lines = _rendered(
        {
            "info": INFO,
            "sdfData": {"d": {"properties": {"a": {"type": "string"}}, "type": "string"}},
        }
    )
    assert lines == [
        "t.sdf.json:/sdfData/d/properties: error [schema-additional-properties] 'properties' "
        'is not allowed in an sdfData definition unless "type" is "object"'
    ]


def test_a_number_in_sdfrequired_is_a_type_error_at_that_entry() -> None:
    issues = [
        i for i in _issues({"info": INFO, "sdfObject": {"O": {"sdfRequired": [5]}}}) if i.is_error
    ]
    assert [(i.pointer, i.rule) for i in issues] == [("/sdfObject/O/sdfRequired/0", "schema-type")]


def test_unknown_top_level_member_and_bad_enum_value() -> None:
    issues = _issues({"info": INFO, "sdfProduct": {}, "sdfData": {"d": {"type": "float"}}})
    found = {(i.pointer, i.rule) for i in issues}
    assert ("/sdfProduct", "schema-additional-properties") in found
    assert ("/sdfData/d/type", "schema-enum") in found


def test_valid_document_has_no_issues() -> None:
    assert (
        _issues(
            {
                "info": INFO,
                "sdfObject": {
                    "Switch": {
                        "sdfProperty": {"value": {"type": "boolean"}},
                        "sdfAction": {"on": {}, "off": {}},
                    }
                },
            }
        )
        == []
    )


# -- semantic rules on small documents ---------------------------------------------


def _data_rules(**qualities: Any) -> list[tuple[str, str]]:
    issues = _issues({"info": INFO, "sdfData": {"d": qualities}})
    return [(i.rule, i.pointer.removeprefix("/sdfData/d")) for i in issues]


@pytest.mark.parametrize(
    ("qualities", "empty"),
    [
        ({"type": "number", "minimum": 5, "maximum": 5}, False),
        ({"type": "number", "minimum": 5, "exclusiveMaximum": 5}, True),
        ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 2}, False),
        ({"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2}, True),
        ({"type": "integer", "minimum": 1.5, "maximum": 1.9}, True),
        ({"type": "integer", "minimum": 1.5, "maximum": 2}, False),
        ({"type": "number", "exclusiveMinimum": 3, "maximum": 3}, True),
    ],
)
def test_range_emptiness_counts_exclusive_bounds_and_integers(
    qualities: dict[str, Any], empty: bool
) -> None:
    assert ("range-empty" in {r for r, _ in _data_rules(**qualities)}) is empty


@pytest.mark.parametrize(
    ("qualities", "valid"),
    [
        ({"type": "integer", "default": True}, False),  # a boolean is no JSON number
        ({"type": "integer", "default": 2.0}, True),
        ({"type": "integer", "default": 2.5}, False),
        ({"type": "number", "default": None}, True),  # nullable defaults to true
        ({"type": "number", "nullable": False, "default": None}, False),
        ({"type": "string", "enum": ["a", "b"], "default": "c"}, False),
        ({"type": "string", "sdfChoice": {"x": {"const": "x"}}, "default": "x"}, True),
        ({"type": "string", "sdfChoice": {"x": {"const": "x"}}, "default": "y"}, False),
        ({"type": "string", "pattern": "[0-9]", "default": "a1b"}, True),  # unanchored
        ({"type": "string", "pattern": "^[0-9]+$", "default": "a1b"}, False),
        ({"type": "string", "maxLength": 1, "default": "\u00e9"}, True),  # scalar values
        ({"type": "string", "maxLength": 1, "default": "\U0001f600"}, True),
        ({"type": "string", "maxLength": 1, "default": "ab"}, False),
        ({"type": "number", "multipleOf": 0.1, "default": 0.3}, True),
        ({"type": "number", "multipleOf": 0.25, "default": 0.3}, False),
        ({"type": "number", "const": 3, "default": 4}, False),
        ({"type": "array", "items": {"type": "number", "maximum": 3}, "default": [1, 2]}, True),
        ({"type": "array", "items": {"type": "number", "maximum": 3}, "default": [1, 9]}, False),
        ({"type": "array", "uniqueItems": True, "default": [1, 1]}, False),
        ({"type": "array", "minItems": 2, "default": [1]}, False),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": ["a"],
                "default": {"a": "x"},
            },
            True,
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": ["a"],
                "default": {"a": 1},
            },
            False,
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": ["a"],
                "default": {},
            },
            False,
        ),
    ],
)
def test_default_must_satisfy_its_own_definition(qualities: dict[str, Any], valid: bool) -> None:
    rules = {r for r, _ in _data_rules(**qualities)}
    assert ("default-invalid" not in rules) is valid, rules


def test_const_must_satisfy_range_and_enum() -> None:
    assert ("const-invalid", "/const") in _data_rules(type="number", maximum=3, const=4)
    assert ("const-invalid", "/const") in _data_rules(type="string", enum=["a"], const="b")
    assert _data_rules(type="number", maximum=3, const=3) == []


def test_sdftype_without_type_is_a_warning_and_consistent_pairs_pass() -> None:
    issues = _issues({"info": INFO, "sdfData": {"t": {"sdfType": "unix-time"}}})
    assert [(i.rule, i.severity) for i in issues] == [("sdftype-type", WARNING)]
    assert _data_rules(type="integer", sdfType="unix-time") == []
    assert _data_rules(type="string", sdfType="byte-string") == []
    assert ("sdftype-type", "/sdfType") in _data_rules(type="number", sdfType="byte-string")


def test_ecma_named_groups_compile() -> None:
    assert _data_rules(type="string", pattern="^(?<year>[0-9]{4})-") == []


def test_semantic_rules_run_inside_nested_data() -> None:
    found = _issues(
        {
            "info": INFO,
            "sdfObject": {
                "O": {
                    "sdfAction": {
                        "a": {
                            "sdfInputData": {
                                "type": "object",
                                "properties": {"n": {"type": "number", "minimum": 2, "maximum": 1}},
                            }
                        }
                    }
                }
            },
        }
    )
    assert [(i.rule, i.pointer) for i in found] == [
        ("range-empty", "/sdfObject/O/sdfAction/a/sdfInputData/properties/n/maximum")
    ]


# -- cross-document references and the registry ------------------------------------


def test_cross_document_references_need_the_registry() -> None:
    alone = validate_paths([FIXTURES / "valid"])
    assert {i.rule for i in alone.issues} == {"sdfref-unresolved"}
    assert len(alone.issues) == 3
    assert alone.resolved == []
    with_registry = validate_paths([FIXTURES / "valid"], [FIXTURES / "registry"])
    assert with_registry.issues == []
    assert with_registry.files == [str(FIXTURES / "valid" / "lamp.sdf.json")]
    assert [d.source.path.name for d in with_registry.resolved] == ["lamp.sdf.json"]


def test_sdfrequired_pointer_into_another_document_is_checked() -> None:
    registry = ModelRegistry.from_paths([FIXTURES / "registry"])
    data = {
        "info": INFO,
        "namespace": {"units": "https://example.com/ndtwin-test/units"},
        "sdfObject": {"O": {"sdfRequired": ["units:#/sdfData/percent", "units:#/sdfData/kelvin"]}},
    }
    issues = _issues(data, registry=registry)
    assert [(i.rule, i.pointer) for i in issues] == [
        ("sdfrequired-unresolved", "/sdfObject/O/sdfRequired/1")
    ]


def test_directory_without_models_is_an_error(tmp_path: Path) -> None:
    report = validate_paths([tmp_path])
    assert [(i.rule, i.file) for i in report.issues] == [("no-models", str(tmp_path))]
    assert not report.valid


def test_broken_file_in_a_registry_directory_is_only_a_warning(tmp_path: Path) -> None:
    (tmp_path / "junk.sdf.json").write_text("{", encoding="utf-8")
    report = validate_paths([FIXTURES / "valid"], [FIXTURES / "registry", tmp_path])
    assert [(i.rule, i.severity) for i in report.issues] == [("json-syntax", WARNING)]
    assert report.valid


def test_report_json_counts_errors_and_warnings() -> None:
    report = validate_paths([BROKEN / "info-missing.sdf.json", BROKEN / "range-empty.sdf.json"])
    payload = report.to_json()
    assert (payload["valid"], payload["errors"], payload["warnings"]) == (False, 1, 1)
    assert len(payload["files"]) == 2


@pytest.mark.parametrize("levels", [40, 70])
def test_deep_nesting_is_checked_or_refused_without_recursion_errors(levels: int) -> None:
    node: dict[str, Any] = {"type": "number"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"a": node}}
    issues = _issues({"info": INFO, "sdfData": {"d": node}})
    if 2 * levels + 3 > MAX_DEPTH:
        assert [(i.rule, i.pointer) for i in issues] == [("nesting-depth", "")]
        assert f"nests {2 * levels + 3} levels deep" in issues[0].message
    else:
        assert issues == []


def test_json_depth() -> None:
    assert json_depth(1) == 0
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4


# -- robustness: no input makes the validator raise ------------------------------------

_KEYS = st.sampled_from(
    [
        "info",
        "namespace",
        "defaultNamespace",
        "sdfObject",
        "sdfThing",
        "sdfProperty",
        "sdfData",
        "sdfAction",
        "sdfEvent",
        "sdfRef",
        "sdfRequired",
        "sdfChoice",
        "properties",
        "items",
        "type",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "default",
        "const",
        "pattern",
        "sdfType",
        "minLength",
        "maxLength",
        "x",
        "#",
        "a/b",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.sampled_from(["#/sdfData/x", "p:#/a", "x", "number", "unix-time", "(", "true"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_any_json_value_yields_issues_never_an_exception(value: Any) -> None:
    issues = validate_data(value, "fuzz.sdf.json")
    assert all(isinstance(i, Issue) and "\n" not in i.render() for i in issues)


def test_docs_list_every_rule() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "models.md").read_text(encoding="utf-8")
    for rule_id, entry in RULES.items():
        assert f"| `{rule_id}` | {entry.severity} |" in docs, rule_id
