"""Ditto JSON in and out: body parsing with media-type and size checks, JSON responses.

Bodies are read with a hard byte limit (Ditto refuses things over 100 kB, notes §1.1)
before any parsing, so an oversized request costs no more than the limit. Media types
follow Ditto (notes §1.2): PUT and POST take ``application/json`` (``application/
octet-stream`` is tolerated, as in Ditto), PATCH takes ``application/merge-patch+json``
(RFC 7396 §4). A missing ``Content-Type`` is read as JSON; a wrong one is a 415.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.core import errors
from server.rest.errors import MediaTypeUnsupported, RequestTooLarge

__all__ = [
    "JSON",
    "JSON_TYPES",
    "MERGE_PATCH",
    "MERGE_PATCH_TYPES",
    "dumps",
    "json_response",
    "media_type",
    "read_body",
    "read_json",
]

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_TYPES: tuple[str, ...] = (JSON, "application/octet-stream")
MERGE_PATCH_TYPES: tuple[str, ...] = (MERGE_PATCH,)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; non-string keys and numpy scalars are not expected here."""
    return orjson.dumps(value)


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response of ``value`` (orjson: the hot read path renders nothing else)."""
    return Response(orjson.dumps(value), status_code=status, media_type=JSON, headers=headers)


def media_type(header: str | None) -> str | None:
    """The bare, lower-cased media type of a ``Content-Type`` value (parameters dropped)."""
    if not header:
        return None
    return header.split(";", 1)[0].strip().lower() or None


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes (413) without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int, allowed: tuple[str, ...] = JSON_TYPES) -> Any:
    """Check the media type, read at most ``limit`` bytes and parse one JSON value."""
    given = media_type(request.headers.get("content-type"))
    if given is not None and given not in allowed:
        raise MediaTypeUnsupported(given, allowed)
    body = await read_body(request, limit)
    return parse_json(body)


def parse_json(body: bytes | str) -> Any:
    """Parse JSON text or raise Ditto's ``json.format.invalid`` (400)."""
    if not body or not body.strip():
        raise errors.JsonFormatInvalid("The request body is empty; a JSON value is required.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.JsonFormatInvalid(f"The request body is not valid JSON: {exc}") from exc
