"""Reads with ``fields`` on any resource of a thing (httpapi-concepts "partial requests").

On the thing itself the selector's first keys must be thing fields; on a sub-resource
(``/attributes?fields=location``) they are keys of that resource. The core's ``retrieve``
checks every selector against the thing's roots, so sub-resource selectors are applied
here instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.core import errors
from server.core.context import Caller
from server.core.preconditions import Preconditions
from server.core.service import Core
from server.core.twins.fields import FieldSelectionError, FieldSelector

__all__ = ["retrieve"]


def retrieve(core: Core, caller: Caller, thing_id: str, path: str, fields: str | None,
             pre: Preconditions | None = None, at_revision: int | None = None,
             at_time: datetime | None = None) -> tuple[Any, str]:
    """The value at ``path`` with ``fields`` applied, and its entity tag (synchronous)."""
    at_root = path in ("", "/")
    if not fields or at_root:
        return core.twins.retrieve(caller, thing_id, path, fields or None, pre,
                                   at_revision, at_time)
    try:
        selector = FieldSelector.parse(fields, roots=None)
    except FieldSelectionError as exc:
        raise errors.FieldSelectionInvalid(str(exc)) from exc
    value, etag = core.twins.retrieve(caller, thing_id, path, None, pre, at_revision, at_time)
    if isinstance(value, dict):
        value = selector.apply(value)
    return value, etag
