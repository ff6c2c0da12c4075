"""Shared handling of RQL literals: placeholders, time values and like patterns.

Both SQL compilers and the in-memory evaluator go through these functions so that the
three agree on what a literal means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from server.core.rql.ast import Placeholder, Value
from server.core.stores.records import format_time

__all__ = [
    "TIME_FIELDS",
    "LikeToken",
    "is_number",
    "like_to_glob",
    "like_to_regex",
    "like_tokens",
    "resolve",
]

TIME_FIELDS = frozenset({"_created", "_modified"})
"""Fields whose string literals are read as ISO-8601 instants."""

Scalar = str | int | float | bool | None


def is_number(value: object) -> bool:
    """A JSON number: ``bool`` is an ``int`` in Python but never a number in RQL."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class LikeToken:
    """One token of a like pattern: any run (``*``), one character (``?``) or a literal."""

    kind: Literal["any", "one", "char"]
    char: str = ""


def resolve(value: Value, field: str, now: datetime) -> Scalar:
    """Turn a parsed literal into the scalar compared against ``field``.

    ``time:now`` becomes the ISO text of ``now`` and ``time:now_epoch_millis`` its epoch
    milliseconds. A string compared with ``_created``/``_modified`` that parses as an
    ISO-8601 instant is rewritten to the stores' fixed-width form (naive means UTC), so
    that text order equals time order.
    """
    if value is Placeholder.NOW:
        return format_time(now)
    if value is Placeholder.NOW_EPOCH_MILLIS:
        return int(now.timestamp() * 1000)
    if isinstance(value, Placeholder):  # pragma: no cover - exhaustive above
        raise TypeError(value)
    if field in TIME_FIELDS and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return format_time(parsed)
    return value


def like_tokens(pattern: str) -> list[LikeToken]:
    """Split a like pattern; ``\\*``, ``\\?`` and ``\\\\`` are literal characters."""
    tokens: list[LikeToken] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*?\\":
            tokens.append(LikeToken("char", pattern[index + 1]))
            index += 2
            continue
        if char == "*":
            tokens.append(LikeToken("any"))
        elif char == "?":
            tokens.append(LikeToken("one"))
        else:
            tokens.append(LikeToken("char", char))
        index += 1
    return tokens


def like_to_regex(pattern: str, *, lower: bool = False) -> str:
    """An anchored regular expression equivalent to the pattern.

    ASCII punctuation is backslash-escaped, which both Python ``re`` and PostgreSQL's
    ARE read as the literal character; letters, digits and non-ASCII stay bare.
    """
    out = ["^"]
    for token in like_tokens(pattern):
        if token.kind == "any":
            out.append(".*")
        elif token.kind == "one":
            out.append(".")
        else:
            char = token.char.lower() if lower else token.char
            escape = char.isascii() and not char.isalnum()
            out.append("\\" + char if escape else char)
    out.append("$")
    return "".join(out)


def like_to_glob(pattern: str, *, lower: bool = False) -> str:
    """A SQLite GLOB pattern equivalent to the like pattern.

    GLOB is case sensitive and treats ``*``, ``?`` and ``[`` specially; literals among
    them are wrapped in a one-character class.
    """
    out: list[str] = []
    for token in like_tokens(pattern):
        if token.kind == "any":
            out.append("*")
        elif token.kind == "one":
            out.append("?")
        else:
            char = token.char.lower() if lower else token.char
            out.append(f"[{char}]" if char in "*?[" else char)
    return "".join(out)
