"""The Ditto WebSocket ``/ws/2`` (httpapi-protocol-bindings-websocket, notes §1.8).

Authentication as on HTTP (Basic, Bearer) or ``?access_token=``; a bad credential is
refused with Ditto's 401 before the upgrade where the server supports it (ASGI's
``websocket.http.response`` extension), else the socket closes with 1008 (RFC 6455
§7.4.1, policy violation).

Text frames carry either a control message or a Ditto Protocol JSON envelope:

* ``START-SEND-EVENTS[?namespaces=..&filter=..]`` subscribes to twin events, answered by
  ``START-SEND-EVENTS:ACK``; ``STOP-SEND-EVENTS`` ends it (``:ACK`` too). The other Ditto
  controls (messages, live commands and events, policy announcements) are acknowledged
  but carry nothing, as ndtwin has no live channel.
* a command ``{ns}/{name}/things/twin/commands/{action}`` is run on the core and
  answered with its response (same topic, ``status``, ``correlation-id`` kept) or an
  ``.../things/twin/errors`` envelope.

Commands of one socket run one after another, so their responses keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.core import errors
from server.core.context import Caller
from server.rest.codec import parse_json
from server.rest.context import RestState, authenticate, call, rest_state
from server.rest.errors import error_response
from server.rest.hub import Subscription
from server.rest.protocol import (
    Command,
    EventFilter,
    error_envelope,
    event_envelope,
    execute,
    partial_thing,
)

__all__ = ["ditto_socket"]

log = logging.getLogger(__name__)

_CONTROLS = ("EVENTS", "MESSAGES", "LIVE-COMMANDS", "LIVE-EVENTS", "POLICY-ANNOUNCEMENTS")


async def ditto_socket(websocket: WebSocket) -> None:
    """Serve one ``/ws/2`` connection until the client leaves."""
    try:
        caller = await authenticate(websocket)
    except errors.AuthenticationFailed as exc:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(error_response(exc))
        else:
            await websocket.close(code=1008, reason="authentication failed")
        return
    await websocket.accept()
    session = _Session(websocket, rest_state(websocket), caller)
    try:
        await session.run()
    finally:
        await session.stop_events()


class _Session:
    def __init__(self, websocket: WebSocket, state: RestState, caller: Caller) -> None:
        self._ws = websocket
        self._state = state
        self._caller = caller
        self._send_lock = asyncio.Lock()
        self._events: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    async def send(self, text: str) -> None:
        """Send one text frame (responses and events never interleave mid-frame)."""
        async with self._send_lock:
            await self._ws.send_text(text)

    async def send_json(self, value: Any) -> None:
        """Send one JSON envelope."""
        await self.send(orjson.dumps(value).decode())

    async def run(self) -> None:
        """Read frames until the client leaves."""
        while True:
            try:
                message = await self._ws.receive()
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", errors="replace")
            if text is None:
                continue
            try:
                await self.handle(text.strip())
            except (WebSocketDisconnect, RuntimeError):
                return

    async def handle(self, text: str) -> None:
        """Answer one frame: a control message or a command envelope."""
        head, _, query = text.partition("?")
        for kind in _CONTROLS:
            if head in (f"START-SEND-{kind}", f"STOP-SEND-{kind}"):
                await self.control(head, kind, query)
                return
        if head.startswith("JWT-TOKEN"):
            return  # API keys do not expire; nothing to refresh
        correlation: str | None = None
        thing_id: str | None = None
        try:
            envelope = parse_json(text)
            if isinstance(envelope, dict) and isinstance(envelope.get("headers"), dict):
                raw = envelope["headers"].get("correlation-id")
                correlation = str(raw) if raw is not None else None
            command = Command.parse(envelope)
            thing_id = command.thing_id
            response = await call(execute, self._state.core, self._caller, command)
        except errors.NdtError as exc:
            await self.send_json(error_envelope(exc, thing_id, correlation))
            return
        if response is not None:
            await self.send_json(response)

    async def control(self, head: str, kind: str, query: str) -> None:
        """``START-SEND-*`` / ``STOP-SEND-*``, each acknowledged with ``:ACK``."""
        if kind == "EVENTS":
            if head.startswith("START"):
                params = {k: v[-1] for k, v in parse_qs(query).items()}
                try:
                    event_filter = EventFilter.parse(params.get("namespaces"), params.get("filter"))
                except errors.NdtError as exc:
                    await self.send_json(error_envelope(exc, None, None))
                    return
                await self.stop_events()
                self._subscription = await self._state.hub.subscribe(self._caller)
                self._events = asyncio.create_task(self.forward(self._subscription, event_filter))
            else:
                await self.stop_events()
        await self.send(f"{head}:ACK")

    async def forward(self, subscription: Subscription, event_filter: EventFilter) -> None:
        """Send the subscribed events that pass the filter as Ditto Protocol events."""
        try:
            while not subscription.closed:
                event = await subscription.get(None)
                if event is None:
                    continue
                if event_filter.accepts(event, partial_thing(event)):
                    await self.send_json(event_envelope(event))
        except (WebSocketDisconnect, RuntimeError):
            return
        except Exception:  # the socket stays usable for commands
            log.exception("forwarding events on /ws/2 failed")

    async def stop_events(self) -> None:
        """End the event subscription, if any."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        if self._events is not None:
            self._events.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._events
            self._events = None
