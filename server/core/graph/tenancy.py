"""Checks on the tenant SPARQL query path, made before a query reaches an engine.

Tenant isolation itself is enforced on the **dataset**: every store runs a tenant's query
with the tenant's graph as both the default graph and the only named graph (pyoxigraph's
``default_graph``/``named_graphs``; ``default-graph-uri``/``named-graph-uri`` in the SPARQL
1.1 Protocol §2.1.4). Query strings are never edited. What this module adds is what a
dataset cannot express:

- ``SERVICE`` (SPARQL 1.1 Federated Query) makes the engine call any URL - another
  endpoint, or the store's own, where the protocol dataset does not apply - so it is
  refused. The check is deliberately conservative: the text ``service`` in any letter case
  is refused anywhere outside string literals, comments and IRIs, because oxigraph's
  scannerless parser reads ``serviceX:q`` as ``SERVICE X:q`` and ``1SERVICE`` as ``1``
  then ``SERVICE``. Variables and prefixed names containing "service" are therefore
  refused too; write the IRI in full (``<...serviceUuids>``) instead.
- every form of update (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``, ``DROP``, ``CREATE``,
  ``ADD``, ``MOVE``, ``COPY``, ``WITH``) is refused with a typed error; the engines' query
  parsers would also reject them, as a second layer.
- ``FROM``/``FROM NAMED`` are refused. Both pyoxigraph and ``oxigraph serve`` let the
  protocol dataset override them (as §2.1.4 says), which the contract tests check, but an
  arbitrary endpoint may not, and silently ignoring a clause would surprise the author.

Lexing follows the terminals of SPARQL 1.1 Query §19.8. Two ambiguities are handled so the
check errs on the side of refusing:

- ``<`` starts an IRI or is the less-than operator, depending on context. Where reading it
  as an IRI could hide text from the check (the IRI holds ``#`` or ``'``, which open a
  comment or a string when read as code), the text is also lexed with ``<`` as an
  operator, and both readings must pass.
- codepoint escapes (``\\u0053ERVICE``) are expanded before parsing by §19.2, while an
  engine may expand them only inside terms, so the text is checked both raw and expanded.
"""

from __future__ import annotations

import re
from enum import StrEnum

from server.core.graph.errors import (
    SparqlQueryForbidden,
    SparqlQueryInvalid,
    SparqlQueryTooLarge,
)

__all__ = ["MAX_QUERY_LENGTH", "QueryForm", "inspect_query"]

MAX_QUERY_LENGTH = 64 * 1024
"""Longest query text accepted, in characters."""


class QueryForm(StrEnum):
    """The four SPARQL 1.1 query forms (§16)."""

    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"
    SELECT = "SELECT"

    @property
    def is_graph(self) -> bool:
        """CONSTRUCT and DESCRIBE return an RDF graph; SELECT and ASK do not."""
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


_UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)

# Terminals of §19.8, tried in this order at each position of code. Long strings come before
# short ones, as in the grammar's own listing; a backslash in code is a PN_LOCAL_ESC and
# swallows the next character (so ``ex:a\#b`` is not a comment).
_TOKEN = re.compile(
    r"""
      (?P<long>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
    | (?P<short>'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<comment>\#[^\n\r]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<code>(?:[^'"\#<\\]|\\.)+|<|\\)
    """,
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_WORD = re.compile(r"[^\W\d][\w.\-]*:?|[?$]\w+|:")
_FROM = re.compile(r"(?<![\w?$:\\.-])from(?![\w:])", re.IGNORECASE)
_SERVICE = "service"


def _expand_codepoints(text: str) -> str:
    """Apply the codepoint escapes of §19.2 to the whole text."""

    def repl(m: re.Match[str]) -> str:
        value = int(m.group(1) or m.group(2), 16)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise SparqlQueryInvalid(f"Invalid codepoint escape {m.group(0)!r}.")
        return chr(value)

    return _CODEPOINT.sub(repl, text)


def _lex(text: str, start: int, seen: set[int], branches: list[int] | None) -> str:
    """The code of ``text`` from ``start``, with strings, comments and IRIs blanked.

    Stops early at a token start already in ``seen`` (that suffix was lexed already).
    When ``branches`` is a list, positions where ``<`` could also be an operator and the
    IRI reading could hide something are appended to it.
    """
    parts: list[str] = []
    pos = start
    while pos < len(text):
        if pos in seen and pos != start:
            break
        seen.add(pos)
        m = _TOKEN.match(text, pos)
        if m is None:  # an unterminated string: no engine parses it either
            raise SparqlQueryInvalid("The query holds an unterminated string literal.")
        kind = m.lastgroup
        token = m.group(0)
        if kind == "code":
            parts.append(token)
        else:
            # Read as an operator, '<' exposes the token's text as code. Without '#' (a
            # comment) or "'" (a string) that code ends at the '>' in the same state, and
            # SERVICE would need a '{' before that '>', which an IRI cannot hold.
            if kind == "iri" and branches is not None and ("#" in token or "'" in token):
                branches.append(pos + 1)
            parts.append(" ")
        pos = m.end()
    return "".join(parts)


def _refuse_service(text: str) -> None:
    """Raise `SparqlQueryForbidden` if any reading of ``text`` may hold ``SERVICE``."""
    if _SERVICE not in text.lower():
        return
    seen: set[int] = set()
    pending = [0]
    while pending:
        start = pending.pop()
        branches: list[int] = []
        code = _lex(text, start, seen, branches)
        if _SERVICE in code.lower():
            raise SparqlQueryForbidden(
                "SERVICE is not permitted in tenant queries.",
                description=(
                    "Federated queries are refused. The word 'service' is also refused in "
                    "variable names and prefixed names; write such IRIs in full <...>."
                ),
            )
        pending.extend(b for b in branches if b not in seen)


def _form_of(code: str) -> QueryForm:
    """The query form: the first keyword after the prologue (``BASE``/``PREFIX``)."""
    skip_next = False
    for m in _WORD.finditer(code):
        word = m.group(0)
        if skip_next:  # the prefix name of a PREFIX declaration
            skip_next = False
            continue
        upper = word.upper()
        if upper == "PREFIX":
            skip_next = True
            continue
        if upper == "BASE":
            continue
        if upper in QueryForm.__members__:
            return QueryForm(upper)
        if upper in _UPDATE_KEYWORDS:
            raise SparqlQueryForbidden(
                "Updates are not permitted on the query path.",
                description="SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) is refused here.",
            )
        break
    raise SparqlQueryInvalid(
        "The query does not start with SELECT, CONSTRUCT, DESCRIBE or ASK after its prologue."
    )


def inspect_query(text: str, *, max_length: int = MAX_QUERY_LENGTH) -> QueryForm:
    """Check a tenant query and return its form.

    Raises `SparqlQueryTooLarge` for text over ``max_length``, `SparqlQueryForbidden` for
    SERVICE, updates and FROM/FROM NAMED, and `SparqlQueryInvalid` for text whose form
    cannot be told. Passing does not mean the query parses: the engine decides that.
    """
    if not isinstance(text, str):
        raise SparqlQueryInvalid("The query must be text.")
    if len(text) > max_length:
        raise SparqlQueryTooLarge(
            f"The query is {len(text)} characters long; the limit is {max_length}."
        )
    readings = [text]
    if "\\u" in text or "\\U" in text:
        readings.append(_expand_codepoints(text))
    for reading in readings:
        _refuse_service(reading)
    form: QueryForm | None = None
    for reading in readings:
        code = _lex(reading, 0, set(), None)
        if _FROM.search(code):
            raise SparqlQueryForbidden(
                "FROM and FROM NAMED are not permitted in tenant queries.",
                description=(
                    "The dataset of a tenant query is the tenant's own graph; remove the "
                    "FROM/FROM NAMED clauses."
                ),
            )
        form = form or _form_of(code)
    assert form is not None
    return form
