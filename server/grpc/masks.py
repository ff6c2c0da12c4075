"""Field masks (AIP-134, AIP-161) applied to JSON documents, and AIP-132 ``order_by``.

A mask path is dot-separated; a map key holding a dot or a backtick is written in
backticks, with a backtick doubled inside (```a.b``` names the key ``a.b``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from server.core import errors

__all__ = [
    "FieldMaskInvalid",
    "OrderByInvalid",
    "apply_mask",
    "order_by_to_sort",
    "split_path",
]

_ABSENT = object()


class FieldMaskInvalid(errors.BadRequest):
    """An ``update_mask`` path is malformed or names no updatable field."""

    code = "update.mask.invalid"
    default_description = (
        "List updatable fields, dot-separated; quote map keys holding '.' in backticks."
    )


class OrderByInvalid(errors.BadRequest):
    """An ``order_by`` is not ``field [asc|desc], ...`` over sortable fields."""

    code = "thing-search:search.option.invalid"
    default_description = (
        "order_by is a comma-separated list of fields, each optionally followed by 'desc': "
        "thing_id, policy_id, definition, revision, create_time, update_time, "
        "attributes.<path> or features.<path>."
    )


def split_path(path: str) -> list[str]:
    """Split ``a.`b.c`.d`` into ``["a", "b.c", "d"]``; raises `FieldMaskInvalid`."""
    parts: list[str] = []
    i, n = 0, len(path)
    while True:
        if i < n and path[i] == "`":
            j, key = i + 1, []
            while True:
                if j >= n:
                    raise FieldMaskInvalid(f"The field path '{path}' has an open backtick.")
                if path[j] == "`":
                    if j + 1 < n and path[j + 1] == "`":
                        key.append("`")
                        j += 2
                        continue
                    break
                key.append(path[j])
                j += 1
            parts.append("".join(key))
            i = j + 1
        else:
            j = path.find(".", i)
            j = n if j < 0 else j
            parts.append(path[i:j])
            i = j
            if parts[-1] == "":
                raise FieldMaskInvalid(f"The field path '{path}' has an empty segment.")
            if "`" in parts[-1]:
                raise FieldMaskInvalid(f"The field path '{path}' misplaces a backtick.")
        if i >= n:
            return parts
        if path[i] != ".":
            raise FieldMaskInvalid(f"The field path '{path}' misplaces a backtick.")
        i += 1
        if i >= n:
            raise FieldMaskInvalid(f"The field path '{path}' ends with a dot.")


def apply_mask(
    current: Mapping[str, Any],
    values: Mapping[str, Any],
    paths: Sequence[str] | None,
    fields: Mapping[str, str],
    ignored: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """``current`` with the masked paths replaced by their values in ``values``.

    ``fields`` maps a mask's first segment (the proto field name) to the JSON key; only
    fields whose JSON value is an object may be followed by more segments. A path absent
    from ``values`` is removed. ``paths`` None means every field present in ``values``
    (AIP-134's implied mask); ``["*"]`` replaces every field of ``fields``. Paths whose
    first segment is in ``ignored`` (output-only fields) are skipped, as AIP-203 asks.
    """
    result = copy.deepcopy(dict(current))
    if paths is None:
        keys = {v: k for k, v in fields.items()}
        paths = [keys[k] for k in values if k in keys]
    elif list(paths) == ["*"]:
        paths = list(fields)
    for path in paths:
        if path == "*":
            raise FieldMaskInvalid("'*' must be the only path of an update mask.")
        segments = split_path(path)
        if segments[0] in ignored:
            continue
        key = fields.get(segments[0])
        if key is None:
            raise FieldMaskInvalid(
                f"The update mask names '{segments[0]}', which is not an "
                f"updatable field ({', '.join(sorted(fields))})."
            )
        tokens = [key, *segments[1:]]
        value: Any = values
        for token in tokens:
            value = value.get(token, _ABSENT) if isinstance(value, dict) else _ABSENT
        parent: Any = result
        for token in tokens[:-1]:
            child = parent.get(token)
            if not isinstance(child, dict):
                if value is _ABSENT:
                    parent = None
                    break
                child = {}
                parent[token] = child
            parent = child
        if parent is None:
            continue
        if value is _ABSENT:
            parent.pop(tokens[-1], None)
        else:
            parent[tokens[-1]] = copy.deepcopy(value)
    return result


_SORT_FIELDS = {
    "thing_id": "thingId",
    "policy_id": "policyId",
    "definition": "definition",
    "revision": "_revision",
    "create_time": "_created",
    "update_time": "_modified",
}


def order_by_to_sort(order_by: str) -> str:
    """AIP-132 ``order_by`` as the keys of Ditto's ``sort(...)`` option (may be empty)."""
    keys: list[str] = []
    for item in order_by.split(","):
        words = item.split()
        if not words and not order_by.strip():
            return ""
        if (
            not words
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise OrderByInvalid(f"The order_by '{order_by}' is not valid.")
        field = words[0]
        if field in _SORT_FIELDS:
            path = _SORT_FIELDS[field]
        else:
            segments = split_path(field)
            if (
                segments[0] not in ("attributes", "features")
                or len(segments) < 2
                or any("/" in s for s in segments)
            ):
                raise OrderByInvalid(f"The order_by field '{field}' is not sortable.")
            path = "/".join(segments)
        descending = len(words) == 2 and words[1].lower() == "desc"
        keys.append(("-" if descending else "+") + path)
    return ",".join(keys)
