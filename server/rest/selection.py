"""Reads with ``fields`` on any resource of a thing (httpapi-concepts "partial requests").

On the thing itself the selector's first keys must be thing fields; on a sub-resource
(``/attributes?fields=location``) they are keys of that resource. This module holds the
syntax the OpenAPI document publishes; the core applies the selector.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from server.core import errors
from server.core.context import Caller
from server.core.preconditions import Preconditions
from server.core.service import Core

__all__ = ["KEY_FIELDS_PATTERN", "THING_FIELDS_PATTERN", "check_fields", "retrieve"]

# The accepted ``fields`` syntax, also published in the OpenAPI document: comma-separated
# JSON pointers, each optionally followed by one parenthesised list of sub-pointers
# (``attributes/loc(x,y)``). Tokens are Ditto keys (no '/', no \x00-\x1F\x7F-\xFF) without
# parentheses, commas or surrounding white space.
_CHAR = r"[^\x00-\x1F\x7F-\xFF/(),]"
_EDGE = r"[^\x00-\x1F\x7F-\xFF/(),\s]"
_TOKEN = rf"{_EDGE}({_CHAR}*{_EDGE})?"
_ROOT = (
    "(thingId|policyId|definition|attributes|features|_namespace|_revision|_created|"
    "_modified|_metadata|_policy|_context)"
)


def _fields(first: str) -> str:
    path = f"{first}(/{_TOKEN})*"
    inner = f"{_TOKEN}(/{_TOKEN})*"
    part = rf"{path}(\({inner}(,{inner})*\))?"
    return f"^({part}(,{part})*)?$"


#: ``fields`` of a thing: the first key of each pointer is a thing field.
THING_FIELDS_PATTERN = _fields(_ROOT)
#: ``fields`` of a sub-resource: pointers into it.
KEY_FIELDS_PATTERN = _fields(_TOKEN)
_THING_FIELDS = re.compile(THING_FIELDS_PATTERN)
_KEY_FIELDS = re.compile(KEY_FIELDS_PATTERN)


def check_fields(fields: str | None, at_root: bool = True) -> str | None:
    """``fields`` if it follows the published syntax (None when empty), else 400."""
    if not fields:
        return None
    pattern = _THING_FIELDS if at_root else _KEY_FIELDS
    if pattern.fullmatch(fields) is None:
        raise errors.FieldSelectionInvalid(
            f"The field selector '{fields}' is not a comma-separated list of JSON pointers "
            + ("starting with a thing field." if at_root else "into this resource.")
        )
    return fields


def retrieve(
    core: Core,
    caller: Caller,
    thing_id: str,
    path: str,
    fields: str | None,
    pre: Preconditions | None = None,
    at_revision: int | None = None,
    at_time: datetime | None = None,
) -> tuple[Any, str]:
    """The value at ``path`` with ``fields`` applied, and its entity tag (synchronous).

    The syntax check is the face's published one; selecting is the core's.
    """
    fields = check_fields(fields, path in ("", "/"))
    return core.twins.retrieve(caller, thing_id, path, fields, pre, at_revision, at_time)
