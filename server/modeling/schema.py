"""The strict JSON Schema check of SDF documents (RFC 9880 Appendix B).

The validation flavour of the Appendix B schema is draft-07 and is built from
``anyOf`` alternatives (a data definition is "plain", "object-typed", "with
sdfChoice" or "with enum"). A failing ``anyOf`` only says "not valid under any
of the given schemas", so this module walks ``error.context`` down to the
leaves and keeps, for each ``anyOf``, the alternative the author most likely
meant: one whose ``type`` agrees with the document, then the one with the
fewest complaints, then the one that got deepest before failing.

ndtwin does not ship the schema (it is the RFC's own artefact); it is looked
up at ``$NDTWIN_SDF_SCHEMA`` or in the ``shared/schemas/sdf/`` folder beside
the checkout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from server.modeling import pointers
from server.modeling.issues import ERROR, Issue
from server.modeling.walk import NAMED_MAPS, NESTED_NODES

__all__ = [
    "SCHEMA_ENV",
    "SchemaUnavailableError",
    "find_schema",
    "schema_issues",
    "validator",
]

SCHEMA_ENV = "NDTWIN_SDF_SCHEMA"
SCHEMA_NAME = "sdf-validation.jso.json"

_ROLE_TEXT = {
    "document": "the top level of an SDF document",
    "thing": "an sdfThing",
    "object": "an sdfObject",
    "property": "an sdfProperty",
    "action": "an sdfAction",
    "event": "an sdfEvent",
    "data": "an sdfData definition",
    "choice": "an sdfChoice alternative",
    "member": "an entry of 'properties'",
    "items": "array 'items'",
    "input": "sdfInputData",
    "output": "sdfOutputData",
}
_OBJECT_ONLY = frozenset({"properties", "required"})
_PROPERTY_ONLY = "only an sdfProperty takes it, RFC 9880 §5.2"
_HINTS = {
    "readable": _PROPERTY_ONLY,
    "writable": _PROPERTY_ONLY,
    "observable": _PROPERTY_ONLY,
    "sdfEnum": "a pre-RFC keyword; write enum or sdfChoice",
}


class SchemaUnavailableError(Exception):
    """The RFC 9880 validation schema could not be found or read."""


def _candidates() -> Iterator[Path]:
    env = os.environ.get(SCHEMA_ENV)
    if env:
        yield Path(env)
        return
    # The checkout and the shared reference folder are siblings; look beside
    # the package first, then beside the working directory.
    repo = Path(__file__).resolve().parents[2]
    for base in (repo, Path.cwd()):
        yield base.parent / "shared" / "schemas" / "sdf" / SCHEMA_NAME
        yield base / "shared" / "schemas" / "sdf" / SCHEMA_NAME


def find_schema() -> Path:
    """Path of the validation schema, or ``SchemaUnavailableError`` naming where it looked."""
    tried = list(_candidates())
    for path in tried:
        if path.is_file():
            return path
    where = ", ".join(str(p) for p in tried)
    raise SchemaUnavailableError(
        f"cannot find the RFC 9880 validation schema {SCHEMA_NAME} (looked at {where}); "
        f"set {SCHEMA_ENV} to its path"
    )


@lru_cache(maxsize=4)
def _validator_for(path: Path) -> Draft7Validator:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaUnavailableError(f"cannot read the SDF schema {path}: {exc}") from exc
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def validator() -> Draft7Validator:
    """The compiled strict-schema validator (compiled once per schema file)."""
    return _validator_for(find_schema())


# -- choosing the errors to report -------------------------------------------


def _mismatches_type(error: ValidationError, base_depth: int) -> bool:
    """True if the error says the alternative's ``type`` differs from the document's."""
    path = error.absolute_path
    return (
        len(path) == base_depth + 1 and path[-1] == "type" and error.validator in ("enum", "const")
    )


def _declared_members(error: ValidationError) -> Mapping[str, Any]:
    """The ``properties`` of the schema that failed (empty when it has none)."""
    schema = error.schema
    members = schema.get("properties") if isinstance(schema, Mapping) else None
    return members if isinstance(members, Mapping) else {}


def _weight(error: ValidationError) -> int:
    """How many complaints an error stands for (one per unexpected member)."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = _declared_members(error)
        return max(1, sum(1 for key in error.instance if key not in allowed))
    return 1


def _branch_key(leaves: list[ValidationError], base_depth: int) -> tuple[int, int, int, int]:
    wrong_type = any(_mismatches_type(e, base_depth) for e in leaves)
    # A type error on the value itself means the alternative expects another kind of JSON value.
    wrong_kind = any(e.validator == "type" and len(e.absolute_path) == base_depth for e in leaves)
    depth = max(len(e.absolute_path) for e in leaves)
    return (int(wrong_type), int(wrong_kind), sum(map(_weight, leaves)), -depth)


def leaf_errors(error: ValidationError) -> list[ValidationError]:
    """The most specific errors under ``error``, one alternative chosen per ``anyOf``."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branch = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        branches.setdefault(branch, []).extend(leaf_errors(sub))
    depth = len(error.absolute_path)
    return min(branches.values(), key=lambda leaves: _branch_key(leaves, depth))


def _role_at(tokens: list[Any]) -> str:
    """What kind of SDF map the tokens lead to (``property``, ``items``...)."""
    role, i = "document", 0
    while i < len(tokens):
        token = tokens[i]
        if token in NAMED_MAPS and i + 1 < len(tokens):
            role, i = NAMED_MAPS[token], i + 2
        elif token in NESTED_NODES:
            role, i = NESTED_NODES[token], i + 1
        else:
            return "value"
    return role


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _pointer(path: Iterable[Any]) -> str:
    return pointers.join(*(str(token) for token in path))


def _rule(keyword: str) -> str:
    snake = "".join("-" + c.lower() if c.isupper() else c for c in keyword)
    return f"schema-{snake}"


def _issues_for(error: ValidationError, file: str) -> Iterator[Issue]:
    path = list(error.absolute_path)
    keyword = str(error.validator)
    expected: Any = error.validator_value
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = _declared_members(error)
        where = _ROLE_TEXT.get(_role_at(path), "this map")
        for key in error.instance:
            if key in allowed:
                continue
            message = f"'{key}' is not allowed in {where}"
            if key in _OBJECT_ONLY and error.instance.get("type") != "object":
                message += ' unless "type" is "object"'
            elif key in _HINTS:
                message += f" ({_HINTS[key]})"
            elif key in NAMED_MAPS or key in NESTED_NODES:
                message += " (RFC 9880 does not define it there)"
            yield Issue(file, _pointer([*path, key]), _rule(keyword), ERROR, message)
        return
    if keyword == "type":
        message = f"{_json(error.instance)} is not of type {_json(expected)}"
    elif keyword == "enum":
        choices = ", ".join(_json(v) for v in expected)
        message = f"{_json(error.instance)} is not one of {choices}"
    elif keyword == "const":
        message = f"{_json(error.instance)} is not allowed here; expected {_json(expected)}"
    elif keyword == "pattern":
        message = f"{_json(error.instance)} does not match {expected!r}"
    elif keyword == "anyOf":
        message = f"{_json(error.instance)} is not valid here"
    else:
        message = error.message
    yield Issue(file, _pointer(path), _rule(keyword), ERROR, message)


def schema_issues(document: Any, file: str, check: Draft7Validator | None = None) -> list[Issue]:
    """Strict-schema issues of one parsed document, most specific first, no duplicates."""
    check = check or validator()
    seen: set[tuple[str, str]] = set()
    issues: list[Issue] = []
    for error in check.iter_errors(document):
        for leaf in leaf_errors(error):
            for issue in _issues_for(leaf, file):
                if (issue.pointer, issue.message) not in seen:
                    seen.add((issue.pointer, issue.message))
                    issues.append(issue)
    return issues
