"""Shape checks of write bodies that must come before any precondition is evaluated.

A malformed request is a 400 whatever the state of the resource (RFC 9110 §13.2.1: a
server evaluates preconditions only for a request it would otherwise perform). The core
checks shapes while deciding a write, after the preconditions; for a conditional write
the face checks the shape first with the core's own document rules, so the answer is the
400 and not a 412.
"""

from __future__ import annotations

from typing import Any

from server.core import errors
from server.core.ids import PolicyId
from server.core.twins import document as docs
from server.rest.paths import ThingTarget

__all__ = ["check_merge_body", "check_policy_id", "check_put_body"]


def check_put_body(target: ThingTarget, body: Any) -> None:
    """Raise 400 unless ``body`` may be PUT at ``target`` (rules of `document`)."""
    try:
        _check_put(target.segments, body)
    except docs.DocumentError as exc:
        raise errors.JsonFormatInvalid(f"{exc} (at '{exc.path}')") from exc


def check_policy_id(target: ThingTarget, body: Any) -> None:
    """Refuse a ``policyId`` that is not a namespaced id (Ditto ``policies:id.invalid``).

    The core only checks that a policy id is a string; Ditto also checks its form.
    """
    value: Any
    if target.is_policy_id:
        if not isinstance(body, str):
            raise errors.JsonFormatInvalid("'policyId' must be a string.")
        value = body
    elif target.is_thing and isinstance(body, dict):
        value = body.get("policyId")
    else:
        return
    if isinstance(value, str):
        PolicyId(value)


def check_merge_body(target: ThingTarget, body: Any) -> None:
    """Raise 400 unless ``body`` is a merge patch that can apply at ``target``.

    ``null`` deletes (RFC 7396 §2), so what remains after dropping the nulls must be
    valid content for the resource; a thing itself is patched with an object only.
    """
    if target.is_thing and not isinstance(body, dict):
        raise errors.JsonFormatInvalid("A merge patch of a thing must be a JSON object.")
    if body is None:
        return
    check_put_body(target, _strip_nulls(body))


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def _check_put(segments: tuple[str, ...], body: Any) -> None:
    if not segments:
        if not isinstance(body, dict):
            raise docs.DocumentError("A thing must be a JSON object.")
        docs.check_document({k: v for k, v in body.items() if k != "thingId"})
        return
    head = segments[0]
    if head == "policyId":
        if not isinstance(body, str):
            raise docs.DocumentError("'policyId' must be a string.", "/policyId")
    elif head == "definition":
        docs.check_definition(body)
    elif head == "attributes":
        wrapped = body if len(segments) == 1 else {"_": body}
        docs.check_document({"attributes": wrapped})
    elif len(segments) == 1:
        docs.check_document({"features": body})
    elif len(segments) == 2:
        docs.check_feature(segments[1], body)
    elif segments[2] == "definition":
        docs.check_feature_definition(body, "/" + "/".join(segments))
    else:
        wrapped = body if len(segments) == 3 else {"_": body}
        docs.check_feature(segments[1], {segments[2]: wrapped})
