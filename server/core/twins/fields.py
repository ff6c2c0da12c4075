"""Ditto field selectors (``?fields=``; httpapi-concepts "partial requests").

``thingId,attributes/complex(some,serialNo),features/*/properties/on`` selects
those parts and keeps their nesting. ``*`` matches any feature id. The
read-only ``_revision``, ``_created``, ``_modified`` and ``_namespace`` appear
only when selected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["META_FIELDS", "ROOTS", "FieldSelectionError", "FieldSelector"]

ROOTS = frozenset(
    {
        "thingId",
        "policyId",
        "definition",
        "attributes",
        "features",
        "_namespace",
        "_revision",
        "_created",
        "_modified",
        "_metadata",
        "_policy",
        "_context",
    }
)
META_FIELDS = frozenset({"_namespace", "_revision", "_created", "_modified"})


class FieldSelectionError(ValueError):
    """A ``fields`` value that is not a valid selector."""


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FieldSelectionError(f"Unbalanced ')' in fields '{text}'.")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise FieldSelectionError(f"Unbalanced '(' in fields '{text}'.")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _expand(selector: str) -> list[tuple[str, ...]]:
    """``a/b(c,d/e)`` → ``[(a,b,c), (a,b,d,e)]``."""
    selector = selector.strip().lstrip("/")
    if not selector:
        raise FieldSelectionError("Empty field selector.")
    if "(" not in selector:
        tokens = tuple(selector.split("/"))
        if any(t == "" for t in tokens):
            raise FieldSelectionError(f"Empty segment in field selector '{selector}'.")
        return [tokens]
    open_at = selector.index("(")
    if not selector.endswith(")"):
        raise FieldSelectionError(f"Text after ')' in field selector '{selector}'.")
    prefix = selector[:open_at].rstrip("/")
    inner = selector[open_at + 1 : -1]
    head = tuple(prefix.split("/")) if prefix else ()
    if any(t == "" for t in head):
        raise FieldSelectionError(f"Empty segment in field selector '{selector}'.")
    return [head + tail for part in _split_top(inner) for tail in _expand(part)]


@dataclass(frozen=True)
class FieldSelector:
    """A parsed ``fields`` parameter: a set of key paths (``*`` matches any key)."""

    paths: tuple[tuple[str, ...], ...]

    @classmethod
    def parse(cls, text: str, roots: frozenset[str] | None = ROOTS) -> FieldSelector:
        paths: list[tuple[str, ...]] = []
        for part in _split_top(text):
            for path in _expand(part):
                if roots is not None and path[0] not in roots:
                    raise FieldSelectionError(
                        f"The field selector '{part}' does not start with a field of a thing."
                    )
                paths.append(path)
        return cls(tuple(paths))

    def wants(self, root: str) -> bool:
        return any(p[0] == root for p in self.paths)

    def apply(self, value: dict[str, Any]) -> dict[str, Any]:
        """Keep only the selected parts of ``value``, preserving their nesting."""
        out: dict[str, Any] = {}
        for path in self.paths:
            _copy_path(value, out, path)
        return out


def _copy_path(src: Any, dst: dict[str, Any], path: tuple[str, ...]) -> None:
    if not isinstance(src, dict) or not path:
        return
    head, rest = path[0], path[1:]
    keys = list(src) if head == "*" else ([head] if head in src else [])
    for key in keys:
        if not rest:
            dst[key] = src[key]
            continue
        if not isinstance(src[key], dict):
            continue
        child = dst.setdefault(key, {})
        if isinstance(child, dict):
            _copy_path(src[key], child, rest)
            if not child:
                dst.pop(key)
