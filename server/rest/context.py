"""What every REST handler reaches: the core, settings, authenticator, event hub, TDs.

One `RestState` lives on ``app.state.rest``; handlers get it with `rest_state` and run
core calls with `call`, which moves them to a worker thread (the core is synchronous and
must never block the event loop).

`call_point` runs a one-twin read or write on the event loop itself when the core says
it is cheap there (`Core.runs_inline`: an embedded store, a fast validator, an idle
writer), and otherwise goes through `call`.

`call` uses asyncio's own executor hand-off with a dedicated pool rather than anyio's
``to_thread`` (Starlette's ``run_in_threadpool``), which adds a capacity limiter and cancel
scopes per call: with wrk against an empty handler on a 2-core machine the asyncio hop
served more requests per second, and on a twin read the hop is most of the cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from starlette.requests import HTTPConnection

from server.core.context import Caller
from server.core.service import Core
from server.rest.auth import Authenticator
from server.rest.headers import DittoHeaders
from server.rest.hub import EventHub
from server.rest.td import ThingDescriptions
from server.settings import Settings

__all__ = [
    "CORE_THREADS",
    "RestState",
    "authenticate",
    "call",
    "call_point",
    "ditto_headers",
    "rest_state",
]

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


#: Worker threads for core calls; the core and its stores are thread-safe.
CORE_THREADS = 16
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(CORE_THREADS, thread_name_prefix="ndtwin-core")
    return _executor


async def call(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a synchronous core operation in a worker thread and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), partial(fn, *args, **kwargs))


async def call_point(
    core: Core, write: bool, fn: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    """Run a point operation on one twin: inline when ``core`` finds it cheap, else `call`."""
    if core.runs_inline(write):
        return fn(*args, **kwargs)
    return await call(fn, *args, **kwargs)


def ditto_headers(conn: HTTPConnection) -> DittoHeaders:
    """The Ditto headers of a request (headers, then the query parameters Ditto reads)."""
    return DittoHeaders(conn.headers, conn.query_params)


async def authenticate(conn: HTTPConnection) -> Caller:
    """The caller of a request; raises the 401 `AuthenticationFailed` otherwise.

    Only a WebSocket may carry its key as ``?access_token=`` (browsers cannot set headers
    on one); on plain HTTP a key in the URL would end up in logs.
    """
    token = conn.query_params.get("access_token") if conn.scope["type"] == "websocket" else None
    return await rest_state(conn).auth.caller(conn.headers, token)
