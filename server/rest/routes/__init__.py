"""The route table of the Ditto face (``/api/2`` and ``/ws/2``).

Plain Starlette routes: each handler reads the request itself (raw paths, Ditto headers
that may come as query parameters), so FastAPI's parameter injection would only add cost
on the hot path. The OpenAPI description of these routes is written in
`server.rest.openapi`, not derived from the handlers.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from server.rest.routes import meta, search, things, ws

__all__ = ["ditto_routes"]

_RESOURCE_METHODS = {"GET": things.get_resource, "PUT": things.put_resource,
                     "PATCH": things.merge_resource, "DELETE": things.delete_resource}


def ditto_routes() -> list[BaseRoute]:
    """Every route of the Ditto HTTP API v2 and WebSocket that ndtwin serves."""
    routes: list[BaseRoute] = [
        Route("/api/2/things", things.list_things, methods=["GET"], include_in_schema=False),
        Route("/api/2/things", things.create_thing, methods=["POST"],
              include_in_schema=False),
        Route("/api/2/search/things", search.search_things, methods=["GET", "POST"],
              include_in_schema=False),
        Route("/api/2/search/things/count", search.count_things, methods=["GET", "POST"],
              include_in_schema=False),
        Route("/api/2/whoami", meta.whoami, methods=["GET"], include_in_schema=False),
        Route("/api/2/policies", meta.policies,
              methods=["GET", "PUT", "POST", "PATCH", "DELETE"], include_in_schema=False),
        Route("/api/2/policies/{rest:path}", meta.policies,
              methods=["GET", "PUT", "POST", "PATCH", "DELETE"], include_in_schema=False),
        WebSocketRoute("/ws/2", ws.ditto_socket),
    ]
    for method, handler in _RESOURCE_METHODS.items():
        routes.append(Route("/api/2/things/{rest:path}", handler, methods=[method],
                            include_in_schema=False))
    return routes
