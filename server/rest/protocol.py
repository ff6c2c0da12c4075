"""Ditto Protocol envelopes and partial things: the wire shapes of change streams.

* `partial_thing` turns a core `ChangeEvent` into the partial Thing JSON Ditto's SSE
  stream sends (httpapi-sse, notes §1.7): ``{"thingId": ..., <the changed value nested
  at its path>}``. A deleted part appears as ``null`` at its path (merge-patch reading).
* `event_envelope` turns it into a Ditto Protocol event ``{ns}/{name}/things/twin/events/
  {action}`` with ``path``, ``value``, ``revision`` and ``timestamp`` (protocol-
  specification, notes §1.8).
* `Command` parses a command envelope ``{ns}/{name}/things/twin/commands/{action}`` and
  `execute` runs it on the core, returning the response envelope; failures become
  ``{ns}/{name}/things/twin/errors`` envelopes carrying Ditto's error JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.core import errors
from server.core.context import Caller
from server.core.preconditions import Preconditions
from server.core.rql.evaluate import matches
from server.core.rql.parser import parse_filter
from server.core.service import Core
from server.core.stores.records import ChangeEvent, format_time
from server.rest.codec import JSON, MERGE_PATCH
from server.rest.headers import DittoHeaders
from server.rest.selection import retrieve

__all__ = [
    "PROTOCOL_MEDIA_TYPE",
    "Command",
    "EventFilter",
    "context_of",
    "error_envelope",
    "event_envelope",
    "execute",
    "partial_thing",
    "split_pointer",
    "topic_of",
]

#: Content type of Ditto Protocol messages (protocol-specification).
PROTOCOL_MEDIA_TYPE = "application/vnd.eclipse.ditto+json"

_ACTIONS = ("create", "retrieve", "modify", "merge", "delete")


def split_pointer(path: str) -> list[str]:
    """``/a/b`` → ``["a", "b"]``; ``/`` → ``[]``."""
    return [p for p in path.split("/") if p]


def topic_of(thing_id: str, criterion: str, action: str | None = None) -> str:
    """``{namespace}/{name}/things/twin/{criterion}[/{action}]``."""
    namespace, _, name = thing_id.partition(":")
    topic = f"{namespace}/{name}/things/twin/{criterion}"
    return f"{topic}/{action}" if action else topic


def partial_thing(event: ChangeEvent) -> dict[str, Any]:
    """The partial thing of a twin event (the SSE ``data`` of Ditto's change stream)."""
    parts = split_pointer(event.path)
    if not parts:
        if isinstance(event.value, dict):
            return {**event.value, "thingId": event.entity_id}
        return {"thingId": event.entity_id}
    root: dict[str, Any] = {"thingId": event.entity_id}
    node = root
    for key in parts[:-1]:
        child: dict[str, Any] = {}
        node[key] = child
        node = child
    node[parts[-1]] = event.value
    return root


def context_of(event: ChangeEvent) -> dict[str, Any]:
    """The ``_context`` field of an SSE event: what kind of change it was (notes §1.7)."""
    out: dict[str, Any] = {
        "topic": topic_of(event.entity_id, "events", event.action),
        "path": event.path,
        "headers": {"content-type": MERGE_PATCH if event.action == "merged" else JSON},
    }
    if event.action != "deleted":
        out["value"] = event.value
    return out


def event_envelope(event: ChangeEvent) -> dict[str, Any]:
    """A Ditto Protocol event for a twin event (``.../things/twin/events/<action>``)."""
    out: dict[str, Any] = {
        "topic": topic_of(event.entity_id, "events", event.action),
        "headers": {"content-type": MERGE_PATCH if event.action == "merged" else JSON},
        "path": event.path,
    }
    if event.action != "deleted":
        out["value"] = event.value
    out["revision"] = event.revision
    out["timestamp"] = format_time(event.timestamp)
    return out


def error_envelope(
    error: errors.NdtError, thing_id: str | None, correlation_id: str | None
) -> dict[str, Any]:
    """An ``errors`` envelope; ``_/_`` stands for an unknown thing, as in Ditto."""
    topic = topic_of(thing_id, "errors") if thing_id else "_/_/things/twin/errors"
    headers: dict[str, Any] = {"content-type": JSON}
    if correlation_id:
        headers["correlation-id"] = correlation_id
    return {
        "topic": topic,
        "headers": headers,
        "path": "/",
        "value": error.to_dict(),
        "status": error.status,
    }


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What a stream subscriber wants: namespaces, an RQL filter, ids and a sub-path."""

    namespaces: frozenset[str] | None = None
    filter: Any = None
    thing_ids: frozenset[str] | None = None

    @classmethod
    def parse(
        cls, namespaces: str | None, filter: str | None, thing_ids: list[str] | None = None
    ) -> EventFilter:
        """Build a filter from ``namespaces=a,b``, an RQL ``filter`` and thing ids."""
        spaces = (
            frozenset(n.strip() for n in namespaces.split(",") if n.strip()) if namespaces else None
        )
        node = parse_filter(filter) if filter else None
        return cls(spaces or None, node, frozenset(thing_ids) if thing_ids else None)

    def accepts(self, event: ChangeEvent, partial: dict[str, Any]) -> bool:
        """Whether a twin event passes; the filter sees the partial thing (Ditto)."""
        if event.kind != "twin":
            return False
        if self.thing_ids is not None and event.entity_id not in self.thing_ids:
            return False
        if self.namespaces is not None and event.entity_id.partition(":")[0] not in self.namespaces:
            return False
        if self.filter is not None:
            view = {
                **partial,
                "_revision": event.revision,
                "_modified": format_time(event.timestamp),
            }
            return matches(self.filter, view)
        return True


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed Ditto Protocol thing command."""

    thing_id: str
    action: str
    path: str
    value: Any
    headers: dict[str, str]
    fields: str | None
    has_value: bool

    @classmethod
    def parse(cls, envelope: Any) -> Command:
        """Parse a command envelope; 400 ``json.format.invalid`` when it is not one."""
        if not isinstance(envelope, dict) or not isinstance(envelope.get("topic"), str):
            raise errors.JsonFormatInvalid(
                "A Ditto Protocol message is a JSON object with a 'topic'."
            )
        parts = envelope["topic"].split("/")
        if len(parts) != 6 or parts[2:5] != ["things", "twin", "commands"]:
            raise errors.JsonFormatInvalid(
                f"The topic '{envelope['topic']}' is not a twin thing command "
                "('{namespace}/{name}/things/twin/commands/{action}')."
            )
        if parts[5] not in _ACTIONS:
            raise errors.JsonFormatInvalid(
                f"The command '{parts[5]}' is not one of {', '.join(_ACTIONS)}."
            )
        raw_headers = envelope.get("headers")
        raw_headers = {} if raw_headers is None else raw_headers
        if not isinstance(raw_headers, dict):
            raise errors.JsonFormatInvalid("'headers' must be a JSON object.")
        headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
        path = envelope.get("path", "/")
        if not isinstance(path, str):
            raise errors.JsonFormatInvalid("'path' must be a string.")
        fields = envelope.get("fields") or headers.get("fields")
        return cls(
            f"{parts[0]}:{parts[1]}",
            parts[5],
            path or "/",
            envelope.get("value"),
            headers,
            fields if isinstance(fields, str) else None,
            "value" in envelope,
        )


def _response(
    cmd: Command, status: int, value: Any = None, *, with_value: bool = False
) -> dict[str, Any]:
    headers: dict[str, Any] = {"content-type": JSON}
    if "correlation-id" in cmd.headers:
        headers["correlation-id"] = cmd.headers["correlation-id"]
    out: dict[str, Any] = {
        "topic": topic_of(cmd.thing_id, "commands", cmd.action),
        "headers": headers,
        "path": cmd.path,
    }
    if with_value:
        out["value"] = value
    out["status"] = status
    return out


def execute(core: Core, caller: Caller, cmd: Command) -> dict[str, Any] | None:
    """Run one command on the core (synchronously; call from a thread).

    Returns the response envelope, or None when the command said
    ``response-required: false``. Core errors propagate; the caller renders them with
    `error_envelope`.
    """
    view = DittoHeaders(cmd.headers, {})
    pre = view.preconditions()
    # Read before acting: a bad header value must not leave a write behind.
    required, skip = view.response_required, view.if_equal_skip
    twins = core.twins
    if cmd.action == "retrieve":
        value, _ = retrieve(core, caller, cmd.thing_id, cmd.path, cmd.fields, pre)
        response: dict[str, Any] | None = _response(cmd, 200, value, with_value=True)
    elif cmd.action in ("create", "modify", "merge"):
        if not cmd.has_value:
            raise errors.JsonFormatInvalid(f"A '{cmd.action}' command needs a 'value'.")
        if cmd.action == "create":
            if cmd.path not in ("", "/"):
                raise errors.JsonFormatInvalid("'create' addresses the thing itself (path /).")
            pre = Preconditions(pre.if_match, ("*",), pre.condition)
            try:
                result = twins.put(caller, cmd.thing_id, "/", cmd.value, pre)
            except errors.PreconditionFailed as exc:
                raise errors.ThingConflict(cmd.thing_id) from exc
        elif cmd.action == "modify":
            result = twins.put(caller, cmd.thing_id, cmd.path, cmd.value, pre)
        else:
            result = twins.merge(caller, cmd.thing_id, cmd.path, cmd.value, pre)
        if skip and result.event is None and not result.created:
            raise errors.PreconditionFailed("The value is unchanged and 'if-equal' is 'skip'.")
        response = (
            _response(cmd, 201, result.value, with_value=True)
            if result.created
            else _response(cmd, 204)
        )
    else:
        twins.delete(caller, cmd.thing_id, cmd.path, pre)
        response = _response(cmd, 204)
    return response if required else None
