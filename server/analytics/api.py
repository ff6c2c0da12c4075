"""``/v1/analytics``: the analytics as an API (and what the console shows).

Every route authenticates like the Ditto face (Bearer key, or Basic with the tenant as
user) and reads only the caller's tenant: the tenant comes from the credential, never
from a parameter. Read-only analyses are ``GET`` with the scope in the query: ``twin``
(a thing id) or ``zone`` (an ``attributes.location.zone`` value), and a window given as
``window`` seconds back from now or as ``start``/``end`` (RFC 3339). The recommendation
and the narrator take a JSON body (``POST``). Errors are Ditto's error JSON.

`setup` is the app extension (`server.app.EXTENSIONS`) that mounts the router.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from server.analytics import service
from server.analytics.collect import Collector, Scope, window_of
from server.analytics.narrator import NarratorConfig, narrate
from server.analytics.recommend import Message
from server.core import errors
from server.core.context import Caller
from server.core.service import Core
from server.rest.context import authenticate, rest_state

__all__ = ["RecommendRequest", "router", "setup"]

Window = Annotated[
    float | None, Query(gt=0, le=31 * 86400, description="Seconds back from now (default 3600).")
]
Start = Annotated[datetime | None, Query(description="Start of the window (RFC 3339).")]
End = Annotated[datetime | None, Query(description="End of the window (default now).")]
Twin = Annotated[str | None, Query(description="Thing id of a device, source or sensor.")]
Zone = Annotated[str | None, Query(description="A zone (attributes.location.zone).")]
CallerDep = Annotated[Caller, Depends(authenticate)]


class RecommendRequest(BaseModel):
    """A message a device wants to send."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(description="Thing id of the device, e.g. device:phone-0001.")
    size: int = Field(ge=0, le=1 << 31, description="Message size in bytes.")
    urgency: Literal["low", "normal", "high", "critical"] = "normal"
    horizon: float = Field(
        60.0, gt=0, le=3600, description="Seconds ahead the link forecast looks."
    )


class NarrateRequest(BaseModel):
    """A result of another analytics route, to be told in words."""

    result: dict[str, Any]


def _scope(twin: str | None, zone: str | None) -> Scope:
    if (twin is None) == (zone is None):
        raise errors.BadRequest("Give exactly one of 'twin' and 'zone'.")
    return Scope(twin=twin, zone=zone)


async def _run(caller: Caller, core: Core, fn: Any, *args: Any) -> Any:
    return await run_in_threadpool(fn, Collector(core, caller), *args)


def router() -> APIRouter:
    """The analytics routes (their paths start with ``/v1/analytics``)."""
    api = APIRouter(prefix="/v1/analytics", tags=["Analytics"])

    @api.get("/describe", summary="Distribution of each KPI over a window")
    async def describe_route(
        request: Request,
        caller: CallerDep,
        twin: Twin = None,
        zone: Zone = None,
        window: Window = None,
        start: Start = None,
        end: End = None,
    ) -> Any:
        lo, hi = window_of(window, start, end)
        return await _run(
            caller, rest_state(request).core, service.describe, _scope(twin, zone), lo, hi
        )

    @api.get("/anomalies", summary="Sudden drops and rises, spikes, stuck values, gaps")
    async def anomalies_route(
        request: Request,
        caller: CallerDep,
        twin: Twin = None,
        zone: Zone = None,
        window: Window = None,
        start: Start = None,
        end: End = None,
    ) -> Any:
        lo, hi = window_of(window, start, end)
        return await _run(
            caller, rest_state(request).core, service.anomalies, _scope(twin, zone), lo, hi
        )

    @api.get("/correlations", summary="Environment KPIs against network KPIs")
    async def correlations_route(
        request: Request,
        caller: CallerDep,
        twin: Twin = None,
        zone: Zone = None,
        window: Window = None,
        start: Start = None,
        end: End = None,
        step: Annotated[float, Query(ge=1, le=86400, description="Grid step in seconds.")] = 300,
        max_lag: Annotated[
            int, Query(ge=0, le=24, alias="maxLag", description="Lags tried either way, in steps.")
        ] = 3,
    ) -> Any:
        lo, hi = window_of(window if window is not None or start else 86400, start, end)
        return await _run(
            caller,
            rest_state(request).core,
            service.correlations,
            _scope(twin, zone),
            lo,
            hi,
            step,
            max_lag,
        )

    @api.get("/forecast", summary="Short-horizon forecast with its held-back error")
    async def forecast_route(
        request: Request,
        caller: CallerDep,
        twin: Twin = None,
        zone: Zone = None,
        window: Window = None,
        start: Start = None,
        end: End = None,
        horizon: Annotated[float, Query(gt=0, le=86400, description="Seconds ahead.")] = 60,
    ) -> Any:
        lo, hi = window_of(window, start, end)
        return await _run(
            caller, rest_state(request).core, service.forecasts, _scope(twin, zone), lo, hi, horizon
        )

    @api.get("/overview", summary="Per cell, AP, beacon, device, sensor or zone")
    async def overview_route(
        request: Request,
        caller: CallerDep,
        kind: Annotated[
            Literal["cell", "wifi", "ble", "device", "sensor", "zone"],
            Query(description="What to list."),
        ] = "cell",
        window: Window = None,
        start: Start = None,
        end: End = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> Any:
        lo, hi = window_of(window, start, end)
        return await _run(caller, rest_state(request).core, service.overview, kind, lo, hi, limit)

    @api.post("/recommend", summary="Interface to send a message over, with reasons")
    async def recommend_route(request: Request, caller: CallerDep, body: RecommendRequest) -> Any:
        message = Message(body.size, body.urgency)
        return await _run(
            caller,
            rest_state(request).core,
            service.recommendation,
            body.device,
            message,
            body.horizon,
        )

    @api.get("/narrator", summary="Whether the optional narrator is configured")
    async def narrator_route(caller: CallerDep) -> Any:
        config = NarratorConfig.from_env()
        return {"enabled": config.enabled, "model": config.model if config.enabled else None}

    @api.post("/narrate", summary="Tell an analytics result in words (optional narrator)")
    async def narrate_route(caller: CallerDep, body: NarrateRequest) -> Any:
        return {"text": await narrate(NarratorConfig.from_env(), body.result)}

    return api


def setup(app: FastAPI) -> None:
    """Mount ``/v1/analytics`` on the app."""
    app.include_router(router())
