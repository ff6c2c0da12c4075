"""The ASGI application: one thin assembler of the core, the faces and the adapters.

`create_app` wires an (un-opened) `Core` and `Settings` into a FastAPI app:

* the Ditto face (``/api/2``, ``/ws/2``) from `server.rest`, and the native ``/v1`` API
  when ``server.rest.v1`` provides ``router()``;
* ``GET /openapi.json`` (`server.rest.openapi`);
* the lifespan: open the core, run the startup hooks, serve, run the shutdown hooks in
  reverse order, close the core.

Other parts join without editing this module's logic: each entry of `EXTENSIONS` names a
``module:function`` that is called with the app when the module exists, and may append
async hooks ``(app) -> None`` to ``app.state.startup`` / ``app.state.shutdown`` (the gRPC
server and the MQTT adapters start and stop there). Shared objects live on ``app.state``:
``core``, ``settings``, ``rest`` (`RestState`: authenticator, event hub, TDs).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server.core.service import Core
from server.rest.auth import Authenticator
from server.rest.codec import json_response
from server.rest.context import RestState
from server.rest.correlation import CorrelationMiddleware
from server.rest.errors import install_error_handlers
from server.rest.hub import EventHub
from server.rest.openapi import api_version, build_document
from server.rest.routes import ditto_routes
from server.rest.td import ThingDescriptions
from server.settings import Settings

__all__ = ["EXTENSIONS", "Hook", "create_app", "mqtt_setup", "v1_router"]

log = logging.getLogger(__name__)

Hook = Callable[[FastAPI], Awaitable[None]]
"""An async startup or shutdown step; it gets the app (and finds everything on its state)."""

#: ``module:function`` setup callables of optional parts, called with the app in order.
EXTENSIONS: tuple[str, ...] = (
    "server.grpc.app:setup",
    "server.app:mqtt_setup",
    "server.console:setup",
    "server.analytics.api:setup",
)


def v1_router() -> Any | None:
    """The native ``/v1`` API router, when its module is present."""
    try:
        module = importlib.import_module("server.rest.v1")
    except ModuleNotFoundError as exc:
        if exc.name not in ("server.rest.v1",):
            raise
        return None
    factory = getattr(module, "router", None)
    return factory() if callable(factory) else None


def _load_extension(spec: str) -> Callable[[FastAPI], Any] | None:
    module_name, _, function = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a missing extension is optional; a broken import inside it is a bug.
        if exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
    setup = getattr(module, function, None)
    return setup if callable(setup) else None


def mqtt_setup(app: FastAPI) -> None:
    """Host the MQTT device adapter (``adapters.mqtt``) when it is installed.

    Its surface is ``handle = await setup(core, settings)`` / ``await unload(handle)``; a
    failure to start (e.g. no broker) is logged and the server keeps serving its APIs.
    """
    try:
        adapter = importlib.import_module("adapters.mqtt")
    except ModuleNotFoundError as exc:
        if exc.name not in ("adapters", "adapters.mqtt"):
            raise
        return

    async def start(app: FastAPI) -> None:
        try:
            app.state.mqtt = await adapter.setup(app.state.core, app.state.settings)
        except Exception:
            app.state.mqtt = None
            log.exception("MQTT adapter did not start; serving without it")

    async def stop(app: FastAPI) -> None:
        await adapter.unload(getattr(app.state, "mqtt", None))

    app.state.startup.append(start)
    app.state.shutdown.append(stop)


def create_app(
    core: Core,
    settings: Settings | None = None,
    *,
    manage_core: bool = True,
    native_api: bool = True,
    extensions: tuple[str, ...] | None = None,
) -> FastAPI:
    """The ndtwin ASGI app over ``core``.

    Parameters
    ----------
    core:
        The service core; opened and closed by the lifespan when ``manage_core``.
    settings:
        Server settings (defaults when None).
    manage_core:
        False when the caller opens and closes the core itself (``ndtwin serve`` opens it
        first to create the demo tenant).
    native_api:
        Mount the ``/v1`` API when ``server.rest.v1`` is present (off: the Ditto face only).
    extensions:
        ``module:function`` setups to call (default `EXTENSIONS`).
    """
    settings = settings or Settings()
    app = FastAPI(
        title="ndtwin",
        version=api_version(),
        lifespan=_lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.core = core
    app.state.settings = settings
    app.state.manage_core = manage_core
    app.state.startup = []
    app.state.shutdown = []
    app.state.rest = RestState(
        core=core,
        settings=settings,
        auth=Authenticator(core, settings.auth_cache_s, settings.operator_key),
        hub=EventHub(core, wait_s=min(1.0, settings.sse_heartbeat_s)),
        descriptions=ThingDescriptions(list(settings.models)),
    )
    install_error_handlers(app)
    app.add_middleware(CorrelationMiddleware)
    app.router.routes.extend(ditto_routes())
    router = v1_router() if native_api else None
    if router is not None:
        app.include_router(router)
    app.add_route("/openapi.json", _openapi, methods=["GET"], include_in_schema=False)
    for spec in EXTENSIONS if extensions is None else extensions:
        setup = _load_extension(spec)
        if setup is not None:
            setup(app)
    return app


async def _openapi(request: Request) -> Response:
    app = request.app
    document = getattr(app.state, "openapi", None)
    if document is None:
        document = build_document(app.routes)
        app.state.openapi = document
    return json_response(document)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    core: Core = app.state.core
    if app.state.manage_core:
        await run_in_threadpool(core.open)
    try:
        for hook in list(app.state.startup):
            await hook(app)
        yield
    finally:
        for hook in reversed(list(app.state.shutdown)):
            try:
                await hook(app)
            except Exception:  # one failing part must not keep the others running
                log.exception("shutdown hook %r failed", hook)
        await app.state.rest.hub.close()
        if app.state.manage_core:
            await run_in_threadpool(core.close)
