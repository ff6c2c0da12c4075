"""Pure operations on a Ditto-shaped thing document (basic-thing, httpapi-concepts).

A document is the JSON a client sees: ``thingId``, ``policyId``, ``definition``,
``attributes``, ``features``. The read-only ``_revision``/``_created``/``_modified``
live in the store record, never in the document. Functions here never mutate
their input: they return new documents, so a rejected write changes nothing.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from server.core.twins.paths import Area, InvalidPath, ResourcePath, check_key

__all__ = [
    "DocumentError",
    "NotFound",
    "check_document",
    "check_value",
    "delete_at",
    "merge_at",
    "merge_patch",
    "put_at",
    "read_at",
    "strip_nulls",
]

# Ditto definition: ``ns:name:version`` (each part ``[_a-zA-Z0-9\-.]+``) or an http(s) URL.
_DEFINITION = re.compile(r"^([_a-zA-Z0-9\-.]+:[_a-zA-Z0-9\-.]+:[_a-zA-Z0-9\-.]+|https?://\S+)$")


class DocumentError(ValueError):
    """A value that is not a valid thing (or part of one) under Ditto's rules."""

    def __init__(self, message: str, path: str = "/") -> None:
        super().__init__(message)
        self.path = path


class NotFound(LookupError):
    """Nothing at ``path``; ``area`` tells which Ditto not-found error applies."""

    def __init__(self, path: ResourcePath) -> None:
        super().__init__(str(path))
        self.path = path


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch; returns a new value.

    Unlike the resolver's deep-copying one (`server.modeling.resolve.merge_patch`, whose
    result is mutated afterwards), this one shares untouched subtrees with ``target``: it
    runs on every write, and documents are never mutated in place.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strip_nulls(value: Any) -> Any:
    """What a merge patch creates where nothing existed: nulls mean 'absent'."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    return copy.deepcopy(value)


# -- structural checks ------------------------------------------------------------
def _check_keys(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            try:
                check_key(key)
            except InvalidPath as exc:
                raise DocumentError(str(exc), f"{where}/{key}") from exc
            _check_keys(inner, f"{where}/{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _check_keys(inner, f"{where}/{i}")


def check_definition(value: Any, where: str = "/definition") -> None:
    if not isinstance(value, str) or not _DEFINITION.match(value):
        raise DocumentError(
            f"The definition '{value}' is neither 'namespace:name:version' nor an http(s) URL.",
            where,
        )


def check_feature_definition(value: Any, where: str) -> None:
    if not isinstance(value, list) or not value:
        raise DocumentError("A feature definition must be a non-empty array of identifiers.", where)
    for i, item in enumerate(value):
        check_definition(item, f"{where}/{i}")
    if len(set(value)) != len(value):
        raise DocumentError("A feature definition must not repeat an identifier.", where)


def check_feature(feature_id: str, value: Any) -> None:
    where = f"/features/{feature_id}"
    if feature_id == "*":
        raise DocumentError("The feature id '*' is reserved.", where)
    if not isinstance(value, dict):
        raise DocumentError("A feature must be a JSON object.", where)
    for key, inner in value.items():
        if key == "definition":
            check_feature_definition(inner, f"{where}/definition")
        elif key in ("properties", "desiredProperties"):
            if not isinstance(inner, dict):
                raise DocumentError(f"Feature {key} must be a JSON object.", f"{where}/{key}")
            _check_keys(inner, f"{where}/{key}")
        else:
            raise DocumentError(f"A feature has no member '{key}'.", f"{where}/{key}")


def check_document(doc: Any) -> None:
    """Raise :class:`DocumentError` unless ``doc`` is a structurally valid thing."""
    if not isinstance(doc, dict):
        raise DocumentError("A thing must be a JSON object.")
    for key, value in doc.items():
        if key in ("thingId", "policyId"):
            if not isinstance(value, str):
                raise DocumentError(f"'{key}' must be a string.", f"/{key}")
        elif key == "definition":
            if value is not None:
                check_definition(value)
        elif key == "attributes":
            if not isinstance(value, dict):
                raise DocumentError("'attributes' must be a JSON object.", "/attributes")
            _check_keys(value, "/attributes")
        elif key == "features":
            if not isinstance(value, dict):
                raise DocumentError("'features' must be a JSON object.", "/features")
            for fid, feature in value.items():
                try:
                    check_key(fid, "feature id")
                except InvalidPath as exc:
                    raise DocumentError(str(exc), f"/features/{fid}") from exc
                check_feature(fid, feature)
        else:
            raise DocumentError(f"A thing has no member '{key}'.", f"/{key}")


def check_value(path: ResourcePath, value: Any) -> None:
    """Check a value written at ``path`` by re-checking the part it lands in."""
    match path.area:
        case Area.THING:
            check_document(value)
        case Area.POLICY_ID:
            if not isinstance(value, str):
                raise DocumentError("'policyId' must be a string.", str(path))
        case Area.DEFINITION:
            check_definition(value)
        case Area.ATTRIBUTES:
            if not path.tokens and not isinstance(value, dict):
                raise DocumentError("'attributes' must be a JSON object.", str(path))
            _check_keys(value, str(path))
        case Area.FEATURES:
            check_document({"features": value})
        case Area.FEATURE:
            check_feature(str(path.feature), value)
        case Area.FEATURE_DEFINITION:
            check_feature_definition(value, str(path))
        case Area.PROPERTIES | Area.DESIRED:
            if not path.tokens and not isinstance(value, dict):
                raise DocumentError(f"'{path.area.value}' must be a JSON object.", str(path))
            _check_keys(value, str(path))
        case Area.THING_ID:
            raise DocumentError("The thingId cannot be changed.", str(path))


# -- read / write at a path -------------------------------------------------------
def read_at(doc: dict[str, Any], path: ResourcePath) -> Any:
    """The value at ``path``, or :class:`NotFound`."""
    node: Any = doc
    for key in path.segments():
        if not isinstance(node, dict) or key not in node:
            raise NotFound(path)
        node = node[key]
    return node


def put_at(doc: dict[str, Any], path: ResourcePath, value: Any) -> tuple[dict[str, Any], bool]:
    """Replace the value at ``path``; returns the new document and whether it was created.

    Intermediate objects are created as Ditto does for ``PUT .../attributes/a/b``.
    """
    check_value(path, value)
    segments = path.segments()
    if not segments:
        return copy.deepcopy(value), False
    new = dict(doc)
    node = new
    for key in segments[:-1]:
        child = node.get(key)
        child = dict(child) if isinstance(child, dict) else {}
        node[key] = child
        node = child
    created = segments[-1] not in node
    node[segments[-1]] = copy.deepcopy(value)
    return new, created


def merge_at(doc: dict[str, Any], path: ResourcePath, patch: Any) -> dict[str, Any]:
    """Apply a merge patch at ``path`` (RFC 7396; Ditto httpapi-concepts "merge")."""
    segments = path.segments()
    try:
        current = read_at(doc, path)
    except NotFound:
        current = None
    merged = merge_patch(current, patch) if isinstance(patch, dict) else strip_nulls(patch)
    if patch is None:
        return delete_at(doc, path) if current is not None else dict(doc)
    if not segments:
        check_document(merged)
        return merged
    new, _ = put_at(doc, path, merged)
    return new


def delete_at(doc: dict[str, Any], path: ResourcePath) -> dict[str, Any]:
    """Remove the value at ``path``; :class:`NotFound` if there is none."""
    segments = path.segments()
    if not segments:
        raise DocumentError("Delete the thing itself, not its root path.")
    if path.area in (Area.THING_ID, Area.POLICY_ID):
        raise DocumentError(f"'{segments[0]}' cannot be deleted.", str(path))
    read_at(doc, path)
    new = dict(doc)
    node = new
    for key in segments[:-1]:
        child = dict(node[key])
        node[key] = child
        node = child
    del node[segments[-1]]
    return new
