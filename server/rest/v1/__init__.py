"""The native ``/v1`` REST API: the ``ndtwin.v1`` services transcoded, plus SPARQL.

`router` returns an `APIRouter` to mount on the app (no prefix: every route starts with
``/v1``). It finds the core in ``app.state.rest`` (``core`` and ``settings``) or uses
``app.state.v1_services`` when set, and shares its services with the gRPC server of the
same core (`server.grpc.services.services_for`).
"""

from __future__ import annotations

from fastapi import APIRouter

from server.rest.v1.routes import add_routes
from server.rest.v1.sparql import add_sparql_routes

__all__ = ["router"]


def router() -> APIRouter:
    """Every ``/v1`` route: the transcoded methods and ``/v1/sparql``."""
    out = APIRouter()
    add_sparql_routes(out)
    add_routes(out)
    return out
