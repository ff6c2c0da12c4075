"""Compile RQL to SQLite SQL over the ``twins`` table (alias ``t``) with JSON1 functions.

Semantics are those of `server.core.rql.ast`. Arrays are entered with ``json_each``:
below the fixed Ditto structure (``attributes``, ``features/<id>/properties`` ...) an
array met before the last key is searched element-wise, and an array at the end
contributes its elements. Every atomic predicate yields 0 or 1, never NULL, so that
``not(...)`` is the exact complement.

SQLite's JSON path syntax cannot address a key holding ``"`` or ``\\``; such properties
are rejected with `RqlExpressionInvalid` rather than silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from server.core.errors import RqlExpressionInvalid
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
    SortKey,
)
from server.core.rql.literals import Scalar, is_number, like_to_glob, resolve
from server.core.rql.sql import Params, SortAtom

__all__ = ["COLUMNS", "compile_filter", "sort_atoms", "sqlite_params"]

COLUMNS: dict[str, tuple[str, str]] = {
    "thingId": ("t.thing_id", "text"),
    "_namespace": ("t.namespace", "text"),
    "_revision": ("t.revision", "int"),
    "_created": ("t.created", "text"),
    "_modified": ("t.modified", "text"),
}
"""Special fields stored as columns: SQL expression and value kind."""

_NUMBER_TYPES = "('integer','real')"
Cond = Callable[[str, str], str]
NodePredicate = Callable[[str, str], str]


def sqlite_params() -> Params:
    """A parameter collector using SQLite's ``:name`` style."""
    return Params(lambda name: f":{name}")


def _json_path(parts: Sequence[str]) -> str:
    out = "$"
    for part in parts:
        if '"' in part or "\\" in part:
            raise RqlExpressionInvalid(f"the key '{part}' cannot be searched in the embedded store")
        out += f'."{part}"'
    return out


def _structural_depth(prop: Property) -> int:
    """How many leading keys address Ditto's fixed objects (no arrays can occur there)."""
    if prop.root == "attributes":
        return 1
    if prop.root == "features":
        return 3
    return len(prop.parts)


class _Compiler:
    def __init__(self, params: Params, now: datetime) -> None:
        self.p = params
        self.now = now

    # --- value conditions over (type, value) SQL pairs --------------------------------

    def eq_cond(self, literal: Scalar) -> Cond:
        if literal is None:
            return lambda t, v: f"{t} = 'null'"
        if literal is True:
            return lambda t, v: f"{t} = 'true'"
        if literal is False:
            return lambda t, v: f"{t} = 'false'"
        ph = self.p.add(literal)
        if is_number(literal):
            return lambda t, v: f"({t} IN {_NUMBER_TYPES} AND {v} = {ph})"
        return lambda t, v: f"({t} = 'text' AND {v} = {ph})"

    def cond(self, node: Comparison | In | Like) -> Cond:
        match node:
            case Comparison("eq", prop, raw):
                return self.eq_cond(resolve(raw, prop.root, self.now))
            case Comparison("ne", prop, raw):
                eq = self.eq_cond(resolve(raw, prop.root, self.now))
                return lambda t, v: f"({t} IS NOT NULL AND NOT {eq(t, v)})"
            case Comparison(op, prop, raw):
                literal = resolve(raw, prop.root, self.now)
                sql_op = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
                if is_number(literal):
                    ph = self.p.add(literal)
                    return lambda t, v: f"({t} IN {_NUMBER_TYPES} AND {v} {sql_op} {ph})"
                if isinstance(literal, str):
                    ph = self.p.add(literal)
                    return lambda t, v: f"({t} = 'text' AND {v} {sql_op} {ph})"
                return lambda t, v: "0"
            case In(prop, raws):
                conds = [self.eq_cond(resolve(r, prop.root, self.now)) for r in raws]
                return lambda t, v: "(" + " OR ".join(c(t, v) for c in conds) + ")"
            case Like(_, pattern, ci):
                ph = self.p.add(like_to_glob(pattern, lower=ci))
                if ci:
                    return lambda t, v: f"({t} = 'text' AND ndt_lower({v}) GLOB {ph})"
                return lambda t, v: f"({t} = 'text' AND {v} GLOB {ph})"
        raise TypeError(node)  # pragma: no cover

    # --- walking JSON paths -------------------------------------------------------------

    def walk(self, prop: Property, predicate: NodePredicate) -> str:
        """SQL true iff ``predicate`` holds for some node the property reaches."""
        depth = _structural_depth(prop)
        return self._walk(
            "t.doc",
            (),
            prop.parts,
            predicate,
            consumed=0,
            depth=depth,
            features=prop.root == "features",
        )

    def _walk(
        self,
        doc: str,
        prefix: tuple[str, ...],
        rest: tuple[str, ...],
        predicate: NodePredicate,
        *,
        consumed: int,
        depth: int,
        features: bool,
    ) -> str:
        path = self.p.add(_json_path(prefix))
        if not rest:
            return predicate(doc, path)
        key = rest[0]
        if key == "*" and features and consumed == 1:
            alias = self.p.alias()
            inner = self._walk(
                f"{alias}.value",
                (),
                rest[1:],
                predicate,
                consumed=consumed + 1,
                depth=depth,
                features=features,
            )
            return (
                f"EXISTS (SELECT 1 FROM json_each({doc}, {path}) AS {alias} "
                f"WHERE CASE WHEN {alias}.type = 'object' THEN {inner} ELSE 0 END)"
            )
        direct = self._walk(
            doc,
            (*prefix, key),
            rest[1:],
            predicate,
            consumed=consumed + 1,
            depth=depth,
            features=features,
        )
        if consumed <= depth:
            return direct
        alias = self.p.alias()
        # An array on the way: search its object elements for the remaining keys. CASE,
        # unlike AND, guarantees json functions never see a non-JSON text element.
        element = self._walk(
            f"{alias}.value",
            (key,),
            rest[1:],
            predicate,
            consumed=consumed + 1,
            depth=depth,
            features=features,
        )
        return (
            f"({direct} OR CASE WHEN json_type({doc}, {path}) = 'array' THEN EXISTS ("
            f"SELECT 1 FROM json_each({doc}, {path}) AS {alias} WHERE CASE WHEN "
            f"{alias}.type = 'object' THEN {element} ELSE 0 END) ELSE 0 END)"
        )

    def values_predicate(self, cond: Cond) -> NodePredicate:
        """Node predicate: some value (array elements, or the node itself) meets ``cond``."""

        def predicate(doc: str, path: str) -> str:
            alias = self.p.alias()
            node_type = f"json_type({doc}, {path})"
            return (
                f"(CASE {node_type} WHEN 'array' THEN EXISTS (SELECT 1 FROM "
                f"json_each({doc}, {path}) AS {alias} WHERE "
                f"{cond(f'{alias}.type', f'{alias}.value')}) "
                f"ELSE IFNULL({cond(node_type, f'json_extract({doc}, {path})')}, 0) END)"
            )

        return predicate

    # --- nodes --------------------------------------------------------------------------

    def compile(self, node: Node) -> str:
        match node:
            case And(children):
                return "(" + " AND ".join(self.compile(c) for c in children) + ")"
            case Or(children):
                return "(" + " OR ".join(self.compile(c) for c in children) + ")"
            case Not(child):
                return f"(NOT {self.compile(child)})"
            case Exists(prop):
                if prop.root in COLUMNS:
                    return "1"
                return self.walk(prop, lambda d, p: f"(json_type({d}, {p}) IS NOT NULL)")
            case Empty(prop):
                if prop.root in COLUMNS:
                    column, kind = COLUMNS[prop.root]
                    return f"({column} = '')" if kind == "text" else "0"
                nonempty = self.values_predicate(_non_empty)
                return f"(NOT {self.walk(prop, nonempty)})"
            case Comparison(op="eq", prop=prop, value=value) if _indexable(prop, value):
                # A plain equality on a NOT NULL column stays sargable, so the primary key
                # (tenant, thing_id) serves eq(thingId, ...) without a scan.
                return f"({COLUMNS[prop.root][0]} = {self.p.add(value)})"
            case In(prop=prop, values=values) if values and all(
                _indexable(prop, v) for v in values
            ):
                marks = ", ".join(self.p.add(v) for v in values)
                return f"({COLUMNS[prop.root][0]} IN ({marks}))"
            case Comparison() | In() | Like():
                cond = self.cond(node)
                if node.prop.root in COLUMNS:
                    column, kind = COLUMNS[node.prop.root]
                    sql_type = "'text'" if kind == "text" else "'integer'"
                    return f"IFNULL({cond(sql_type, column)}, 0)"
                return self.walk(node.prop, self.values_predicate(cond))
        raise TypeError(f"not an RQL node: {node!r}")


def _indexable(prop: Property, value: object) -> bool:
    """Whether ``prop = value`` can be written as a bare column comparison."""
    # Times are normalised before comparing, so only ids, namespaces and revisions qualify.
    if prop.root not in ("thingId", "_namespace", "_revision") or len(prop.parts) != 1:
        return False
    kind = COLUMNS[prop.root][1]
    if kind == "text":
        return isinstance(value, str)
    return isinstance(value, int) and not isinstance(value, bool)


def _non_empty(t: str, v: str) -> str:
    return (
        f"({t} IN ('integer','real','true','false') OR ({t} = 'text' AND {v} <> '') "
        f"OR ({t} = 'object' AND {v} <> '{{}}') OR ({t} = 'array' AND {v} <> '[]'))"
    )


def compile_filter(node: Node, params: Params, now: datetime) -> str:
    """A SQL boolean expression over ``twins t`` equivalent to the filter."""
    return _Compiler(params, now).compile(node)


def sort_atoms(sort: Sequence[SortKey], params: Params) -> list[SortAtom]:
    """Atoms of the total order for ``sort`` followed by ``+thingId``."""
    atoms: list[SortAtom] = []
    for key in sort:
        if key.prop.root in COLUMNS:
            column, kind = COLUMNS[key.prop.root]
            atoms.append(SortAtom(column, key.descending, kind))
            continue
        path = params.add(_json_path(key.prop.parts))
        node_type = f"json_type(t.doc, {path})"
        value = f"json_extract(t.doc, {path})"
        rank = (
            f"(CASE {node_type} WHEN 'null' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 "
            "WHEN 'text' THEN 3 WHEN 'false' THEN 4 WHEN 'true' THEN 4 WHEN 'object' THEN 5 "
            "WHEN 'array' THEN 5 ELSE 0 END)"
        )
        number = (
            f"(CASE WHEN {node_type} IN ('integer','real','true','false') THEN {value} ELSE 0 END)"
        )
        text = f"(CASE WHEN {node_type} IN ('text','object','array') THEN {value} ELSE '' END)"
        atoms.append(SortAtom(rank, key.descending, "int"))
        atoms.append(SortAtom(number, key.descending, "num"))
        atoms.append(SortAtom(text, key.descending, "text"))
    atoms.append(SortAtom("t.thing_id", False, "text"))
    return atoms
