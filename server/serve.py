"""``ndtwin serve`` and ``ndtwin tenant create|list|delete``.

``serve`` runs the ASGI app under uvicorn. On the first start with the embedded defaults
(SQLite and pyoxigraph in ``--data-dir``) it creates tenant ``demo`` and prints its API
key once, with the URLs of the REST API, the OpenAPI document and gRPC, so that
``make run`` is a complete first experience.

The tenant commands take the same store options and touch only the document store, so
they also work while a server runs on the same data directory (the embedded graph store
is locked by its process). ``tenant create`` prints the new key as the last stdout line;
keys are stored hashed and cannot be shown again.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from server.settings import Settings, SettingsError

__all__ = ["BANNER_END", "DEMO_TENANT", "register"]

EXIT_OK, EXIT_INVALID = 0, 1
DEMO_TENANT = "demo"
#: Last line of the start-up banner (scripts read up to it).
BANNER_END = "Press Ctrl+C to stop."


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=str, default=None, help="TOML config file (also $NDTWIN_CONFIG)"
    )
    parser.add_argument(
        "--data-dir",
        dest="data_dir",
        default=None,
        help="folder of the embedded stores (default .ndtwin; $NDTWIN_DATA_DIR)",
    )
    parser.add_argument(
        "--store", default=None, help="'sqlite' (default) or a postgresql:// URL ($NDTWIN_STORE)"
    )


def register(subparsers: Any) -> None:
    """Add ``serve`` and ``tenant`` to the top-level ``ndtwin`` parser."""
    serve = subparsers.add_parser(
        "serve",
        help="run the server (Ditto HTTP API v2, /v1, gRPC, MQTT adapters)",
        description="Run the ndtwin server. Settings come from flags, NDTWIN_* variables "
        "and a TOML config file, in that order of precedence.",
    )
    _store_options(serve)
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default 8080)")
    serve.add_argument(
        "--grpc-port", dest="grpc_port", type=int, default=None, help="gRPC port (default 50051)"
    )
    serve.add_argument(
        "--graph",
        default=None,
        help="'embedded' (default), 'memory' or an http(s):// SPARQL endpoint ($NDTWIN_GRAPH)",
    )
    serve.add_argument(
        "--mqtt", default=None, help="'embedded' (default), an mqtt:// broker URL, or 'off'"
    )
    serve.add_argument(
        "--models",
        action="append",
        default=None,
        help="folder of SDF models (repeatable; default: the shipped ones)",
    )
    serve.add_argument(
        "--log-level", dest="log_level", default=None, help="debug, info (default), warning, error"
    )
    serve.set_defaults(handler=_serve)

    tenant = subparsers.add_parser(
        "tenant",
        help="create, list and delete tenants and their API keys",
        description="Manage tenants in the document store.",
    )
    commands = tenant.add_subparsers(dest="tenant_command", metavar="COMMAND", required=True)
    create = commands.add_parser("create", help="create a tenant; prints its API key last")
    create.add_argument("name", help="tenant name: a-z, 0-9 and '-', starting a-z")
    _store_options(create)
    create.set_defaults(handler=_tenant_create)
    listing = commands.add_parser("list", help="list the tenants")
    _store_options(listing)
    listing.set_defaults(handler=_tenant_list)
    delete = commands.add_parser("delete", help="delete a tenant and all of its data")
    delete.add_argument("name")
    _store_options(delete)
    delete.set_defaults(handler=_tenant_delete)


def _settings(args: argparse.Namespace) -> Settings:
    names = Settings.field_names()
    flags = {name: getattr(args, name) for name in names if hasattr(args, name)}
    config = getattr(args, "config", None)
    return Settings.load(flags, config_file=Path(config) if config else None)


def _fail(message: str) -> int:
    print(f"ndtwin: {message}", file=sys.stderr)
    return EXIT_INVALID


# -- tenants -------------------------------------------------------------------------


def _tenant_service(settings: Settings) -> tuple[Any, Any]:
    from server.core.stores.factory import create_store
    from server.core.tenants import TenantService

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = create_store(
        None if settings.store == "sqlite" else settings.store, data_dir=settings.data_dir
    )
    store.open()
    return store, TenantService(store)


def _tenant_create(args: argparse.Namespace) -> int:
    from server.core.errors import NdtError

    try:
        settings = _settings(args)
        store, tenants = _tenant_service(settings)
    except (SettingsError, ValueError) as exc:
        return _fail(str(exc))
    try:
        record, key = tenants.create(args.name)
    except NdtError as exc:
        return _fail(exc.message)
    finally:
        store.close()
    print(f"created tenant '{record.tenant}'; its API key (shown only now):")
    print(key)
    return EXIT_OK


def _tenant_list(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        store, tenants = _tenant_service(settings)
    except (SettingsError, ValueError) as exc:
        return _fail(str(exc))
    try:
        for record in tenants.list():
            print(f"{record.tenant}\t{record.created.isoformat()}")
    finally:
        store.close()
    return EXIT_OK


def _tenant_delete(args: argparse.Namespace) -> int:
    from server.core.errors import NdtError

    try:
        settings = _settings(args)
        store, tenants = _tenant_service(settings)
    except (SettingsError, ValueError) as exc:
        return _fail(str(exc))
    try:
        tenants.delete(args.name)
    except NdtError as exc:
        return _fail(exc.message)
    finally:
        store.close()
    print(f"deleted tenant '{args.name}' and all of its data")
    return EXIT_OK


# -- serve ---------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _banner(settings: Settings, port: int, demo_key: str | None) -> str:
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    http = f"http://{host}:{port}"
    lines = [
        "ndtwin is serving",
        f"  REST (Ditto HTTP API v2): {http}/api/2/things",
        f"  WebSocket (Ditto):        ws://{host}:{port}/ws/2",
        f"  OpenAPI:                  {http}/openapi.json",
        f"  Console:                  {http}/console/",
        f"  gRPC:                     {host}:{settings.grpc_port}",
        f"  data:                     store={settings.store} graph={settings.graph} "
        f"dir={settings.data_dir}",
    ]
    if demo_key is not None:
        lines += [
            f"Created tenant '{DEMO_TENANT}'. Its API key is shown only now:",
            f"  {demo_key}",
            f"Try: curl -u {DEMO_TENANT}:{demo_key} {http}/api/2/things",
        ]
    lines.append(BANNER_END)
    return "\n".join(lines)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except SettingsError as exc:
        return _fail(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    import uvicorn

    from server.app import create_app
    from server.core.bootstrap import build_core

    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        return _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
    try:
        core = build_core(settings.store, settings.graph, settings.data_dir, list(settings.models))
        core.open()
    except Exception as exc:
        sock.close()
        return _fail(f"cannot open the stores: {exc}")
    try:
        demo_key = None
        if settings.demo_tenant and settings.embedded_defaults and not core.tenants.list():
            _, demo_key = core.tenants.create(DEMO_TENANT)
        app = create_app(core, settings, manage_core=False)
        config = uvicorn.Config(
            app,
            log_level=settings.log_level.lower(),
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        print(_banner(settings, sock.getsockname()[1], demo_key), flush=True)
        # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal with
        # the handler found before it started: make that a clean exit so the stores close.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            server.run(sockets=[sock])
    finally:
        sock.close()
        core.close()
    return EXIT_OK
