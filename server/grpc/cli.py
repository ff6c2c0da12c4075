"""``ndtwin grpc list``: what a running server offers, discovered by server reflection.

Works against any gRPC server with reflection (``grpc.reflection.v1alpha``), no proto
files needed: it prints each service, and with ``--long`` each method with its request
and response types (``stream`` marks server streaming). Exit codes: 0 success, 1 when the
server cannot be reached or has no reflection.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["list_services", "register"]

_DEFAULT_PORT = "50051"


def _default_target() -> str:
    return f"127.0.0.1:{os.environ.get('NDTWIN_GRPC_PORT', _DEFAULT_PORT)}"


def register(subparsers: Any) -> None:
    """Add ``grpc list`` to the top-level ``ndtwin`` parser."""
    grpc_parser = subparsers.add_parser(
        "grpc",
        help="inspect a running gRPC server",
        description="Inspect a running ndtwin (or any) gRPC server through server reflection.",
    )
    commands = grpc_parser.add_subparsers(dest="grpc_command", metavar="COMMAND", required=True)
    list_parser = commands.add_parser(
        "list",
        help="list the services (and methods) of a server",
        description="List the services of a server through gRPC server reflection.",
    )
    list_parser.add_argument(
        "--target",
        default=None,
        metavar="HOST:PORT",
        help=f"server address (default: 127.0.0.1:$NDTWIN_GRPC_PORT or 127.0.0.1:{_DEFAULT_PORT})",
    )
    list_parser.add_argument(
        "-l",
        "--long",
        action="store_true",
        help="also list each method with its request and response",
    )
    list_parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS")
    list_parser.set_defaults(handler=run_list)


def list_services(target: str, long: bool = False, timeout: float = 5.0) -> list[str]:
    """The lines ``ndtwin grpc list`` prints for ``target``; raises ``grpc.RpcError``."""
    import grpc
    from google.protobuf import descriptor_pool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        database = ProtoReflectionDescriptorDatabase(channel)
        names = sorted(database.get_services())
        if not long:
            return names
        pool = descriptor_pool.DescriptorPool(database)
        lines: list[str] = []
        for name in names:
            lines.append(name)
            service = pool.FindServiceByName(name)
            for method in service.methods:
                stream_in = "stream " if method.client_streaming else ""
                stream_out = "stream " if method.server_streaming else ""
                lines.append(
                    f"  {method.name}({stream_in}{method.input_type.full_name}) "
                    f"returns ({stream_out}{method.output_type.full_name})"
                )
        return lines


def run_list(args: argparse.Namespace) -> int:
    """``ndtwin grpc list``."""
    import grpc

    target = args.target or _default_target()
    try:
        lines = list_services(target, args.long, args.timeout)
    except grpc.FutureTimeoutError:
        print(f"ndtwin: no gRPC server answers at {target}", file=sys.stderr)
        return 1
    except grpc.RpcError as exc:
        print(f"ndtwin: {target}: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
