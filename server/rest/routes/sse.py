"""Server-sent change streams (Ditto httpapi-sse, notes §1.7; WHATWG HTML §9.2).

``GET /api/2/things`` and ``GET /api/2/things/{id}[/{path}]`` with ``Accept:
text/event-stream`` stream every later change as one event: ``data:`` is the partial
thing (or, on a sub-path, the changed value relative to that path), ``id:`` the core's
event ``seq``. A client that reconnects with ``Last-Event-ID`` resumes right after it and
misses nothing the event log still holds. Parameters as in Ditto: ``ids``,
``namespaces``, ``filter`` (RQL over the partial thing plus ``extraFields``), ``fields``
(``_context`` adds ``{topic, path, value, headers}``; an event whose selection is empty is
not sent) and ``extraFields`` (fields of the current thing added to each event). After
``sse_heartbeat_s`` idle seconds the stream sends a comment line as a heartbeat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.core import errors
from server.core.context import Caller
from server.core.ids import ThingId
from server.core.stores.records import ChangeEvent, format_time
from server.core.twins.fields import FieldSelectionError, FieldSelector
from server.core.writes import record_view
from server.rest.codec import dumps
from server.rest.context import call, rest_state
from server.rest.paths import ThingTarget
from server.rest.protocol import EventFilter, context_of, partial_thing, split_pointer
from server.rest.selection import check_fields

__all__ = ["HEARTBEAT", "last_event_id", "thing_stream", "things_stream"]

#: An SSE comment: ignored by every EventSource, but keeps proxies and clients awake.
HEARTBEAT = b":heartbeat\n\n"

Render = Callable[[ChangeEvent], Awaitable[Any]]
_SKIP = object()


def last_event_id(request: Request) -> int | None:
    """The ``seq`` to resume after, from ``Last-Event-ID`` (WHATWG HTML §9.2.4)."""
    raw = request.headers.get("last-event-id")
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit():
        raise errors.BadRequest(f"Last-Event-ID '{raw}' is not an event id of this server.")
    return int(raw.strip())


def _selector(fields: str | None, at_root: bool) -> FieldSelector | None:
    fields = check_fields(fields, at_root)
    if not fields:
        return None
    try:
        return FieldSelector.parse(fields) if at_root else FieldSelector.parse(fields, roots=None)
    except FieldSelectionError as exc:
        raise errors.FieldSelectionInvalid(str(exc)) from exc


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _with_meta(event: ChangeEvent, data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "_revision": event.revision,
        "_modified": format_time(event.timestamp),
        "_namespace": event.entity_id.partition(":")[0],
        "_context": context_of(event),
    }


async def things_stream(request: Request, caller: Caller) -> Response:
    """The change stream of all the caller's things (``GET /api/2/things``)."""
    query = request.query_params
    ids = [i for i in query.get("ids", "").split(",") if i] or None
    event_filter = EventFilter.parse(query.get("namespaces"), query.get("filter"), ids)
    selector = _selector(query.get("fields"), at_root=True)
    extra = _selector(query.get("extraFields"), at_root=True)

    async def render(event: ChangeEvent) -> Any:
        partial = partial_thing(event)
        if extra is not None and event.action != "deleted":
            current = await _current(request, caller, event.entity_id, extra)
            partial = _deep_merge(current, partial)
        if not event_filter.accepts(event, partial):
            return _SKIP
        if selector is None:
            return partial
        return selector.apply(_with_meta(event, partial)) or _SKIP

    return await _respond(request, caller, render)


async def thing_stream(request: Request, caller: Caller, target: ThingTarget) -> Response:
    """The change stream of one thing, or of one path inside it."""
    query = request.query_params
    # Validate the id now (400), not on the first event.
    ThingId(target.thing_id)
    event_filter = EventFilter.parse(None, query.get("filter"), [target.thing_id])
    selector = _selector(query.get("fields"), at_root=target.is_thing)
    extra = _selector(query.get("extraFields"), at_root=True)
    wanted = list(target.segments)

    async def render(event: ChangeEvent) -> Any:
        partial = partial_thing(event)
        if extra is not None and event.action != "deleted":
            current = await _current(request, caller, event.entity_id, extra)
            partial = _deep_merge(current, partial)
        if not event_filter.accepts(event, partial):
            return _SKIP
        if not wanted:
            if selector is None:
                return partial
            return selector.apply(_with_meta(event, partial)) or _SKIP
        value = _relative(event, wanted)
        if value is _SKIP or selector is None:
            return value
        if not isinstance(value, dict):
            return _SKIP
        return selector.apply(value) or _SKIP

    return await _respond(request, caller, render)


def _relative(event: ChangeEvent, wanted: list[str]) -> Any:
    """The part of an event's change at (or below) the path ``wanted``."""
    changed = split_pointer(event.path)
    if changed[: len(wanted)] == wanted:
        # The change is at or below the wanted path: nest its value below it.
        value: Any = event.value
        for key in reversed(changed[len(wanted) :]):
            value = {key: value}
        return value
    if wanted[: len(changed)] == changed:
        # The change is above: cut the wanted part out of its value, if it holds one.
        node: Any = event.value
        for key in wanted[len(changed) :]:
            if not isinstance(node, dict) or key not in node:
                return None if event.action == "deleted" else _SKIP
            node = node[key]
        return node
    return _SKIP


async def _current(
    request: Request, caller: Caller, thing_id: str, selector: FieldSelector
) -> dict[str, Any]:
    state = rest_state(request)
    try:
        record = await call(state.core.twins.get_record, caller, thing_id)
    except errors.NotFound:
        return {}
    return selector.apply(record_view(record))


async def _respond(request: Request, caller: Caller, render: Render) -> Response:
    state = rest_state(request)
    after = last_event_id(request)
    subscription = await state.hub.subscribe(caller, after)
    heartbeat = state.settings.sse_heartbeat_s

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                event = await subscription.get(heartbeat)
                if event is None:
                    if subscription.closed:
                        return
                    yield HEARTBEAT
                    continue
                data = await render(event)
                if data is _SKIP:
                    continue
                yield b"id:%d\ndata:%s\n\n" % (event.seq, dumps(data))
        finally:
            subscription.close()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
