"""Conditional requests: entity tags and RQL conditions (Ditto basic-conditional-requests).

A thing's entity tag is ``"rev:<revision>"``; a sub-resource's is ``"hash:<digest>"`` of
its canonical JSON. ``If-Match`` is checked before ``If-None-Match``, and both before
the RQL ``condition`` (Ditto's order). On reads a matching ``If-None-Match`` answers
304; on writes it fails with 412.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from server.core.errors import (
    ConditionFailed,
    PreconditionFailed,
    PreconditionNotModified,
)
from server.core.rql.ast import Node
from server.core.rql.evaluate import matches

__all__ = ["Preconditions", "parse_etags", "thing_etag", "thing_revision", "value_etag"]


def thing_etag(revision: int) -> str:
    return f'"rev:{revision}"'


def thing_revision(tag: str) -> int | None:
    """The revision a `thing_etag` names (quoted, as `parse_etags` leaves it); None for
    any other tag."""
    found = _REVISION_TAG.fullmatch(tag)
    return int(found[1]) if found else None


_REVISION_TAG = re.compile(r'"rev:([0-9]+)"')


def value_etag(value: Any) -> str:
    digest = hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"hash:{digest[:32]}"'


def parse_etags(header: str | None) -> tuple[str, ...] | None:
    """Split an ``If-Match``-style list; weak tags compare by their opaque part."""
    if header is None:
        return None
    tags = []
    for raw in header.split(","):
        tag = raw.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag and tag != "*" and not tag.startswith('"'):
            tag = f'"{tag}"'  # be lenient with unquoted tags, as Ditto is
        if tag:
            tags.append(tag)
    return tuple(tags)


@dataclass(frozen=True, slots=True)
class Preconditions:
    """What a client asked to hold before its command runs."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None
    condition: Node | None = None

    @property
    def empty(self) -> bool:
        return self.if_match is None and self.if_none_match is None and self.condition is None

    def _match(self, tags: tuple[str, ...], current: str | None, thing: str | None = None) -> bool:
        if current is None:
            return False
        return "*" in tags or current in tags or (thing is not None and thing in tags)

    def check_write(self, current: str | None, thing: str | None = None) -> None:
        """``current`` is the addressed resource's tag, None when it does not exist.

        On a sub-resource, ``thing`` is the thing's ``"rev:n"`` tag: ndtwin also accepts
        it there, so a client can lock the whole thing while writing one part of it.
        """
        if self.if_match is not None and not self._match(self.if_match, current, thing):
            raise PreconditionFailed(
                f"The precondition 'If-Match: {', '.join(self.if_match)}' was not met "
                f"(the current entity tag is {current or 'absent'})."
            )
        if self.if_none_match is not None and self._match(self.if_none_match, current):
            raise PreconditionFailed(
                f"The precondition 'If-None-Match: {', '.join(self.if_none_match)}' was not "
                "met: the resource exists."
            )

    def check_read(self, current: str | None) -> None:
        if self.if_match is not None and not self._match(self.if_match, current):
            raise PreconditionFailed(
                f"The precondition 'If-Match: {', '.join(self.if_match)}' was not met."
            )
        if self.if_none_match is not None and self._match(self.if_none_match, current):
            raise PreconditionNotModified(
                f"The resource still matches {current}; it was not modified."
            )

    def check_condition(self, doc_with_meta: dict[str, Any] | None) -> None:
        if self.condition is None:
            return
        if doc_with_meta is None or not matches(self.condition, doc_with_meta):
            raise ConditionFailed()
