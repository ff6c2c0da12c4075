"""Typed, self-validating identifiers: tenants, things, features, relationships, pointers.

Every identifier is parsed once at the edge (a face or an adapter) and trusted inside the
core. The string-like ids subclass ``str`` so that they serialise, compare and bind as SQL
parameters like the plain text they are, while mypy keeps them apart from arbitrary strings.

The rules follow Eclipse Ditto's ``RegexPatterns`` (ditto-api notes §1.1):

- namespace: empty, or ``[a-zA-Z]\\w*`` segments joined by ``.`` or ``-`` (``\\w`` is ASCII,
  as in Java's default regex flags);
- entity name: one or more characters, none of them ``/`` nor in ``\\x00-\\x1F\\x7F-\\xFF``
  (so Latin-1 ``ä`` is rejected while ``€`` is allowed);
- a thing or policy id is ``namespace:name`` and at most 256 characters long;
- JSON keys and feature ids: non-empty, no ``/``, no character in ``\\x00-\\x1F\\x7F-\\xFF``;
  the feature id ``*`` is reserved for search wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

from server.core.errors import (
    FeatureIdInvalid,
    JsonKeyInvalid,
    JsonPointerInvalid,
    NamespaceInvalid,
    PolicyIdInvalid,
    RelationshipIdInvalid,
    TenantIdInvalid,
    ThingIdInvalid,
)

__all__ = [
    "MAX_ID_LENGTH",
    "FeatureId",
    "JsonPointer",
    "PolicyId",
    "RelationshipId",
    "TenantId",
    "ThingId",
    "validate_key",
    "validate_namespace",
]

MAX_ID_LENGTH = 256
"""Maximum length of a thing or policy id (Ditto ``ThingId`` limit)."""

_NAMESPACE = r"(?:[a-zA-Z]\w*(?:[.-][a-zA-Z]\w*)*)?"
_NAMESPACE_RE = re.compile(_NAMESPACE, re.ASCII)
_NAME_RE = re.compile(r"[^\x00-\x1F\x7F-\xFF/]+")
_KEY_RE = _NAME_RE
_ENTITY_ID_RE = re.compile(rf"({_NAMESPACE}):([^\x00-\x1F\x7F-\xFF/]+)", re.ASCII)
_TENANT_RE = re.compile(r"[a-z][a-z0-9-]{0,62}", re.ASCII)


def validate_namespace(namespace: str) -> str:
    """Return ``namespace`` unchanged or raise `NamespaceInvalid`."""
    if not isinstance(namespace, str) or _NAMESPACE_RE.fullmatch(namespace) is None:
        raise NamespaceInvalid(str(namespace))
    return namespace


def validate_key(key: str) -> str:
    """Return a JSON object key unchanged or raise `JsonKeyInvalid` (Ditto notes §1.1)."""
    if not isinstance(key, str) or _KEY_RE.fullmatch(key) is None:
        raise JsonKeyInvalid(str(key))
    return key


class _EntityId(str):
    """Base of ``namespace:name`` ids; subclasses set the error raised on bad input."""

    __slots__ = ()
    _error: type[ThingIdInvalid] | type[PolicyIdInvalid] = ThingIdInvalid

    def __new__(cls, value: str) -> Self:
        if (
            not isinstance(value, str)
            or len(value) > MAX_ID_LENGTH
            or _ENTITY_ID_RE.fullmatch(value) is None
        ):
            raise cls._error(str(value))
        return super().__new__(cls, value)

    @classmethod
    def of(cls, namespace: str, name: str) -> Self:
        """Build an id from its two parts, validating both."""
        return cls(f"{namespace}:{name}")

    @classmethod
    def trusted(cls, value: str) -> Self:
        """Wrap a value read back from a store, which only ever holds validated ids."""
        return str.__new__(cls, value)

    @property
    def namespace(self) -> str:
        """The part before the first ``:`` (may be empty)."""
        return self.partition(":")[0]

    @property
    def name(self) -> str:
        """The part after the first ``:``."""
        return self.partition(":")[2]


class ThingId(_EntityId):
    """A Ditto thing id ``namespace:name``; raises `ThingIdInvalid` on bad input."""

    __slots__ = ()
    _error = ThingIdInvalid


class PolicyId(_EntityId):
    """A Ditto policy id, same grammar as a thing id; raises `PolicyIdInvalid`."""

    __slots__ = ()
    _error = PolicyIdInvalid


class TenantId(str):
    """A tenant name: lowercase ``[a-z][a-z0-9-]{0,62}``; raises `TenantIdInvalid`."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str) or _TENANT_RE.fullmatch(value) is None:
            raise TenantIdInvalid(str(value))
        return super().__new__(cls, value)

    @classmethod
    def trusted(cls, value: str) -> Self:
        """Wrap a value read back from a store."""
        return str.__new__(cls, value)


class FeatureId(str):
    """A feature id: a valid JSON key other than ``*``; raises `FeatureIdInvalid`."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str) or value == "*" or _KEY_RE.fullmatch(value) is None:
            raise FeatureIdInvalid(str(value))
        return super().__new__(cls, value)


class RelationshipId(str):
    """A relationship id: key characters only, at most 256 of them.

    Raises `RelationshipIdInvalid`. Relationship ids share the Ditto entity-name alphabet
    (no ``/``, no control or Latin-1 characters) so they fit in URL paths unescaped.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if (
            not isinstance(value, str)
            or len(value) > MAX_ID_LENGTH
            or _KEY_RE.fullmatch(value) is None
        ):
            raise RelationshipIdInvalid(str(value))
        return super().__new__(cls, value)

    @classmethod
    def trusted(cls, value: str) -> Self:
        """Wrap a value read back from a store."""
        return str.__new__(cls, value)


_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class JsonPointer:
    """A JSON pointer into a thing, as Ditto uses them in paths, fields and RQL.

    Ditto keys may not contain ``/`` at all, so tokens carry no RFC 6901 ``~`` escaping.
    The leading ``/`` is optional; an empty token (``a//b``, a trailing ``/``) is an error
    (ditto-api notes §6: "a double slash is an error").
    """

    parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for part in self.parts:
            if not isinstance(part, str) or _KEY_RE.fullmatch(part) is None:
                raise JsonPointerInvalid("/" + "/".join(map(str, self.parts)))

    @classmethod
    def parse(cls, text: str) -> JsonPointer:
        """Parse ``/a/b`` or ``a/b``; ``""`` and ``"/"`` are the root pointer."""
        if not isinstance(text, str):
            raise JsonPointerInvalid(str(text))
        body = text[1:] if text.startswith("/") else text
        if body == "":
            return cls(())
        parts = tuple(body.split("/"))
        for part in parts:
            if _KEY_RE.fullmatch(part) is None:
                raise JsonPointerInvalid(text)
        return cls(parts)

    def __str__(self) -> str:
        return "/" + "/".join(self.parts)

    def __iter__(self) -> Iterator[str]:
        return iter(self.parts)

    def __len__(self) -> int:
        return len(self.parts)

    @property
    def is_root(self) -> bool:
        """True for the empty pointer."""
        return not self.parts

    @property
    def parent(self) -> JsonPointer:
        """The pointer one level up (the root's parent is the root)."""
        return JsonPointer(self.parts[:-1])

    @property
    def leaf(self) -> str | None:
        """The last token, or None for the root."""
        return self.parts[-1] if self.parts else None

    def child(self, *keys: str) -> JsonPointer:
        """Append keys (validated)."""
        return JsonPointer(self.parts + keys)

    def startswith(self, other: JsonPointer) -> bool:
        """True if ``other`` is this pointer or one of its ancestors."""
        return self.parts[: len(other.parts)] == other.parts

    def get(self, doc: Any, default: Any = _MISSING) -> Any:
        """Return the value at this pointer; raise `KeyError` when absent and no default.

        Array elements are addressed by decimal index, as in RFC 6901.
        """
        node = doc
        for part in self.parts:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                if default is _MISSING:
                    raise KeyError(str(self))
                return default
        return node
