"""What every REST handler reaches: the core, settings, authenticator, event hub, TDs.

One `RestState` lives on ``app.state.rest``; handlers get it with `rest_state` and run
core calls with `call`, which moves them to a worker thread (the core is synchronous and
must never block the event loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from server.core.context import Caller
from server.core.service import Core
from server.rest.auth import Authenticator
from server.rest.headers import DittoHeaders
from server.rest.hub import EventHub
from server.rest.td import ThingDescriptions
from server.settings import Settings

__all__ = ["RestState", "authenticate", "call", "ditto_headers", "rest_state"]

_T = TypeVar("_T")


@dataclass
class RestState:
    """The REST face's shared objects, built once by the app factory."""

    core: Core
    settings: Settings
    auth: Authenticator
    hub: EventHub
    descriptions: ThingDescriptions


def rest_state(conn: HTTPConnection) -> RestState:
    """The `RestState` of the app serving ``conn``."""
    state: RestState = conn.app.state.rest
    return state


async def call(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a synchronous core operation in the worker thread pool."""
    return await run_in_threadpool(fn, *args, **kwargs)


def ditto_headers(conn: HTTPConnection) -> DittoHeaders:
    """The Ditto headers of a request (headers, then the query parameters Ditto reads)."""
    return DittoHeaders(conn.headers, conn.query_params)


async def authenticate(conn: HTTPConnection) -> Caller:
    """The caller of a request; raises the 401 `AuthenticationFailed` otherwise.

    Only a WebSocket may carry its key as ``?access_token=`` (browsers cannot set headers
    on one); on plain HTTP a key in the URL would end up in logs.
    """
    token = conn.query_params.get("access_token") if conn.scope["type"] == "websocket" \
        else None
    return await rest_state(conn).auth.caller(conn.headers, token)
