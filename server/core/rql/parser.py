"""A recursive-descent parser for Ditto's RQL filters and search options.

Grammar (Ditto basic-rql, ditto-api notes §1.6)::

    query    := op "(" args ")"
    logical  := ("and" | "or") "(" query ("," query)* ")"  |  "not" "(" query ")"
    compare  := ("eq"|"ne"|"gt"|"ge"|"lt"|"le") "(" prop "," value ")"
    in       := "in" "(" prop ("," value)+ ")"
    like     := ("like"|"ilike") "(" prop "," string ")"
    unary    := ("exists"|"empty") "(" prop ")"
    value    := string | number | "true" | "false" | "null" | "time:now"
              | "time:now_epoch_millis"
    string   := '"' ... '"' | "'" ... "'"    (backslash escapes the quote and itself)
    options  := option ("," option)*
    option   := "size(" int ")" | "cursor(" token ")" | "sort(" ("+"|"-") prop ("," ...)* ")"
              | "limit(" int "," int ")"

Whitespace is not part of the grammar, as in Ditto. Every error raises
`RqlExpressionInvalid` with the 0-based ``position`` of the offending character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.core.errors import RqlExpressionInvalid, SearchOptionInvalid
from server.core.ids import validate_key
from server.core.rql.ast import (
    And,
    Comparison,
    ComparisonOp,
    Empty,
    Exists,
    In,
    Like,
    Node,
    Not,
    Or,
    Placeholder,
    Property,
    SortKey,
    Value,
)

__all__ = [
    "DEFAULT_SIZE",
    "MAX_SIZE",
    "SearchOptions",
    "parse_filter",
    "parse_options",
    "parse_property",
]

DEFAULT_SIZE = 25
"""Page size when ``size`` is not given (Ditto default)."""
MAX_SIZE = 200
"""Largest page size Ditto accepts."""

_COMPARISONS: frozenset[str] = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """Parsed ``option=`` of a search: page size, cursor, sort and deprecated limit."""

    size: int | None = None
    cursor: str | None = None
    sort: tuple[SortKey, ...] = ()
    limit: tuple[int, int] | None = None


def parse_property(text: str) -> Property:
    """Parse a property path (leading ``/`` optional) or raise `RqlExpressionInvalid`."""
    return _property(text, text, 0)


def _property(text: str, source: str, position: int) -> Property:
    body = text[1:] if text.startswith("/") else text
    if not body:
        raise RqlExpressionInvalid("empty property", expression=source, position=position)
    parts = tuple(body.split("/"))
    for part in parts:
        try:
            validate_key(part)
        except Exception:
            raise RqlExpressionInvalid(
                f"invalid property '{text}'", expression=source, position=position
            ) from None
    if not Property.is_known_root(parts[0]):
        raise RqlExpressionInvalid(
            f"unknown property '{text}'", expression=source, position=position
        )
    if parts[0] != "features" and "*" in parts:
        raise RqlExpressionInvalid(
            f"'*' is only allowed as a feature id in '{text}'",
            expression=source,
            position=position,
        )
    if parts[0] == "features" and "*" in parts[2:]:
        raise RqlExpressionInvalid(
            f"'*' is only allowed as a feature id in '{text}'",
            expression=source,
            position=position,
        )
    if Property(parts[:1]).is_special and len(parts) > 1:
        raise RqlExpressionInvalid(
            f"'{parts[0]}' has no sub-properties", expression=source, position=position
        )
    return Property(parts)


class _Parser:
    """Cursor over the source text; each method consumes one production."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> RqlExpressionInvalid:
        return RqlExpressionInvalid(
            message, expression=self.text, position=self.pos if position is None else position
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "end of input"
            raise self.fail(f"expected '{char}' but found {found}")
        self.pos += 1

    def word(self) -> tuple[str, int]:
        start = self.pos
        match = _WORD.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected an operator name")
        self.pos = match.end()
        return match.group(), start

    def query(self) -> Node:
        op, start = self.word()
        self.expect("(")
        node: Node
        if op in ("and", "or"):
            children = [self.query()]
            while self.peek() == ",":
                self.pos += 1
                children.append(self.query())
            node = And(tuple(children)) if op == "and" else Or(tuple(children))
        elif op == "not":
            node = Not(self.query())
        elif op in _COMPARISONS:
            prop = self.prop()
            self.expect(",")
            value = self.value()
            node = Comparison(_as_op(op), prop, value)
        elif op == "in":
            prop = self.prop()
            values: list[Value] = []
            self.expect(",")
            values.append(self.value())
            while self.peek() == ",":
                self.pos += 1
                values.append(self.value())
            node = In(prop, tuple(values))
        elif op in ("like", "ilike"):
            prop = self.prop()
            self.expect(",")
            at = self.pos
            pattern = self.value()
            if not isinstance(pattern, str):
                raise self.fail(f"{op} needs a string pattern", at)
            _check_pattern(pattern, self, at)
            node = Like(prop, pattern, op == "ilike")
        elif op in ("exists", "empty"):
            prop = self.prop()
            node = Exists(prop) if op == "exists" else Empty(prop)
        else:
            raise self.fail(f"unknown operator '{op}'", start)
        self.expect(")")
        return node

    def prop(self) -> Property:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",()\"'":
            self.pos += 1
        return _property(self.text[start : self.pos], self.text, start)

    def value(self) -> Value:
        char = self.peek()
        if char in ("'", '"'):
            return self.string(char)
        start = self.pos
        for literal, result in (
            ("true", True),
            ("false", False),
            ("null", None),
            ("time:now_epoch_millis", Placeholder.NOW_EPOCH_MILLIS),
            ("time:now", Placeholder.NOW),
        ):
            end = start + len(literal)
            if self.text.startswith(literal, start) and (
                end == len(self.text) or self.text[end] in ",)"
            ):
                self.pos = end
                return result
        match = _NUMBER.match(self.text, start)
        if match is not None and (match.end() == len(self.text) or self.text[match.end()] in ",)"):
            self.pos = match.end()
            token = match.group()
            if any(c in token for c in ".eE"):
                return float(token)
            return int(token)
        raise self.fail("expected a value (string, number, true, false, null or time:now)")

    def string(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.fail("unterminated string", start)
            char = self.text[self.pos]
            if char == "\\":
                nxt = self.text[self.pos + 1 : self.pos + 2]
                if nxt in (quote, "\\"):
                    out.append(nxt)
                    self.pos += 2
                    continue
                # Other escapes (\* and \? in like patterns) are kept verbatim.
                out.append(char)
                self.pos += 1
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1


def _as_op(op: str) -> ComparisonOp:
    if op == "eq":
        return "eq"
    if op == "ne":
        return "ne"
    if op == "gt":
        return "gt"
    if op == "ge":
        return "ge"
    if op == "lt":
        return "lt"
    return "le"


def _check_pattern(pattern: str, parser: _Parser, at: int) -> None:
    """Reject a dangling backslash at the end of a like pattern."""
    escaped = False
    for char in pattern:
        escaped = not escaped and char == "\\"
    if escaped:
        raise parser.fail("like pattern ends with an unfinished escape", at)


def parse_filter(text: str) -> Node:
    """Parse an RQL filter; raise `RqlExpressionInvalid` (with ``position``) on bad input."""
    if not isinstance(text, str) or not text:
        raise RqlExpressionInvalid("empty filter", expression=str(text or ""), position=0)
    parser = _Parser(text)
    node = parser.query()
    if parser.pos != len(text):
        raise parser.fail("unexpected trailing input")
    return node


def parse_options(text: str) -> SearchOptions:
    """Parse ``size(n),cursor(c),sort(+a,-b)`` (or deprecated ``limit(off,n)``).

    Syntax errors raise `RqlExpressionInvalid`; a repeated option, a size outside
    1..200 or ``limit`` mixed with ``size``/``cursor`` raises `SearchOptionInvalid`.
    """
    parser = _Parser(text)
    size: int | None = None
    cursor: str | None = None
    sort: tuple[SortKey, ...] | None = None
    limit: tuple[int, int] | None = None
    while parser.pos < len(text):
        name, start = parser.word()
        parser.expect("(")
        if name == "size":
            if size is not None:
                raise SearchOptionInvalid("The option 'size' is given twice.")
            size = _int(parser)
            if not 1 <= size <= MAX_SIZE:
                raise SearchOptionInvalid(f"size({size}) is not within 1..{MAX_SIZE}.")
        elif name == "cursor":
            if cursor is not None:
                raise SearchOptionInvalid("The option 'cursor' is given twice.")
            begin = parser.pos
            while parser.peek() not in ("", ")"):
                parser.pos += 1
            cursor = text[begin : parser.pos]
            if not cursor:
                raise parser.fail("empty cursor", begin)
        elif name == "sort":
            if sort is not None:
                raise SearchOptionInvalid("The option 'sort' is given twice.")
            keys = [_sort_key(parser)]
            while parser.peek() == ",":
                parser.pos += 1
                keys.append(_sort_key(parser))
            sort = tuple(keys)
        elif name == "limit":
            if limit is not None:
                raise SearchOptionInvalid("The option 'limit' is given twice.")
            offset = _int(parser)
            parser.expect(",")
            count = _int(parser)
            if offset < 0 or not 1 <= count <= MAX_SIZE:
                raise SearchOptionInvalid(f"limit({offset},{count}) is out of range.")
            limit = (offset, count)
        else:
            raise parser.fail(f"unknown option '{name}'", start)
        parser.expect(")")
        if parser.pos < len(text):
            parser.expect(",")
            if parser.pos == len(text):
                raise parser.fail("expected an option after ','")
    if limit is not None and (size is not None or cursor is not None):
        raise SearchOptionInvalid("The option 'limit' cannot be combined with size or cursor.")
    return SearchOptions(size=size, cursor=cursor, sort=sort or (), limit=limit)


def _int(parser: _Parser) -> int:
    start = parser.pos
    match = re.compile(r"-?[0-9]+").match(parser.text, start)
    if match is None:
        raise parser.fail("expected an integer")
    parser.pos = match.end()
    return int(match.group())


def _sort_key(parser: _Parser) -> SortKey:
    sign = parser.peek()
    if sign not in ("+", "-"):
        raise parser.fail("expected '+' or '-' before a sort property")
    parser.pos += 1
    start = parser.pos
    prop = parser.prop()
    if prop.root == "features" and "*" in prop.parts:
        raise parser.fail("cannot sort on a wildcard feature", start)
    return SortKey(prop, sign == "-")
