"""Compile RQL to PostgreSQL SQL over the ``twins`` table (alias ``t``, ``doc jsonb``).

Each atomic predicate on the document becomes ``t.doc @? '<jsonpath>'``, which the GIN
``jsonb_path_ops`` index on ``doc`` can serve. SQL/JSON path *lax* mode gives Ditto's
array semantics (ditto-api notes §1.6) directly: member accessors enter arrays on the way,
and a filter ``? (...)`` applied to an array tests its elements. Every comparison carries
an ``@.type()`` guard so that no coercion happens and a nested array is a value of its
own, exactly as `server.core.rql.evaluate` defines it.

Strings compare by code point (SQL/JSON path compares strings code point-wise; the text
columns are declared ``COLLATE "C"``), matching SQLite's BINARY collation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

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
from server.core.rql.literals import Scalar, is_number, like_to_regex, resolve
from server.core.rql.sql import Params, SortAtom

__all__ = ["COLUMNS", "compile_filter", "postgres_params", "sort_atoms"]

COLUMNS: dict[str, tuple[str, str]] = {
    "thingId": ("t.thing_id", "text"),
    "_namespace": ("t.namespace", "text"),
    "_revision": ("t.revision", "int"),
    "_created": ("t.created", "text"),
    "_modified": ("t.modified", "text"),
}
"""Special fields stored as columns: SQL expression and value kind."""

_NON_EMPTY = (
    '@.type() == "number" || @.type() == "boolean" || (@.type() == "string" && @ != "") '
    '|| (@.type() == "object" && exists(@.keyvalue())) '
    '|| (@.type() == "array" && @.size() > 0)'
)


def postgres_params() -> Params:
    """A parameter collector using psycopg's ``%(name)s`` style."""
    return Params(lambda name: f"%({name})s")


def _literal(value: Scalar) -> str:
    """A SQL/JSON path literal (JSON syntax is valid path syntax for these scalars)."""
    return orjson.dumps(value).decode()


def _path(prop: Property) -> str:
    """``lax $."attributes"."x"``; the feature id ``*`` becomes the wildcard accessor."""
    out = "lax $"
    for index, part in enumerate(prop.parts):
        if part == "*" and prop.root == "features" and index == 1:
            out += ".*"
        else:
            out += "." + _literal(part)
    return out


def _eq(literal: Scalar) -> str:
    if literal is None:
        return '@.type() == "null"'
    if isinstance(literal, bool):
        return f'(@.type() == "boolean" && @ == {_literal(literal)})'
    if is_number(literal):
        return f'(@.type() == "number" && @ == {_literal(literal)})'
    return f'(@.type() == "string" && @ == {_literal(literal)})'


class _Compiler:
    def __init__(self, params: Params, now: datetime) -> None:
        self.p = params
        self.now = now

    def path_exists(self, jsonpath: str) -> str:
        return f"(t.doc @? {self.p.add(jsonpath)}::jsonpath)"

    def doc_predicate(self, node: Comparison | In | Like) -> str | None:
        """The jsonpath filter for a value predicate, or None if it can never hold."""
        match node:
            case Comparison("eq", prop, raw):
                return _eq(resolve(raw, prop.root, self.now))
            case Comparison("ne", prop, raw):
                return f"!({_eq(resolve(raw, prop.root, self.now))})"
            case Comparison(op, prop, raw):
                literal = resolve(raw, prop.root, self.now)
                path_op = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
                if is_number(literal):
                    return f'(@.type() == "number" && @ {path_op} {_literal(literal)})'
                if isinstance(literal, str):
                    return f'(@.type() == "string" && @ {path_op} {_literal(literal)})'
                return None
            case In(prop, raws):
                return "(" + " || ".join(_eq(resolve(r, prop.root, self.now)) for r in raws) + ")"
            case Like(_, pattern, ci):
                flags = "is" if ci else "s"
                regex = _literal(like_to_regex(pattern))
                return f'(@.type() == "string" && @ like_regex {regex} flag "{flags}")'
        raise TypeError(node)  # pragma: no cover

    def column_predicate(self, column: str, kind: str, node: Comparison | In | Like) -> str:
        def eq(literal: Scalar) -> str:
            matches_kind = isinstance(literal, str) if kind == "text" else is_number(literal)
            return f"({column} = {self.p.add(literal)})" if matches_kind else "FALSE"

        match node:
            case Comparison("eq", prop, raw):
                return eq(resolve(raw, prop.root, self.now))
            case Comparison("ne", prop, raw):
                return f"(NOT {eq(resolve(raw, prop.root, self.now))})"
            case Comparison(op, prop, raw):
                literal = resolve(raw, prop.root, self.now)
                sql_op = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
                matches_kind = isinstance(literal, str) if kind == "text" else is_number(literal)
                if not matches_kind:
                    return "FALSE"
                return f"({column} {sql_op} {self.p.add(literal)})"
            case In(prop, raws):
                return "(" + " OR ".join(eq(resolve(r, prop.root, self.now)) for r in raws) + ")"
            case Like(_, pattern, ci):
                if kind != "text":
                    return "FALSE"
                operator = "~*" if ci else "~"
                return f"({column} {operator} {self.p.add(like_to_regex(pattern))})"
        raise TypeError(node)  # pragma: no cover

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
                    return "TRUE"
                return self.path_exists(_path(prop))
            case Empty(prop):
                if prop.root in COLUMNS:
                    column, kind = COLUMNS[prop.root]
                    return f"({column} = '')" if kind == "text" else "FALSE"
                return f"(NOT {self.path_exists(f'{_path(prop)} ? ({_NON_EMPTY})')})"
            case Comparison() | In() | Like():
                if node.prop.root in COLUMNS:
                    column, kind = COLUMNS[node.prop.root]
                    return self.column_predicate(column, kind, node)
                predicate = self.doc_predicate(node)
                if predicate is None:
                    return "FALSE"
                return self.path_exists(f"{_path(node.prop)} ? ({predicate})")
        raise TypeError(f"not an RQL node: {node!r}")


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
        value = f"(t.doc #> {params.add(list(key.prop.parts))}::text[])"
        node_type = f"jsonb_typeof({value})"
        rank = (
            f"(CASE {node_type} WHEN 'null' THEN 1 WHEN 'number' THEN 2 WHEN 'string' THEN 3 "
            "WHEN 'boolean' THEN 4 WHEN 'object' THEN 5 WHEN 'array' THEN 5 ELSE 0 END)"
        )
        number = (
            f"(CASE {node_type} WHEN 'number' THEN ({value})::numeric WHEN 'boolean' THEN "
            f"(CASE WHEN ({value})::boolean THEN 1 ELSE 0 END)::numeric ELSE 0::numeric END)"
        )
        text = (
            f"((CASE WHEN {node_type} = 'string' THEN {value} #>> '{{}}' "
            f"WHEN {node_type} IN ('object', 'array') THEN ({value})::text ELSE '' END) "
            'COLLATE "C")'
        )
        atoms.append(SortAtom(rank, key.descending, "int"))
        atoms.append(SortAtom(number, key.descending, "num"))
        atoms.append(SortAtom(text, key.descending, "text"))
    atoms.append(SortAtom("t.thing_id", False, "text"))
    return atoms
