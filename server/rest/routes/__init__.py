"""The route table of the Ditto face (``/api/2`` and ``/ws/2``).

Plain Starlette routes: each handler reads the request itself (raw paths, Ditto headers
that may come as query parameters), so FastAPI's parameter injection would only add cost
on the hot path. The OpenAPI description of these routes is written in
`server.rest.openapi`, not derived from the handlers.

Every path is served by one `MethodDispatch`, which answers a method the resource does
not take with 405 and an ``Allow`` header listing exactly the methods it does take
(RFC 9110 §15.5.6) - on a thing that depends on the sub-resource (``policyId`` cannot be
deleted).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from server.rest.errors import MethodNotAllowed
from server.rest.paths import THINGS
from server.rest.routes import meta, search, things, ws

__all__ = ["MethodDispatch", "ditto_routes"]

Handler = Callable[[Request], Awaitable[Response]]


class MethodDispatch:
    """An ASGI app that picks the handler by method (``HEAD`` is served by ``GET``)."""

    def __init__(
        self,
        handlers: dict[str, Handler],
        allowed: Callable[[Request], tuple[str, ...]] | None = None,
    ) -> None:
        self._handlers = handlers
        self._allowed = allowed

    def allowed(self, request: Request) -> tuple[str, ...]:
        """The methods the requested resource takes (the ``Allow`` header)."""
        if self._allowed is not None:
            return self._allowed(request)
        return tuple(self._handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        method = "GET" if request.method == "HEAD" else request.method
        allowed = self.allowed(request)
        handler = self._handlers.get(method)
        if handler is None or method not in allowed:
            raise MethodNotAllowed(request.method, request.url.path, allowed)
        response = await handler(request)
        await response(scope, receive, send)


def _thing_methods(request: Request) -> tuple[str, ...]:
    path = request.scope["path"].rstrip("/")
    if path.startswith(THINGS + "/") and path.endswith("/policyId"):
        return ("GET", "PUT", "PATCH")
    return ("GET", "PUT", "PATCH", "DELETE")


def ditto_routes() -> list[BaseRoute]:
    """Every route of the Ditto HTTP API v2 and WebSocket that ndtwin serves."""

    def route(path: str, app: MethodDispatch) -> Route:
        # An ASGI app as endpoint takes every method; the dispatcher decides.
        return Route(path, app, include_in_schema=False)

    policies = MethodDispatch({m: meta.policies for m in ("GET", "PUT", "PATCH", "DELETE")})
    return [
        route(THINGS, MethodDispatch({"GET": things.list_things, "POST": things.create_thing})),
        route(
            THINGS + "/{rest:path}",
            MethodDispatch(
                {
                    "GET": things.get_resource,
                    "PUT": things.put_resource,
                    "PATCH": things.merge_resource,
                    "DELETE": things.delete_resource,
                },
                _thing_methods,
            ),
        ),
        route(
            "/api/2/search/things",
            MethodDispatch({"GET": search.search_things, "POST": search.search_things}),
        ),
        route(
            "/api/2/search/things/count",
            MethodDispatch({"GET": search.count_things, "POST": search.count_things}),
        ),
        route("/api/2/whoami", MethodDispatch({"GET": meta.whoami})),
        route("/api/2/policies", policies),
        route("/api/2/policies/{rest:path}", policies),
        WebSocketRoute("/ws/2", ws.ditto_socket),
    ]
