"""Conversions between records and the column values both SQL stores write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from server.core.errors import InternalError, SearchNamespacesInvalid, SearchOptionInvalid
from server.core.ids import validate_namespace
from server.core.rql.parser import MAX_SIZE

__all__ = [
    "check_namespaces",
    "check_size",
    "check_tenant",
    "dump_json",
    "from_micros",
    "history_number",
    "load_json",
    "parse_time",
    "path_bounds",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dump_json(value: Any) -> str:
    """Compact JSON text (orjson; non-ASCII kept as UTF-8)."""
    return orjson.dumps(value).decode()


def load_json(text: str | bytes | None) -> Any:
    """Parse JSON text; None stays None."""
    return None if text is None else orjson.loads(text)


def parse_time(text: str) -> datetime:
    """Read back a `format_time` value."""
    return datetime.fromisoformat(text)


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch (exact, no float rounding)."""
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Inverse of `to_micros`."""
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)


def history_number(value: Any) -> float | None:
    """The numeric reading of a history value for min/max/mean (booleans are not numbers)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def path_bounds(path: str) -> tuple[str, str, str]:
    """``(path, lo, hi)``: a history path equals ``path`` or lies in ``[lo, hi)`` below it.

    ``"0"`` is the character after ``"/"``, so ``[p + "/", p + "0")`` holds exactly the
    descendants under binary (code point) collation.
    """
    path = path.rstrip("/")
    return path, path + "/", path + "0"


def check_size(size: int) -> None:
    """Raise `SearchOptionInvalid` unless ``1 <= size <= 200``."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise SearchOptionInvalid(f"size({size}) is not within 1..{MAX_SIZE}.")


def check_namespaces(namespaces: Sequence[str] | None) -> list[str] | None:
    """Validate a namespaces restriction; raise `SearchNamespacesInvalid` on a bad entry."""
    if namespaces is None:
        return None
    out = []
    for namespace in namespaces:
        try:
            out.append(validate_namespace(namespace))
        except Exception:
            raise SearchNamespacesInvalid(f"The namespace '{namespace}' is not valid.") from None
    return out


def check_tenant(expected: str, actual: str, what: str) -> None:
    """Guard against a record of another tenant slipping into a batch."""
    if expected != actual:
        raise InternalError(f"{what} of tenant '{actual}' in a batch for tenant '{expected}'")
