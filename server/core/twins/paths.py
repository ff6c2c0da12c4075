"""Resource paths inside a twin, as in the Ditto Protocol (``/features/f/properties/x``).

Every face turns its own addressing (a REST URL, a gRPC field mask, an MQTT
topic) into one :class:`ResourcePath`; the core never sees raw URLs.
Rules follow Ditto (basic-thing, basic-feature): keys and feature ids are
non-empty, contain no ``/`` and no character in ``\\x00-\\x1F\\x7F-\\xFF``;
the feature id ``*`` is reserved; a double slash is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache

__all__ = ["Area", "InvalidPath", "ResourcePath", "check_key"]

_BAD_KEY = re.compile(r"[\x00-\x1f\x7f-\xff/]")


class InvalidPath(ValueError):
    """A path or key that breaks Ditto's rules; ``kind`` says which part."""

    def __init__(self, message: str, kind: str = "path") -> None:
        super().__init__(message)
        self.kind = kind


class Area(Enum):
    """The top-level member of a thing a path points into."""

    THING = "thing"
    THING_ID = "thingId"
    POLICY_ID = "policyId"
    DEFINITION = "definition"
    ATTRIBUTES = "attributes"
    FEATURES = "features"
    FEATURE = "feature"
    FEATURE_DEFINITION = "featureDefinition"
    PROPERTIES = "properties"
    DESIRED = "desiredProperties"


def check_key(key: str, what: str = "key") -> str:
    if key == "":
        raise InvalidPath(f"The {what} must not be empty.", what)
    if _BAD_KEY.search(key):
        raise InvalidPath(f"The {what} '{key}' contains a '/' or a forbidden character.", what)
    return key


@dataclass(frozen=True)
class ResourcePath:
    """A parsed path: its area, feature id (if any) and the pointer tokens below it."""

    area: Area
    feature: str | None = None
    tokens: tuple[str, ...] = ()

    @classmethod
    def parse(cls, path: str) -> ResourcePath:
        """Parse ``/``, ``/attributes/a/b``, ``/features/f/properties/p`` ...

        Paths repeat (every write of a property names the same one), so parses are
        cached; a `ResourcePath` is immutable.
        """
        return _parse(path) if cls is ResourcePath else cls._parse(path)

    @classmethod
    def _parse(cls, path: str) -> ResourcePath:
        if path in ("", "/"):
            return cls(Area.THING)
        if not path.startswith("/"):
            path = "/" + path
        raw = path[1:].split("/")
        if path.endswith("/") and len(raw) > 1:
            raw = raw[:-1]
        if any(part == "" for part in raw):
            raise InvalidPath(f"The path '{path}' contains an empty segment (double slash).")
        head, rest = raw[0], raw[1:]
        simple = {
            "thingId": Area.THING_ID,
            "policyId": Area.POLICY_ID,
            "definition": Area.DEFINITION,
        }
        if head in simple:
            if rest:
                raise InvalidPath(f"The path '{path}' has segments after '{head}'.")
            return cls(simple[head])
        if head == "attributes":
            return cls(Area.ATTRIBUTES, None, tuple(check_key(t, "attribute key") for t in rest))
        if head != "features":
            raise InvalidPath(f"The path '{path}' does not address a part of a thing.")
        if not rest:
            return cls(Area.FEATURES)
        feature = check_key(rest[0], "feature id")
        if feature == "*":
            raise InvalidPath("The feature id '*' is reserved.", "feature id")
        sub = rest[1:]
        if not sub:
            return cls(Area.FEATURE, feature)
        areas = {
            "definition": Area.FEATURE_DEFINITION,
            "properties": Area.PROPERTIES,
            "desiredProperties": Area.DESIRED,
        }
        if sub[0] not in areas:
            raise InvalidPath(f"The path '{path}' does not address a part of a feature.")
        if sub[0] == "definition" and len(sub) > 1:
            raise InvalidPath(f"The path '{path}' has segments after 'definition'.")
        return cls(areas[sub[0]], feature, tuple(check_key(t, "property key") for t in sub[1:]))

    def __str__(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        return "/" + "/".join(self.segments())

    def segments(self) -> list[str]:
        """The path as JSON keys from the thing's root (``["features","f","properties","x"]``)."""
        match self.area:
            case Area.THING:
                return []
            case Area.THING_ID | Area.POLICY_ID | Area.DEFINITION:
                return [self.area.value]
            case Area.ATTRIBUTES:
                return ["attributes", *self.tokens]
            case Area.FEATURES:
                return ["features"]
            case Area.FEATURE:
                return ["features", str(self.feature)]
            case Area.FEATURE_DEFINITION:
                return ["features", str(self.feature), "definition"]
            case Area.PROPERTIES | Area.DESIRED:
                return ["features", str(self.feature), self.area.value, *self.tokens]
        raise AssertionError(self.area)


@lru_cache(maxsize=4096)
def _parse(path: str) -> ResourcePath:
    return ResourcePath._parse(path)
