"""Evaluate an RQL filter against one thing in memory.

Used for Ditto's ``condition`` on writes (ditto-api notes §1.4), where the filter is
checked against the one stored twin, and as the reference the SQL compilers are tested
against. The semantics are those documented in `server.core.rql.ast`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from server.core.rql.ast import (
    And,
    Comparison,
    Empty,
    Exists,
    In,
    Like,
    Node,
    Not,
    Or,
    Property,
)
from server.core.rql.literals import Scalar, is_number, like_to_regex, resolve
from server.core.stores.records import TwinRecord, format_time, utc_now

__all__ = ["ThingView", "matches", "matches_record"]

ThingView = dict[str, Any]
"""A thing's JSON plus the special fields ``_revision``, ``_created``, ``_modified``."""

_EMPTY_VALUES: tuple[Any, ...] = (None, "", {}, [])


def _nodes(node: Any, parts: tuple[str, ...], wildcard_at: int) -> Iterator[Any]:
    """Yield every node a path reaches; arrays met on the way are entered element-wise."""
    if not parts:
        yield node
        return
    key, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        if key == "*" and wildcard_at == 0:
            for child in node.values():
                yield from _nodes(child, rest, wildcard_at - 1)
        elif key in node:
            yield from _nodes(node[key], rest, wildcard_at - 1)
    elif isinstance(node, list):
        for element in node:
            if isinstance(element, dict):
                yield from _nodes(element, parts, wildcard_at)


def _values(view: ThingView, prop: Property) -> Iterator[Any]:
    """Yield the values of a property: reached nodes, arrays contributing their elements."""
    for node in _reached(view, prop):
        if isinstance(node, list):
            yield from node
        else:
            yield node


def _reached(view: ThingView, prop: Property) -> Iterator[Any]:
    root = prop.parts[0]
    if root == "_namespace":
        thing_id = view.get("thingId")
        if isinstance(thing_id, str):
            yield thing_id.partition(":")[0]
        return
    # The feature id is the second key of a features path; only there may '*' stand.
    wildcard_at = 1 if root == "features" else -1
    yield from _nodes(view, prop.parts, wildcard_at)


def _equal(value: Any, literal: Scalar) -> bool:
    if literal is None:
        return value is None
    if isinstance(literal, bool):
        return isinstance(value, bool) and value is literal
    if is_number(literal):
        return is_number(value) and value == literal
    return isinstance(value, str) and value == literal


def _ordered(value: Any, literal: Scalar, op: str) -> bool:
    if is_number(literal):
        if not is_number(value):
            return False
    elif isinstance(literal, str):
        if not isinstance(value, str):
            return False
    else:
        return False
    if op == "gt":
        return bool(value > literal)
    if op == "ge":
        return bool(value >= literal)
    if op == "lt":
        return bool(value < literal)
    return bool(value <= literal)


def _non_empty(value: Any) -> bool:
    return not any(value == e and type(value) is type(e) for e in _EMPTY_VALUES)


def _eval(node: Node, view: ThingView, now: datetime) -> bool:
    match node:
        case And(children):
            return all(_eval(c, view, now) for c in children)
        case Or(children):
            return any(_eval(c, view, now) for c in children)
        case Not(child):
            return not _eval(child, view, now)
        case Exists(prop):
            return any(True for _ in _reached(view, prop))
        case Empty(prop):
            return not any(_non_empty(v) for v in _values(view, prop))
        case Comparison(op, prop, raw):
            literal = resolve(raw, prop.root, now)
            if op == "eq":
                return any(_equal(v, literal) for v in _values(view, prop))
            if op == "ne":
                return any(not _equal(v, literal) for v in _values(view, prop))
            return any(_ordered(v, literal, op) for v in _values(view, prop))
        case In(prop, raws):
            literals = [resolve(r, prop.root, now) for r in raws]
            return any(_equal(v, lit) for v in _values(view, prop) for lit in literals)
        case Like(prop, pattern, ci):
            regex = re.compile(like_to_regex(pattern, lower=ci), re.DOTALL)
            return any(
                isinstance(v, str) and regex.fullmatch(v.lower() if ci else v) is not None
                for v in _values(view, prop)
            )
    raise TypeError(f"not an RQL node: {node!r}")


def matches(node: Node, view: ThingView, *, now: datetime | None = None) -> bool:
    """True if the thing (JSON plus optional ``_revision``/``_created``/``_modified``)
    satisfies the filter. Datetime special fields may be given as `datetime` or text.
    """
    normalised = dict(view)
    for key in ("_created", "_modified"):
        if isinstance(normalised.get(key), datetime):
            normalised[key] = format_time(normalised[key])
    return _eval(node, normalised, now or utc_now())


def matches_record(node: Node, record: TwinRecord, *, now: datetime | None = None) -> bool:
    """`matches` on a stored twin, with its revision and timestamps as special fields."""
    view = dict(record.doc)
    view["thingId"] = str(record.thing_id)
    view["_revision"] = record.revision
    view["_created"] = format_time(record.created)
    view["_modified"] = format_time(record.modified)
    return _eval(node, view, now or utc_now())
