"""The ``grpc.aio`` server of ``ndtwin serve``: the ndtwin.v1 services, health, reflection.

Health checking follows ``grpc.health.v1`` (every service and ``""`` report SERVING until a
graceful stop starts); server reflection (``grpc.reflection.v1alpha``, what grpcurl and
``ndtwin grpc list`` use) lists every service, so a client can discover each method and
message without the proto files. Incoming messages are capped at `MAX_MESSAGE_BYTES`
(larger ones fail with RESOURCE_EXHAUSTED before any handler runs).
"""

from __future__ import annotations

import weakref

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from server.core.service import Core
from server.grpc.binding import generic_handlers
from server.grpc.services import SERVICES, services_for
from server.settings import Settings

__all__ = [
    "MAX_MESSAGE_BYTES",
    "bound_port",
    "start_grpc_server",
    "stop_grpc_server",
]

#: Largest request or response message (4 MiB, gRPC's usual default, stated explicitly).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024

_PORTS: weakref.WeakKeyDictionary[grpc.aio.Server, int] = weakref.WeakKeyDictionary()
_HEALTH: weakref.WeakKeyDictionary[grpc.aio.Server, health.aio.HealthServicer] = (
    weakref.WeakKeyDictionary()
)


async def start_grpc_server(
    core: Core, port: int, *, host: str = "127.0.0.1", settings: Settings | None = None
) -> grpc.aio.Server:
    """Start serving ``core`` on ``host:port`` (0 picks a free port, see `bound_port`).

    The core must be open; it stays owned by the caller. Stop with `stop_grpc_server`.
    """
    services = services_for(core, settings)
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ]
    )
    server.add_generic_rpc_handlers(generic_handlers(services))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [s.full_name for s in SERVICES]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    await server.start()
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    _PORTS[server] = bound
    _HEALTH[server] = health_servicer
    return server


def bound_port(server: grpc.aio.Server) -> int:
    """The port a server started by `start_grpc_server` listens on."""
    return _PORTS[server]


async def stop_grpc_server(server: grpc.aio.Server, grace: float = 5.0) -> None:
    """Graceful stop: health reports NOT_SERVING, new RPCs are refused, running ones get
    ``grace`` seconds to finish (open watch streams are then cancelled)."""
    health_servicer = _HEALTH.pop(server, None)
    if health_servicer is not None:
        await health_servicer.enter_graceful_shutdown()
    await server.stop(grace)
