"""``/v1/analytics`` over HTTP, in-process: auth, tenancy and results through the core."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from server.analytics.series import iso
from server.app import create_app
from server.core.service import Core
from server.settings import Settings
from tests.analytics.conftest import Writer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app(core: Core, tmp_path: Path) -> FastAPI:
    return create_app(
        core,
        Settings(data_dir=tmp_path / "data"),
        manage_core=False,
        native_api=False,
        extensions=("server.analytics.api:setup",),
    )


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def planted(writer: Writer) -> float:
    """A phone whose serving cell drops 15 dB at sample 150 of 300 (1 s apart)."""
    writer.device("device:p1", batteryLevel=80.0)
    writer.source("cell:lte-00101-9", mcc="001", mnc="01", eci=9)
    writer.source("wifi:02aabbccdd01", bssid="02:aa:bb:cc:dd:01", ssid="lab")
    start = time.time() - 300
    rng = np.random.default_rng(11)
    values = -90 + rng.normal(0, 1.5, 300)
    values[150:] -= 15
    for i, value in enumerate(values):
        writer.link(
            "device:p1",
            "cell:lte-00101-9",
            start + i,
            rsrp=round(float(value)),
            sinr=round(8.0 + float(rng.normal(0, 1)), 1),
            level=3,
            connectionStatus="primary",
        )
    for i in range(0, 300, 10):
        writer.link(
            "device:p1",
            "wifi:02aabbccdd01",
            start + i,
            rssi=int(-58 + rng.integers(-3, 4)),
            level=3,
        )
    return start


@pytest.mark.anyio
async def test_every_route_needs_a_key(http: httpx.AsyncClient) -> None:
    for path in ("/v1/analytics/anomalies?twin=device:p1", "/v1/analytics/narrator"):
        response = await http.get(path)
        assert response.status_code == 401
        assert response.json()["error"] == "gateway:authentication.failed"


@pytest.mark.anyio
async def test_the_planted_drop_is_found_through_the_api(
    http: httpx.AsyncClient, keys: dict[str, str], planted: float
) -> None:
    response = await http.get(
        "/v1/analytics/anomalies",
        params={"twin": "device:p1", "window": 3600},
        headers=bearer(keys["alpha"]),
    )
    assert response.status_code == 200, response.text
    found = response.json()["anomalies"]
    drops = [a for a in found if a["kind"] == "drop"]
    assert len(drops) == 1 and found == drops, found
    drop = drops[0]
    assert drop["series"] == "rsrp from cell:lte-00101-9"
    assert drop["start"] == iso(planted + 150)
    assert drop["delta"] == pytest.approx(-15, abs=2)
    assert drop["path"] == "/relationships/device:p1~cell:lte-00101-9/properties/rsrp"
    assert drop["evidence"]["points"]


@pytest.mark.anyio
async def test_another_tenant_cannot_read_the_twin(
    http: httpx.AsyncClient, keys: dict[str, str], planted: float
) -> None:
    response = await http.get(
        "/v1/analytics/describe", params={"twin": "device:p1"}, headers=bearer(keys["beta"])
    )
    assert response.status_code == 404


@pytest.mark.anyio
async def test_describe_and_forecast_of_the_device(
    http: httpx.AsyncClient, keys: dict[str, str], planted: float
) -> None:
    described = (
        await http.get(
            "/v1/analytics/describe", params={"twin": "device:p1"}, headers=bearer(keys["alpha"])
        )
    ).json()
    rsrp = next(m for m in described["metrics"] if m["metric"] == "rsrp")
    assert rsrp["count"] == 300
    assert rsrp["p05"] < -100 < -95 < rsrp["p95"]
    forecasts = (
        await http.get(
            "/v1/analytics/forecast",
            params={"twin": "device:p1", "horizon": 10},
            headers=bearer(keys["alpha"]),
        )
    ).json()["forecasts"]
    cell = next(f for f in forecasts if f["series"] == "rsrp from cell:lte-00101-9")
    assert cell["forecast"][-1]["value"] == pytest.approx(-105, abs=3)
    assert cell["error"]["holdout"] > 0 and cell["error"]["baselineMae"] > 0


@pytest.mark.anyio
async def test_recommendation_for_a_device(
    http: httpx.AsyncClient, keys: dict[str, str], planted: float
) -> None:
    response = await http.post(
        "/v1/analytics/recommend",
        json={"device": "device:p1", "size": 100_000, "urgency": "normal"},
        headers=bearer(keys["alpha"]),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["recommended"] == "wifi"
    assert [c["interface"] for c in answer["ranking"]][:2] == ["wifi", "cellular"]
    cellular = answer["ranking"][1]
    assert cellular["link"]["sourceId"] == "cell:lte-00101-9"
    assert answer["reasons"] and answer["message"]["deadlineSeconds"] == 60
    bad = await http.post(
        "/v1/analytics/recommend",
        json={"device": "device:p1", "size": -1},
        headers=bearer(keys["alpha"]),
    )
    assert bad.status_code == 400


@pytest.mark.anyio
async def test_a_scope_is_required_and_the_narrator_is_off(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await http.get("/v1/analytics/anomalies", headers=bearer(keys["alpha"]))
    assert response.status_code == 400
    state = (await http.get("/v1/analytics/narrator", headers=bearer(keys["alpha"]))).json()
    assert state == {"enabled": False, "model": None}
    narrated = await http.post(
        "/v1/analytics/narrate", json={"result": {"anomalies": []}}, headers=bearer(keys["alpha"])
    )
    assert narrated.status_code == 503
    assert narrated.json()["error"] == "analytics:narrator.disabled"
