"""The RQL abstract syntax tree: filters, properties, values and sort keys.

Semantics follow Ditto's search (ditto-api notes §1.6); they are spelled out here once
and implemented identically by `server.core.rql.evaluate` (one thing in memory) and the
SQL compilers (`server.core.rql.sqlite`, `server.core.rql.postgres`):

- A property names zero or more *values* in a thing. Walking the pointer, an array met
  before the last key is entered element-wise (objects inside arrays are searched), and
  an array found at the end contributes its elements as values (one level) - the array
  itself is not a value, so ``eq(p,[...])`` cannot be written nor matched.
- ``eq ne gt ge lt le`` and ``in`` hold when *some* value satisfies the comparison. So
  ``ne`` and the ranges never match a thing without the property; ``ne(tags,"a")``
  matches ``["a","b"]`` (because of ``"b"``) but not ``["a"]``.
- No type coercion: numbers compare with numbers (``1`` equals ``1.0``), strings with
  strings (by code point), booleans only for (in)equality, ``null`` only with ``null``.
- ``like``/``ilike`` match string values against ``*`` (any run) and ``?`` (one
  character); ``\\*``, ``\\?`` and ``\\\\`` stand for the literal characters. ``ilike``
  ignores case.
- ``exists(p)`` holds when the pointer resolves (a ``null`` value counts).
- ``empty(p)`` holds when no value is non-empty: a missing property, ``null``, ``""``,
  ``{}`` and ``[]`` are empty (and so is an array of such values).
- ``thingId``, ``policyId``, ``_namespace``, ``_revision``, ``_created`` and ``_modified``
  are plain scalars; ``_created``/``_modified`` compare as ISO-8601 instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

import orjson

__all__ = [
    "SPECIAL_FIELDS",
    "And",
    "Comparison",
    "ComparisonOp",
    "Empty",
    "Exists",
    "In",
    "Like",
    "Node",
    "Not",
    "Or",
    "Placeholder",
    "Property",
    "SortKey",
    "Value",
    "to_rql",
]

ComparisonOp = Literal["eq", "ne", "gt", "ge", "lt", "le"]


class Placeholder(Enum):
    """Values resolved when a query runs, not when it is parsed (so cursors stay valid)."""

    NOW = "time:now"
    NOW_EPOCH_MILLIS = "time:now_epoch_millis"


Value = str | int | float | bool | None | Placeholder

SPECIAL_FIELDS = frozenset(
    {"thingId", "policyId", "_namespace", "_revision", "_created", "_modified"}
)
"""Top-level scalar fields that have no sub-properties (all but ``policyId`` are store
columns rather than parts of the thing document)."""

_DOC_ROOTS = frozenset({"definition", "attributes", "features"})


@dataclass(frozen=True, slots=True)
class Property:
    """A property path: ``("attributes", "location", "lat")``.

    ``features/*/...`` (the feature id ``*``) matches any feature, as in Ditto's search.
    """

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join(self.parts)

    @property
    def root(self) -> str:
        """The first key: a special field or a thing document root."""
        return self.parts[0]

    @property
    def is_special(self) -> bool:
        """True for fields kept as store columns (`SPECIAL_FIELDS`)."""
        return self.parts[0] in SPECIAL_FIELDS

    @staticmethod
    def is_known_root(root: str) -> bool:
        """True if ``root`` may start a property path."""
        return root in SPECIAL_FIELDS or root in _DOC_ROOTS


@dataclass(frozen=True, slots=True)
class Comparison:
    """``op(prop,value)`` for eq, ne, gt, ge, lt, le."""

    op: ComparisonOp
    prop: Property
    value: Value


@dataclass(frozen=True, slots=True)
class In:
    """``in(prop,v1,...)``: some value equals one of ``values``."""

    prop: Property
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Like:
    """``like``/``ilike(prop,"pat*tern?")`` on string values."""

    prop: Property
    pattern: str
    case_insensitive: bool = False


@dataclass(frozen=True, slots=True)
class Exists:
    """``exists(prop)``."""

    prop: Property


@dataclass(frozen=True, slots=True)
class Empty:
    """``empty(prop)``."""

    prop: Property


@dataclass(frozen=True, slots=True)
class And:
    """``and(q1,q2,...)``."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """``or(q1,q2,...)``."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``not(q)``."""

    child: Node


Node = Comparison | In | Like | Exists | Empty | And | Or | Not


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ``sort`` option entry: ``+prop`` or ``-prop``."""

    prop: Property
    descending: bool = False

    def __str__(self) -> str:
        return ("-" if self.descending else "+") + str(self.prop)


def _value_text(value: Value) -> str:
    if isinstance(value, Placeholder):
        return value.value
    return orjson.dumps(value).decode()


def to_rql(node: Node) -> str:
    """Render a filter in canonical RQL (double-quoted strings, no whitespace)."""
    match node:
        case Comparison(op, prop, value):
            return f"{op}({prop},{_value_text(value)})"
        case In(prop, values):
            return f"in({prop}," + ",".join(_value_text(v) for v in values) + ")"
        case Like(prop, pattern, ci):
            return f"{'ilike' if ci else 'like'}({prop},{_value_text(pattern)})"
        case Exists(prop):
            return f"exists({prop})"
        case Empty(prop):
            return f"empty({prop})"
        case And(children):
            return "and(" + ",".join(to_rql(c) for c in children) + ")"
        case Or(children):
            return "or(" + ",".join(to_rql(c) for c in children) + ")"
        case Not(child):
            return f"not({to_rql(child)})"
    raise TypeError(f"not an RQL node: {node!r}")
