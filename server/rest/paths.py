"""Thing URLs of the Ditto API: ``/api/2/things/{thingId}[/{resource path}]``.

The path is split on ``/`` *before* percent-decoding (from the raw request path), so a
thing id keeps an encoded ``%2F`` as part of itself (and is then refused as invalid)
while the resource path below it is decoded segment by segment; an encoded ``%2F`` inside
an attribute or property pointer separates keys, as Ditto decodes it (notes §3, §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from starlette.requests import HTTPConnection

from server.core import errors
from server.rest.errors import NotImplementedYet, ResourceNotFound

__all__ = ["THINGS", "ThingTarget", "parse_target", "thing_url"]

THINGS = "/api/2/things"

_FEATURE_PARTS = frozenset({"definition", "properties", "desiredProperties"})


@dataclass(frozen=True, slots=True)
class ThingTarget:
    """The thing id and the resource path inside it (``/`` for the thing itself)."""

    thing_id: str
    segments: tuple[str, ...]

    @property
    def path(self) -> str:
        """The resource path as the core takes it (``/`` for the thing)."""
        return "/" + "/".join(self.segments)

    @property
    def is_thing(self) -> bool:
        """Whether the URL names the thing itself."""
        return not self.segments

    @property
    def is_policy_id(self) -> bool:
        """Whether the URL names the thing's ``policyId``."""
        return self.segments == ("policyId",)

    @property
    def feature_id(self) -> str | None:
        """The feature id when the path is exactly ``/features/{id}``."""
        if len(self.segments) == 2 and self.segments[0] == "features":
            return self.segments[1]
        return None


def _raw_path(conn: HTTPConnection) -> str:
    raw = conn.scope.get("raw_path")
    if isinstance(raw, bytes | bytearray):
        return raw.decode("latin-1").split("?", 1)[0]
    return quote(conn.scope["path"])


def parse_target(conn: HTTPConnection) -> ThingTarget:
    """Parse the request path; 404 for unknown sub-resources, 501 for messages."""
    raw = _raw_path(conn)
    prefix = THINGS + "/"
    if not raw.startswith(prefix):
        raise ResourceNotFound(conn.url.path)
    head, _, rest = raw[len(prefix) :].partition("/")
    try:
        thing_id = unquote(head, errors="strict")
    except UnicodeDecodeError as exc:
        raise errors.ThingIdInvalid(head) from exc
    segments: tuple[str, ...] = ()
    if rest:
        try:
            decoded = "/".join(unquote(part, errors="strict") for part in rest.split("/"))
        except UnicodeDecodeError as exc:
            raise errors.JsonPointerInvalid(rest) from exc
        # A trailing slash addresses the same resource; inner empty segments stay so
        # the core refuses them as an invalid pointer (Ditto: a double slash is an error).
        segments = tuple(decoded.rstrip("/").split("/")) if decoded.rstrip("/") else ()
    _check_shape(conn, segments)
    return ThingTarget(thing_id, segments)


def _check_shape(conn: HTTPConnection, segments: tuple[str, ...]) -> None:
    if not segments:
        return
    head = segments[0]
    if head in ("inbox", "outbox"):
        raise NotImplementedYet("Ditto's message API")
    if head == "migrateDefinition":
        raise NotImplementedYet("migrateDefinition")
    if head in ("policyId", "definition") and len(segments) == 1:
        return
    if head == "attributes":
        return
    if head == "features":
        if len(segments) <= 2:
            return
        part = segments[2]
        if part in _FEATURE_PARTS and (part != "definition" or len(segments) == 3):
            return
    raise ResourceNotFound(conn.url.path)


def thing_url(conn: HTTPConnection, thing_id: str) -> str:
    """The absolute URL of a thing (``Location`` header, TD ``base``)."""
    base = str(conn.base_url).rstrip("/")
    return f"{base}{THINGS}/{quote(thing_id, safe=':')}"
