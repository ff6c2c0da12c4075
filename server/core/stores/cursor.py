"""Opaque keyset cursors bound to the query that produced them.

A cursor carries a fingerprint of (tenant, filter, sort, namespaces, store dialect) and the
sort-key values of the last row returned. Presenting it with another query - including
another tenant's - raises `SearchOptionInvalid` (ditto-api notes §1.6: "filter and sort
must match").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

from server.core.errors import SearchOptionInvalid

__all__ = ["decode_cursor", "encode_cursor", "fingerprint"]


def fingerprint(*parts: str) -> str:
    """A short digest of the query's identifying parts."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def encode_cursor(query: str, values: Sequence[Any]) -> str:
    """The cursor string for the row whose sort values are ``values``."""
    payload = orjson.dumps({"q": query, "v": list(values)})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, query: str, count: int) -> list[Any]:
    """The sort values inside ``cursor``; raise `SearchOptionInvalid` if it does not fit."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise SearchOptionInvalid("The cursor is not valid.") from None
    if (
        not isinstance(payload, dict)
        or payload.get("q") != query
        or not isinstance(payload.get("v"), list)
        or len(payload["v"]) != count
        or not all(isinstance(v, str | int | float) for v in payload["v"])
    ):
        raise SearchOptionInvalid(
            "The cursor does not belong to this search (filter, sort and namespaces must "
            "be those it was returned for)."
        )
    return list(payload["v"])
