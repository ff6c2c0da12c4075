"""Merge and split of UTT task twins through the ``/v1`` REST custom methods."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from server.core.batch import TwinUpsert
from server.core.service import Core
from server.core.tasks import DERIVED_FROM, TASK_MODELS
from server.settings import Settings
from tests.server.rest_v1.conftest import bearer
from utt import ops
from utt.data.generator import GeneratorConfig, generate
from utt.data.splits import WindowConfig
from utt.nets.config import NetConfig

pytestmark = pytest.mark.anyio

TINY = ops.OperationConfig(
    window=WindowConfig(length=10, stride=5, eval_stride=5),
    net=NetConfig(window=10, d_model=16, layers=1, heads=2),
    rounds=1,
    threads=1,
)
FAST = {"rounds": 1, "batchSize": 64}


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two generated local areas, three short walks each."""
    torch.set_num_threads(1)
    cfg = GeneratorConfig(areas=2, sequences_per_area=3, duration_s=12.0, seed=5)
    return generate(tmp_path_factory.mktemp("vifi"), cfg).root


@pytest.fixture(scope="module")
def models(stream: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ops.NewTwin]:
    """Trained vision and wireless twin models."""
    out = tmp_path_factory.mktemp("models")
    return {m: ops.create_twin(stream, m, out, TINY).twins[0] for m in ("vision", "wireless")}


def _twin(core: Core, modality: str, stream: Path, model: ops.NewTwin) -> dict[str, Any]:
    entry = core.catalog.by_name(TASK_MODELS[modality]) if core.catalog else None
    assert entry is not None
    doc = entry.skeleton()
    doc["attributes"].update(
        localArea="hall",
        streamUri=str(stream),
        modelArtifact={
            "uri": str(model.artifact),
            "sha256": model.sha256,
            "framework": "pytorch",
            "createdAt": time.time(),
            "operation": "direct",
            "inputModalities": [modality],
        },
    )
    return doc


async def _done(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    for _ in range(600):
        op = await http.get(f"/v1/{name}")
        assert op.status_code == 200, op.text
        if op.json().get("done"):
            return dict(op.json())
        await asyncio.sleep(0.05)
    raise AssertionError("the operation did not finish")


async def test_merge_and_split_over_rest(
    http: httpx.AsyncClient,
    core: Core,
    keys: dict[str, str],
    settings: Settings,
    stream: Path,
    models: dict[str, ops.NewTwin],
) -> None:
    alpha = core.tenants.authenticate(keys["alpha"])
    core.batch.upsert(
        alpha,
        [
            TwinUpsert("lab:cam", _twin(core, "vision", stream, models["vision"])),
            TwinUpsert("lab:ftm", _twin(core, "wireless", stream, models["wireless"])),
        ],
    )
    started = await http.post(
        "/v1/tenants/alpha/twins:merge",
        json={
            "sources": ["tenants/alpha/twins/lab:cam", "tenants/alpha/twins/lab:ftm"],
            "targetModality": "sensory",
            "targetTwinId": "lab:imu",
            "options": FAST,
        },
    )
    assert started.status_code == 200, started.text
    op = await _done(http, started.json()["name"])
    assert "error" not in op, op
    assert op["metadata"]["verb"] == "mergeTwins" and op["metadata"]["progressPercent"] == 100
    response = op["response"]
    assert response["function"] == "merge:vision+wireless->sensory"
    assert response["sources"] == ["tenants/alpha/twins/lab:cam", "tenants/alpha/twins/lab:ftm"]
    [item] = response["twins"]
    assert item["twin"] == "tenants/alpha/twins/lab:imu"

    twin = await http.get("/v1/tenants/alpha/twins/lab:imu")
    assert twin.status_code == 200, twin.text
    body = twin.json()
    entry = core.catalog.by_name("TrackingTwin") if core.catalog else None
    assert entry is not None and body["definition"] == entry.tm_url
    artifact = body["attributes"]["modelArtifact"]
    on_disk = Path(settings.data_dir) / artifact["uri"]
    assert artifact["sha256"] == item["sha256"] == hashlib.sha256(on_disk.read_bytes()).hexdigest()
    assert artifact["inputModalities"] == ["vision", "wireless"]
    assert artifact["metrics"]["nmse"] == item["metrics"]["nmse"] > 0
    rels = await http.get(
        "/v1/tenants/alpha/relationships",
        params={"filter": 'source = "tenants/alpha/twins/lab:imu"'},
    )
    assert sorted((r["type"], r["target"]) for r in rels.json()["relationships"]) == [
        (DERIVED_FROM, "tenants/alpha/twins/lab:cam"),
        (DERIVED_FROM, "tenants/alpha/twins/lab:ftm"),
    ]

    split = await http.post(
        "/v1/tenants/alpha/twins:split",
        json={
            "source": "tenants/alpha/twins/lab:ftm",
            "targetModalities": ["vision", "sensory"],
            "targetTwinIds": ["lab:cam-2", "lab:imu-2"],
            "options": FAST,
        },
    )
    op = await _done(http, split.json()["name"])
    assert [t["twin"] for t in op["response"]["twins"]] == [
        "tenants/alpha/twins/lab:cam-2",
        "tenants/alpha/twins/lab:imu-2",
    ]
    for name in ("lab:cam-2", "lab:imu-2"):
        got = await http.get(f"/v1/tenants/alpha/twins/{name}")
        assert got.json()["attributes"]["modelArtifact"]["operation"] == "split"

    # Tenant beta sees neither the operation nor alpha's twins.
    other = bearer(keys["beta"])
    assert (await http.get(f"/v1/{split.json()['name']}", headers=other)).status_code == 404
    refused = await http.post(
        "/v1/tenants/beta/twins:transfer",
        headers=other,
        json={
            "source": "tenants/beta/twins/lab:cam",
            "targetModality": "sensory",
        },
    )
    assert refused.status_code == 404, refused.text
    bad = await http.post(
        "/v1/tenants/alpha/twins:transfer",
        json={
            "source": "tenants/alpha/twins/lab:cam",
            "targetModality": "vision",
        },
    )
    assert bad.status_code == 400, bad.text
