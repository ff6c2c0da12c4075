"""Start the gRPC server with the ASGI app (`server.app` calls `setup` with the app).

The server starts after the core is open (a startup hook) on ``settings.grpc_port`` and
``settings.host``, and stops gracefully before the core closes (a shutdown hook), which
also ends watch streams and running operations. A port that cannot be bound is logged as
an error and leaves the REST faces running.
"""

from __future__ import annotations

import logging

import grpc
from fastapi import FastAPI

from server.grpc.server import bound_port, start_grpc_server, stop_grpc_server
from server.grpc.services import close_services

__all__ = ["setup"]

log = logging.getLogger(__name__)


async def _start(app: FastAPI) -> None:
    settings = app.state.settings
    try:
        server = await start_grpc_server(
            app.state.core, settings.grpc_port, host=settings.host, settings=settings
        )
    except RuntimeError as exc:  # grpcio reports a failed bind as RuntimeError
        log.error(
            "gRPC: cannot listen on %s:%s (%s); serving REST only",
            settings.host,
            settings.grpc_port,
            exc,
        )
        return
    app.state.grpc_server = server
    log.info("gRPC: serving on %s:%d", settings.host, bound_port(server))


async def _stop(app: FastAPI) -> None:
    server: grpc.aio.Server | None = getattr(app.state, "grpc_server", None)
    if server is not None:
        await stop_grpc_server(server)
        app.state.grpc_server = None
    await close_services(app.state.core)


def setup(app: FastAPI) -> None:
    """Register the gRPC server's startup and shutdown hooks on ``app``."""
    app.state.startup.append(_start)
    app.state.shutdown.append(_stop)
