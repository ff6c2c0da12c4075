"""The embedded store's inverted value index: what it holds and how RQL filters use it.

SQLite has no GIN index, so filters on the document (``eq(attributes/zone,"z12")``) used
to evaluate JSON1 functions on every twin of the tenant. The ``twin_values`` table keeps,
per twin, one row for every value a property path can match (Ditto semantics, see
`server.core.rql.ast`), and a marker row for an object or array that a path reaches but
that holds nothing indexed (``{}``, ``[]``, ``[[1]]``)::

    (tenant, path, kind, value, fid, thing_id)

``path`` joins the keys with ``/`` with array positions left out, so a row exists at or
below every path the evaluator's walk reaches (``exists`` reads the path and the range
of its descendants): arrays met on the way are entered through their object elements,
and an array at the end contributes its scalar elements as values. Non-empty containers
need no row of their own, which keeps a create to about one row per leaf.
Feature paths are stored with the feature id replaced by ``*`` and the id kept in ``fid``
(``""`` elsewhere), so ``features/*/properties/t`` and ``features/env/properties/t`` are
both one range of the primary key. ``kind`` separates the JSON types, which keeps Ditto's
"no coercion" rule structural: a number never meets a string in a comparison.

This module is pure (no connection): `doc_rows` lists a document's rows for the store's
write path (`server.core.stores.sqlite_values`), and `plan_filter` turns the indexable
part of a filter into a SQL set of thing ids that the store joins to ``twins``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from server.core.errors import RqlExpressionInvalid
from server.core.rql.ast import (
    And,
    Comparison,
    Exists,
    In,
    Like,
    Node,
    Or,
    Property,
)
from server.core.rql.literals import Scalar, is_number, like_to_glob, like_tokens, resolve
from server.core.rql.sql import Params
from server.core.rql.sqlite import COLUMNS, compile_filter

__all__ = [
    "KIND_BOOL",
    "KIND_NODE",
    "KIND_NULL",
    "KIND_NUMBER",
    "KIND_STRING",
    "TABLE",
    "TABLE_SQL",
    "IndexPlan",
    "IndexRow",
    "IndexTerms",
    "diff_rows",
    "doc_rows",
    "plan_filter",
    "split_filter",
]

TABLE = "twin_values"

# ``value`` has no declared type on purpose: BLOB affinity stores what is bound as is, so
# the text "1" stays text (a NUMERIC column would turn it into the integer 1).
TABLE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    tenant TEXT NOT NULL,
    path TEXT NOT NULL,
    kind INTEGER NOT NULL,
    value NOT NULL,
    fid TEXT NOT NULL,
    thing_id TEXT NOT NULL,
    PRIMARY KEY (tenant, path, kind, value, fid, thing_id)
) WITHOUT ROWID
"""

KIND_NODE = 0
"""An object or array with nothing indexed in it, at the path (for ``exists``); value
``""``."""
KIND_NULL = 1
"""JSON ``null``; value ``""``."""
KIND_NUMBER = 2
"""A JSON number; value INTEGER or REAL (SQLite compares the two numerically)."""
KIND_STRING = 3
"""A JSON string; value TEXT (BINARY collation: code point order, as Python and RQL)."""
KIND_BOOL = 4
"""A JSON boolean; value 0 or 1."""

IndexRow = tuple[str, int, Any, str]
"""``(path, kind, value, fid)`` of one index row of a twin."""

_INT64 = 1 << 63


def _value_row(path: str, value: Any, fid: str) -> IndexRow:
    # isinstance, not type(): documents may hold str subclasses such as ThingId.
    if isinstance(value, str):
        return (path, KIND_STRING, str(value), fid)
    if isinstance(value, bool):
        return (path, KIND_BOOL, int(value), fid)
    if isinstance(value, int):
        # SQLite integers are 64-bit; JSON1 reads larger ones as reals, and so do we.
        return (path, KIND_NUMBER, int(value) if -_INT64 <= value < _INT64 else float(value), fid)
    if isinstance(value, float):
        return (path, KIND_NUMBER, float(value), fid)
    if value is None:
        return (path, KIND_NULL, "", fid)
    raise TypeError(f"not a JSON scalar: {value!r}")  # pragma: no cover


def _walk(rows: set[IndexRow], node: Any, path: str, fid: str) -> None:
    """Add the rows of ``node``, reached at ``path``, and of everything below it."""
    if isinstance(node, dict):
        empty = True
        for key, child in node.items():
            # A key holding "/" cannot be named by a property path; indexing it under the
            # joined path would let it match a different (nested) property.
            if "/" not in key:
                empty = False
                _walk(rows, child, f"{path}/{key}", fid)
        if empty:
            rows.add((path, KIND_NODE, "", fid))
    elif isinstance(node, list | tuple):
        empty = True
        for element in node:
            if isinstance(element, dict):
                # Object elements are searched for the keys that follow (the path is the
                # array's own: positions are not part of property paths).
                for key, child in element.items():
                    if "/" not in key:
                        empty = False
                        _walk(rows, child, f"{path}/{key}", fid)
            elif not isinstance(element, list | tuple):
                # Scalars are values of the array's path; a nested array is a value too,
                # but one no indexed operator can match, and it is not entered.
                empty = False
                rows.add(_value_row(path, element, fid))
        if empty:
            rows.add((path, KIND_NODE, "", fid))
    else:
        rows.add(_value_row(path, node, fid))


def _top(rows: set[IndexRow], key: str, node: Any) -> None:
    """Add the rows of one top-level entry of a thing document."""
    if key == "thingId" or "/" in key:
        return
    if key == "features" and isinstance(node, dict):
        empty = True
        for fid, feature in node.items():
            if "/" not in fid:
                empty = False
                _walk(rows, feature, "features/*", fid)
        if empty:
            rows.add(("features", KIND_NODE, "", ""))
        return
    _walk(rows, node, key, "")


def doc_rows(doc: dict[str, Any]) -> set[IndexRow]:
    """Every index row of a thing document (``thingId`` is a store column, not indexed)."""
    rows: set[IndexRow] = set()
    for key, node in doc.items():
        _top(rows, key, node)
    return rows


_MISSING: Any = object()


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON, types included (Python's == holds for ``True == 1``)."""
    if type(old) is not type(new) or old != new:
        return False
    if isinstance(old, dict | list):
        # Containers compare their members with == too; the JSON texts settle it.
        return bool(orjson.dumps(old) == orjson.dumps(new))
    return True


def _marker(
    old: dict[str, Any],
    new: dict[str, Any],
    path: str,
    fid: str,
    gone: set[IndexRow],
    added: set[IndexRow],
) -> None:
    """The marker row of an object at ``path`` when it becomes, or stops being, empty."""
    was_empty = all("/" in key for key in old)
    is_empty = all("/" in key for key in new)
    if was_empty and not is_empty:
        gone.add((path, KIND_NODE, "", fid))
    elif is_empty and not was_empty:
        added.add((path, KIND_NODE, "", fid))


def _diff(
    old: Any, new: Any, path: str, fid: str, gone: set[IndexRow], added: set[IndexRow]
) -> None:
    """Rows to delete and insert below ``path`` when ``old`` becomes ``new``.

    Descends in step only through objects: every row below ``path`` then comes from this
    subtree alone (keys hold no ``/``), so set differences per subtree are exact. An
    array can repeat a row in several elements, so below an array the whole subtree is
    compared as a unit.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        _marker(old, new, path, fid, gone, added)
        for key in old.keys() | new.keys():
            if "/" in key:
                continue
            before, after = old.get(key, _MISSING), new.get(key, _MISSING)
            if before is _MISSING:
                _walk(added, after, f"{path}/{key}", fid)
            elif after is _MISSING:
                _walk(gone, before, f"{path}/{key}", fid)
            elif not _same(before, after):
                _diff(before, after, f"{path}/{key}", fid, gone, added)
        return
    before_rows: set[IndexRow] = set()
    after_rows: set[IndexRow] = set()
    if old is not _MISSING:
        _walk(before_rows, old, path, fid)
    if new is not _MISSING:
        _walk(after_rows, new, path, fid)
    gone |= before_rows - after_rows
    added |= after_rows - before_rows


def diff_rows(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[set[IndexRow], set[IndexRow]]:
    """``(gone, added)``: the rows of ``old`` not in ``new`` and the reverse.

    Equal to the set differences of `doc_rows` of both, but unchanged subtrees are
    skipped, so a one-leaf modify costs the rows of that leaf only.
    """
    gone: set[IndexRow] = set()
    added: set[IndexRow] = set()
    if old is None or new is None:
        if old is not None:
            gone = doc_rows(old)
        if new is not None:
            added = doc_rows(new)
        return gone, added
    for key in old.keys() | new.keys():
        if key == "thingId" or "/" in key:
            continue
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if _same(before, after):
            continue
        if key == "features" and isinstance(before, dict) and isinstance(after, dict):
            _marker(before, after, "features", "", gone, added)
            for fid in before.keys() | after.keys():
                was, now = before.get(fid, _MISSING), after.get(fid, _MISSING)
                if "/" not in fid and not _same(was, now):
                    _diff(was, now, "features/*", fid, gone, added)
            continue
        if key != "features" and isinstance(before, dict) and isinstance(after, dict):
            _diff(before, after, key, "", gone, added)
            continue
        before_rows: set[IndexRow] = set()
        after_rows: set[IndexRow] = set()
        if before is not _MISSING:
            _top(before_rows, key, before)
        if after is not _MISSING:
            _top(after_rows, key, after)
        gone |= before_rows - after_rows
        added |= after_rows - before_rows
    return gone, added


def _index_key(prop: Property) -> tuple[str, str | None] | None:
    """``(path, fid)`` for an indexed property (fid None: any feature), else None."""
    parts = prop.parts
    if parts[0] in COLUMNS:
        return None
    for part in parts:
        # The JSON1 compiler cannot address these keys and refuses them; the index must
        # give the same answer whichever of the two serves a query.
        if '"' in part or "\\" in part:
            raise RqlExpressionInvalid(f"the key '{part}' cannot be searched in the embedded store")
    if parts[0] == "features" and len(parts) > 1:
        fid = None if parts[1] == "*" else parts[1]
        return "/".join(("features", "*", *parts[2:])), fid
    return "/".join(parts), ""


def _kind_value(literal: Scalar) -> tuple[int, Any]:
    """The (kind, value) pair an ``eq`` literal matches."""
    if literal is None:
        return KIND_NULL, ""
    if isinstance(literal, bool):
        return KIND_BOOL, int(literal)
    if isinstance(literal, int):
        return KIND_NUMBER, literal if -_INT64 <= literal < _INT64 else float(literal)
    if isinstance(literal, float):
        return KIND_NUMBER, literal
    return KIND_STRING, literal


def _successor(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (None: no bound)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code <= 0x10FFFF:
            if 0xD800 <= code <= 0xDFFF:
                code = 0xE000  # surrogates have no UTF-8 form; the next code point does
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


_RANGE_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_NOTHING = f"SELECT thing_id FROM {TABLE} WHERE 0"


@dataclass(frozen=True, slots=True)
class _Set:
    """SQL selecting the thing ids (column ``thing_id``) that satisfy a filter exactly."""

    sql: str
    distinct: bool
    """Whether the SELECT can return an id only once (compounds and unique ranges)."""
    compound: bool = False


class _Planner:
    def __init__(self, params: Params, now: datetime, tenant: str) -> None:
        self.p = params
        self.now = now
        self.tenant = tenant

    def _select(self, key: tuple[str, str | None], condition: str, distinct: bool) -> _Set:
        path, fid = key
        where = f"tenant = {self.tenant} AND path = {self.p.add(path)}"
        if fid is not None:
            where += f" AND fid = {self.p.add(fid)}"
        return _Set(f"SELECT thing_id FROM {TABLE} WHERE {where} AND {condition}", distinct)

    def _eq(self, literal: Scalar) -> str:
        kind, value = _kind_value(literal)
        return f"kind = {kind} AND value = {self.p.add(value)}"

    def atom(self, node: Node) -> _Set | None:
        """The set for an atomic filter the index serves exactly, else None."""
        if not isinstance(node, Comparison | In | Like | Exists):
            return None
        key = _index_key(node.prop)
        if key is None:
            return None
        root = node.prop.root
        match node:
            case Comparison("eq", _, raw):
                # One (path, kind, value, fid) range holds each twin once.
                return self._select(key, self._eq(resolve(raw, root, self.now)), key[1] is not None)
            case Comparison("ne"):
                return None  # "some value differs" needs every value, not a range
            case Comparison(op, _, raw):
                literal = resolve(raw, root, self.now)
                if is_number(literal):
                    kind = KIND_NUMBER
                elif isinstance(literal, str):
                    kind = KIND_STRING
                else:
                    return _Set(_NOTHING, True)  # booleans and null have no order
                value = self.p.add(_kind_value(literal)[1])
                return self._select(key, f"kind = {kind} AND value {_RANGE_OPS[op]} {value}", False)
            case In(_, raws):
                literals = [resolve(r, root, self.now) for r in raws]
                by_kind: dict[int, list[Any]] = {}
                for literal in literals:
                    kind, value = _kind_value(literal)
                    by_kind.setdefault(kind, []).append(value)
                # One range per kind: an OR of kinds would make SQLite read the whole path.
                sets = [
                    self._select(
                        key,
                        f"kind = {kind} AND value IN ({', '.join(self.p.add(v) for v in values)})",
                        False,
                    )
                    for kind, values in by_kind.items()
                ]
                return _combine(sets, False) if sets else _Set(_NOTHING, True)
            case Like(_, pattern, ci):
                condition = f"kind = {KIND_STRING}"
                glob = self.p.add(like_to_glob(pattern, lower=ci))
                if ci:
                    return self._select(key, f"{condition} AND ndt_lower(value) GLOB {glob}", False)
                prefix = ""
                for token in like_tokens(pattern):
                    if token.kind != "char":
                        break
                    prefix += token.char
                if prefix:
                    # A literal prefix is a range of the key; GLOB then checks the rest.
                    condition += f" AND value >= {self.p.add(prefix)}"
                    upper = _successor(prefix)
                    if upper is not None:
                        condition += f" AND value < {self.p.add(upper)}"
                return self._select(key, f"{condition} AND value GLOB {glob}", False)
            case Exists():
                # A row at the path, or a row below it (non-empty containers have none
                # of their own): two ranges of the key, since "0" follows "/".
                path, fid = key
                here = self._select(key, "1", False)
                where = (
                    f"tenant = {self.tenant} AND path >= {self.p.add(path + '/')} "
                    f"AND path < {self.p.add(path + '0')}"
                )
                if fid is not None:
                    where += f" AND fid = {self.p.add(fid)}"
                below = _Set(f"SELECT thing_id FROM {TABLE} WHERE {where}", False)
                return _combine([here, below], False)
        return None  # pragma: no cover

    def exact(self, node: Node) -> _Set | None:
        """The set for ``node`` if every part of it is served by the index, else None."""
        if isinstance(node, And | Or):
            sets = [self.exact(child) for child in node.children]
            if any(s is None for s in sets):
                return None
            return _combine([s for s in sets if s is not None], isinstance(node, And))
        return self.atom(node)

    def split(self, node: Node) -> IndexTerms | None:
        """The conjuncts of a top-level ``and`` the index serves, and the others."""
        served: list[tuple[Node, _Set]] = []
        residual: list[Node] = []
        for term in _conjuncts(node):
            found = self.exact(term)
            if found is None:
                residual.append(term)
            else:
                served.append((term, found))
        if not served:
            return None
        return IndexTerms(tuple(served), tuple(residual), self.p, self.now)


def _conjuncts(node: Node) -> Iterable[Node]:
    if isinstance(node, And):
        for child in node.children:
            yield from _conjuncts(child)
    else:
        yield node


def _combine(sets: list[_Set], intersect: bool) -> _Set:
    if len(sets) == 1:
        return sets[0]
    # SQLite allows no parentheses inside a compound SELECT: nest compounds as subqueries.
    operands = [f"SELECT thing_id FROM ({s.sql})" if s.compound else s.sql for s in sets]
    operator = " INTERSECT " if intersect else " UNION "
    return _Set(operator.join(operands), True, compound=True)


@dataclass(frozen=True, slots=True)
class IndexPlan:
    """A filter split into index candidates and a residual condition over ``twins t``."""

    candidates: str
    """A SELECT of distinct ``thing_id`` values containing every match."""
    condition: str
    """SQL over ``twins t`` that the candidates must still satisfy (``"1"``: none)."""


@dataclass(frozen=True)
class IndexTerms:
    """The conjuncts of a filter, split into those the index serves and the rest."""

    served: tuple[tuple[Node, _Set], ...]
    residual: tuple[Node, ...]
    params: Params
    now: datetime

    def term_sql(self, index: int) -> str:
        """A SELECT of the ids (possibly repeated) matching served term ``index``."""
        return self.served[index][1].sql

    def plan(self, use: Iterable[int] | None = None) -> IndexPlan:
        """Candidates from the served terms in ``use`` (None: all), intersected; the
        other terms, served or not, become the residual condition."""
        chosen = set(range(len(self.served)) if use is None else use)
        if not chosen:
            raise ValueError("a plan needs at least one served term")
        sets = [found for i, (_, found) in enumerate(self.served) if i in chosen]
        rest = [term for i, (term, _) in enumerate(self.served) if i not in chosen]
        rest += self.residual
        combined = _combine(sets, True)
        candidates = combined.sql
        if not combined.distinct:
            candidates = f"SELECT DISTINCT thing_id FROM ({candidates})"
        if not rest:
            return IndexPlan(candidates, "1")
        node = rest[0] if len(rest) == 1 else And(tuple(rest))
        return IndexPlan(candidates, compile_filter(node, self.params, self.now))


def split_filter(node: Node, params: Params, now: datetime, tenant: str) -> IndexTerms | None:
    """Split ``node`` into the conjuncts the value index serves and the others; None
    when it serves none.

    ``tenant`` is the placeholder already bound to the tenant. Terms the index serves
    exactly: eq, in, gt, ge, lt, le, like, ilike and exists on document properties (not
    the special column fields), and and/or of such terms. ne, not and empty, and an or
    with any other term, stay residual and are compiled by `compile_filter`.
    """
    return _Planner(params, now, tenant).split(node)


def plan_filter(node: Node, params: Params, now: datetime, tenant: str) -> IndexPlan | None:
    """`split_filter`, with every served term narrowing the candidates."""
    terms = split_filter(node, params, now, tenant)
    return None if terms is None else terms.plan()
