"""Semantic checks the strict schema cannot express (rule ids in ``rules.py``).

Every check reads one document body and trusts nothing about its shape, so
the same functions run on documents that fail the schema, on documents as
written and on resolved ones.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, TypeGuard

from server.modeling.issues import ERROR, WARNING, Issue
from server.modeling.pointers import escape_token
from server.modeling.walk import Node, iter_nodes

__all__ = [
    "compile_pattern",
    "data_issues",
    "document_issues",
    "json_equal",
    "value_problems",
]

_UNIT_URN = "urn:ietf:params:unit:"
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SDFTYPE_TYPES = {"unix-time": ("number", "integer"), "byte-string": ("string",)}
# ECMA-262 spells a named group (?<name>...); Python spells it (?P<name>...).
_ECMA_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str] | str:
    """The compiled ECMA-262 ``pattern``, or the reason it does not compile.

    Python's ``re`` reads the ECMA-262 subset that SDF models use; named groups
    are translated. Patterns are unanchored (RFC 9880 Appendix C.2), so callers
    use ``search``.
    """
    try:
        return re.compile(_ECMA_NAMED_GROUP.sub("(?P<", pattern))
    except re.error as exc:
        return str(exc)
    except RecursionError:
        return "nested too deeply"


def _type_ok(value: Any, declared: str) -> bool:
    if declared == "number":
        return _is_number(value)
    if declared == "integer":
        return _is_number(value) and float(value).is_integer()
    if declared == "string":
        return isinstance(value, str)
    if declared == "boolean":
        return isinstance(value, bool)
    if declared == "array":
        return isinstance(value, list)
    if declared == "object":
        return isinstance(value, dict)
    return True


def _choice_consts(node: dict[str, Any]) -> list[Any] | None:
    """The const of every sdfChoice alternative, or None if some alternative has none."""
    choice = node.get("sdfChoice")
    if not isinstance(choice, dict) or not choice:
        return None
    consts = []
    for alternative in choice.values():
        if not isinstance(alternative, dict) or "const" not in alternative:
            return None
        consts.append(alternative["const"])
    return consts


def _number_problems(value: float, node: dict[str, Any]) -> Iterator[str]:
    shown = _json(value)
    minimum, maximum = node.get("minimum"), node.get("maximum")
    ex_min, ex_max = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    if _is_number(minimum) and value < minimum:
        yield f"{shown} is below minimum {_json(minimum)}"
    if _is_number(maximum) and value > maximum:
        yield f"{shown} is above maximum {_json(maximum)}"
    if _is_number(ex_min) and value <= ex_min:
        yield f"{shown} is not above exclusiveMinimum {_json(ex_min)}"
    if _is_number(ex_max) and value >= ex_max:
        yield f"{shown} is not below exclusiveMaximum {_json(ex_max)}"
    step = node.get("multipleOf")
    if _is_number(step) and step > 0:
        quotient = value / step
        if not math.isclose(quotient, round(quotient), rel_tol=1e-9, abs_tol=1e-9):
            yield f"{shown} is not a multiple of {_json(step)}"


def _string_problems(value: str, node: dict[str, Any]) -> Iterator[str]:
    # Lengths count Unicode scalar values (RFC 9880 Appendix C.2): Python's len of a str.
    min_length, max_length = node.get("minLength"), node.get("maxLength")
    if _is_number(min_length) and len(value) < min_length:
        yield f"{_json(value)} is shorter than minLength {min_length}"
    if _is_number(max_length) and len(value) > max_length:
        yield f"{_json(value)} is longer than maxLength {max_length}"
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        compiled = compile_pattern(pattern)
        if isinstance(compiled, re.Pattern) and not compiled.search(value):
            yield f"{_json(value)} does not match pattern {pattern!r}"


def _array_problems(value: list[Any], node: dict[str, Any]) -> Iterator[str]:
    min_items, max_items = node.get("minItems"), node.get("maxItems")
    if _is_number(min_items) and len(value) < min_items:
        yield f"has {len(value)} items, fewer than minItems {min_items}"
    if _is_number(max_items) and len(value) > max_items:
        yield f"has {len(value)} items, more than maxItems {max_items}"
    if node.get("uniqueItems") is True:
        for i, item in enumerate(value):
            if any(json_equal(item, other) for other in value[:i]):
                yield f"item {i} repeats an earlier item but uniqueItems is true"
                break
    items = node.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            for problem in value_problems(item, items):
                yield f"item {i}: {problem}"


def _object_problems(value: dict[str, Any], node: dict[str, Any]) -> Iterator[str]:
    required = node.get("required")
    if isinstance(required, list):
        for name in required:
            if isinstance(name, str) and name not in value:
                yield f"lacks required member {name!r}"
    members = node.get("properties")
    if isinstance(members, dict):
        for name, member in value.items():
            schema = members.get(name)
            if isinstance(schema, dict):
                for problem in value_problems(member, schema):
                    yield f"member {name!r}: {problem}"


def value_problems(value: Any, node: dict[str, Any], *, check_const: bool = True) -> Iterator[str]:
    """Why ``value`` is not an instance of the data qualities ``node`` (nothing if it is)."""
    if value is None:
        # nullable defaults to true (RFC 9880 §4.7).
        if node.get("nullable", True) is False:
            yield "is null but nullable is false"
        return
    declared = node.get("type")
    if isinstance(declared, str) and not _type_ok(value, declared):
        yield f"{_json(value)} is not of type {declared!r}"
        return
    if check_const and "const" in node and not json_equal(value, node["const"]):
        yield f"{_json(value)} differs from const {_json(node['const'])}"
    enum = node.get("enum")
    if isinstance(enum, list) and not any(json_equal(value, e) for e in enum):
        yield f"{_json(value)} is not one of enum {_json(enum)}"
    consts = _choice_consts(node)
    if consts is not None and not any(json_equal(value, c) for c in consts):
        yield f"{_json(value)} is not the const of any sdfChoice alternative"
    if _is_number(value):
        yield from _number_problems(value, node)
    elif isinstance(value, str):
        yield from _string_problems(value, node)
    elif isinstance(value, list):
        yield from _array_problems(value, node)
    elif isinstance(value, dict):
        yield from _object_problems(value, node)


def _lower_upper(q: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Pairs (lower bound quality, upper bound quality) present on ``q``."""
    for low in ("minimum", "exclusiveMinimum"):
        for high in ("maximum", "exclusiveMaximum"):
            if _is_number(q.get(low)) and _is_number(q.get(high)):
                yield low, high


def _range_issue(node: Node, file: str) -> Issue | None:
    q = node.qualities
    integer = q.get("type") == "integer"
    for low, high in _lower_upper(q):
        lo, hi = float(q[low]), float(q[high])
        if integer:
            # The smallest and largest integers the bounds admit.
            lo = math.ceil(lo) if low == "minimum" else math.floor(lo) + 1
            hi = math.floor(hi) if high == "maximum" else math.ceil(hi) - 1
            empty = lo > hi
        elif low == "minimum" and high == "maximum":
            empty = lo > hi
        else:
            empty = lo >= hi
        if empty:
            kind = "integer " if integer else ""
            return Issue(
                file,
                f"{node.pointer}/{high}",
                "range-empty",
                ERROR,
                f"no {kind}value satisfies {low} {_json(q[low])} and {high} {_json(q[high])}",
            )
    return None


def _pair_issue(node: Node, file: str, low: str, high: str, rule: str) -> Issue | None:
    q = node.qualities
    if _is_number(q.get(low)) and _is_number(q.get(high)) and q[low] > q[high]:
        return Issue(
            file,
            f"{node.pointer}/{high}",
            rule,
            ERROR,
            f"{low} {_json(q[low])} is greater than {high} {_json(q[high])}",
        )
    return None


def _node_issues(node: Node, file: str) -> Iterator[Issue]:
    q, at = node.qualities, node.pointer
    for issue in (
        _range_issue(node, file),
        _pair_issue(node, file, "minLength", "maxLength", "length-range"),
        _pair_issue(node, file, "minItems", "maxItems", "items-range"),
    ):
        if issue is not None:
            yield issue
    if not node.carries_data:
        return
    if "enum" in q and "sdfChoice" in q:
        yield Issue(
            file,
            f"{at}/enum",
            "enum-with-choice",
            ERROR,
            "enum and sdfChoice must not be used together; enum is shorthand for an "
            "sdfChoice of const alternatives",
        )
    declared = q.get("type")
    if "enum" in q and isinstance(declared, str) and declared != "string":
        yield Issue(
            file,
            f"{at}/type",
            "enum-type",
            ERROR,
            f"enum values are text strings, but type is {declared!r}",
        )
    step = q.get("multipleOf")
    if _is_number(step) and step <= 0:
        yield Issue(
            file,
            f"{at}/multipleOf",
            "multipleof-invalid",
            ERROR,
            f"multipleOf must be greater than 0, not {_json(step)}",
        )
    pattern = q.get("pattern")
    if isinstance(pattern, str):
        compiled = compile_pattern(pattern)
        if isinstance(compiled, str):
            yield Issue(
                file,
                f"{at}/pattern",
                "pattern-invalid",
                ERROR,
                f"pattern {pattern!r} does not compile: {compiled}",
            )
    sdf_type = q.get("sdfType")
    if isinstance(sdf_type, str) and sdf_type in _SDFTYPE_TYPES:
        wanted = _SDFTYPE_TYPES[sdf_type]
        if declared is None:
            yield Issue(
                file,
                f"{at}/sdfType",
                "sdftype-type",
                WARNING,
                f"sdfType {sdf_type!r} should be paired with type "
                f"{' or '.join(repr(w) for w in wanted)}",
            )
        elif declared not in wanted:
            yield Issue(
                file,
                f"{at}/sdfType",
                "sdftype-type",
                ERROR,
                f"sdfType {sdf_type!r} needs type {' or '.join(repr(w) for w in wanted)}"
                f", not {declared!r}",
            )
    unit = q.get("unit")
    if isinstance(unit, str) and unit.lower().startswith(_UNIT_URN):
        yield Issue(
            file,
            f"{at}/unit",
            "unit-urn",
            ERROR,
            f"write the SenML unit name {unit[len(_UNIT_URN) :]!r}, not {unit!r}; "
            "the URN form is for translators",
        )
    if "const" in q:
        for problem in value_problems(q["const"], q, check_const=False):
            yield Issue(file, f"{at}/const", "const-invalid", ERROR, f"const {problem}")
    if "default" in q:
        for problem in value_problems(q["default"], q):
            yield Issue(file, f"{at}/default", "default-invalid", ERROR, f"default {problem}")


def data_issues(document: dict[str, Any], file: str) -> list[Issue]:
    """Constraint, enum/sdfChoice, pattern, sdfType and unit issues of every definition."""
    issues: list[Issue] = []
    for node in iter_nodes(document):
        issues.extend(_node_issues(node, file))
    return issues


def document_issues(document: dict[str, Any], file: str) -> list[Issue]:
    """Issues of the document as a whole: its info block and its namespace map."""
    issues: list[Issue] = []
    if not document.get("info"):
        # RFC 9880 §3.1: info is optional, but tools SHOULD warn when it is missing.
        issues.append(
            Issue(
                file,
                "",
                "info-missing",
                WARNING,
                "the document has no info block (title, version, license...)",
            )
        )
    default = document.get("defaultNamespace")
    namespaces = document.get("namespace")
    if isinstance(namespaces, dict):
        for prefix, uri in namespaces.items():
            if isinstance(uri, str) and (not _ABSOLUTE_URI.match(uri) or "#" in uri):
                # A global name is "<namespace URI>#<pointer>"; RFC 3986 §4.3 absolute
                # URIs have a scheme and no fragment, or the result is no URI at all.
                issues.append(
                    Issue(
                        file,
                        "/namespace/" + escape_token(prefix),
                        "namespace-uri",
                        WARNING,
                        f"namespace URI {uri!r} should be an absolute URI without '#'",
                    )
                )
    if isinstance(default, str) and (not isinstance(namespaces, dict) or default not in namespaces):
        issues.append(
            Issue(
                file,
                "/defaultNamespace",
                "namespace-default",
                ERROR,
                f"defaultNamespace {default!r} is not an entry of the namespace map",
            )
        )
    return issues
