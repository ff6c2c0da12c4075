"""TaskTwinService over loopback gRPC: transfer and split of UTT task twins as operations,
with provenance, cancellation and tenant isolation."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import torch
from google.longrunning import operations_pb2_grpc as lro_grpc
from google.longrunning import operations_proto_pb2 as lro
from google.rpc import code_pb2

from server.core.batch import TwinUpsert
from server.core.catalog import ModelCatalog
from server.core.service import Core
from server.core.tasks import DERIVED_FROM, TASK_MODELS
from server.grpc.gen.ndtwin.v1 import graph_pb2, tasks_pb2, tasks_pb2_grpc
from server.grpc.serde import json_from_struct
from tests.server.grpc.conftest import Tenant
from utt import ops
from utt.data.generator import GeneratorConfig, generate
from utt.data.splits import WindowConfig
from utt.nets.config import NetConfig

pytestmark = pytest.mark.anyio

#: Small enough that one federated round takes a fraction of a second on one thread.
TINY = ops.OperationConfig(
    window=WindowConfig(length=10, stride=5, eval_stride=5),
    net=NetConfig(window=10, d_model=16, layers=1, heads=2),
    rounds=1,
    threads=1,
)
FAST = tasks_pb2.TrainingOptions(rounds=1, batch_size=64)


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two generated local areas, three short walks each."""
    root = tmp_path_factory.mktemp("vifi")
    torch.set_num_threads(1)
    cfg = GeneratorConfig(areas=2, sequences_per_area=3, duration_s=12.0, seed=3)
    return generate(root, cfg).root


@pytest.fixture(scope="module")
def vision_model(stream: Path, tmp_path_factory: pytest.TempPathFactory) -> ops.NewTwin:
    """A trained vision twin model (an auto-encoder of the camera stream)."""
    return ops.create_twin(stream, "vision", tmp_path_factory.mktemp("models"), TINY).twins[0]


def task_twin(
    catalog: ModelCatalog, modality: str, stream: Path, model: ops.NewTwin | None
) -> dict[str, Any]:
    """A valid task twin document of ``modality`` over ``stream``."""
    entry = catalog.by_name(TASK_MODELS[modality])
    assert entry is not None
    doc = entry.skeleton()
    doc["attributes"].update(localArea="area-0", streamUri=str(stream))
    if model is not None:
        doc["attributes"]["modelArtifact"] = {
            "uri": str(model.artifact),
            "sha256": model.sha256,
            "framework": "pytorch",
            "createdAt": time.time(),
            "operation": "direct",
            "inputModalities": [modality],
            "metrics": {"nmse": model.metrics["test_nmse"]},
        }
    return doc


def add_sources(core: Core, tenant: Tenant, stream: Path, model: ops.NewTwin) -> tuple[str, str]:
    """A vision twin with a model and a sensory twin without one, in ``tenant``."""
    caller = core.tenants.authenticate(tenant.key)
    catalog = core.catalog
    assert catalog is not None
    core.batch.upsert(
        caller,
        [
            TwinUpsert("utt:cam-1", task_twin(catalog, "vision", stream, model)),
            TwinUpsert("utt:imu-1", task_twin(catalog, "sensory", stream, None)),
        ],
    )
    return "utt:cam-1", "utt:imu-1"


def check_new_twin(
    core: Core, tenant: Tenant, data_dir: Path, item: tasks_pb2.TaskTwin, sources: list[str]
) -> dict[str, Any]:
    """The twin is stored, typed by its modality's model, its artifact is on disk with the
    recorded digest, and it points at each source with ``derivedFrom``."""
    caller = core.tenants.authenticate(tenant.key)
    thing_id = item.twin.removeprefix(f"tenants/{tenant.name}/twins/")
    doc = core.twins.get_record(caller, thing_id).doc
    entry = core.catalog.by_name(TASK_MODELS[item.modality]) if core.catalog else None
    assert entry is not None and doc["definition"] == entry.tm_url
    artifact = doc["attributes"]["modelArtifact"]
    path = data_dir / artifact["uri"]
    assert path.is_file() and path.is_relative_to(data_dir / "artifacts" / tenant.name)
    assert artifact["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256
    assert artifact["uri"] == item.artifact_uri
    assert artifact["metrics"] == json_from_struct(item.metrics)
    assert artifact["metrics"]["nmse"] > 0 and artifact["metrics"]["rounds"] == 1
    derived, _ = core.relationships.list(caller, source=thing_id)
    assert sorted((r.type, r.target) for r in derived) == sorted((DERIVED_FROM, s) for s in sources)
    return doc


async def wait_done(ops_stub: lro_grpc.OperationsStub, name: str, tenant: Tenant) -> lro.Operation:
    for _ in range(600):
        op = await ops_stub.GetOperation(lro.GetOperationRequest(name=name), metadata=tenant.md)
        if op.done:
            return op
        await asyncio.sleep(0.05)
    raise AssertionError("the operation did not finish")


async def test_transfer_and_split_write_new_twins_with_provenance(
    channel: grpc.aio.Channel,
    core: Core,
    alpha: Tenant,
    tmp_path: Path,
    stream: Path,
    vision_model: ops.NewTwin,
) -> None:
    cam, _ = add_sources(core, alpha, stream, vision_model)
    tasks = tasks_pb2_grpc.TaskTwinServiceStub(channel)
    operations = lro_grpc.OperationsStub(channel)
    started = await tasks.TransferTwin(
        tasks_pb2.TransferTwinRequest(
            parent=alpha.parent,
            source=alpha.twin(cam),
            target_modality="wireless",
            target_twin_id="utt:ftm-new",
            options=FAST,
        ),
        metadata=alpha.md,
    )
    assert started.name.startswith("operations/")
    done = await wait_done(operations, started.name, alpha)
    assert not done.HasField("error"), done.error
    meta = graph_pb2.OperationMetadata()
    assert done.metadata.Unpack(meta)
    assert (meta.verb, meta.target, meta.progress_percent) == (
        "transferTwin",
        alpha.twin(cam),
        100,
    )
    response = tasks_pb2.TaskTwinsResponse()
    assert done.response.Unpack(response)
    assert (response.operation, response.function) == ("transfer", "transfer:vision->wireless")
    assert list(response.sources) == [alpha.twin(cam)]
    [item] = response.twins
    assert (item.twin, item.modality) == (alpha.twin("utt:ftm-new"), "wireless")
    # The source's encoder seeded the new model.
    assert json_from_struct(response.metrics)["reused_parameters"] > 0
    doc = check_new_twin(core, alpha, tmp_path, item, [cam])
    assert doc["attributes"]["modelArtifact"]["operation"] == "transfer"
    assert doc["attributes"]["localArea"] == "area-0"

    split = await tasks.SplitTwin(
        tasks_pb2.SplitTwinRequest(
            parent=alpha.parent,
            source=alpha.twin(cam),
            target_modalities=["wireless", "sensory"],
            options=FAST,
        ),
        metadata=alpha.md,
    )
    done = await wait_done(operations, split.name, alpha)
    assert done.response.Unpack(response)
    assert [t.modality for t in response.twins] == ["wireless", "sensory"]
    names = {check_new_twin(core, alpha, tmp_path, t, [cam])["thingId"] for t in response.twins}
    assert len(names) == 2 and all(n.startswith("utt:split-") for n in names)


async def test_requests_are_checked_before_an_operation_starts(
    channel: grpc.aio.Channel,
    core: Core,
    alpha: Tenant,
    beta: Tenant,
    stream: Path,
    vision_model: ops.NewTwin,
) -> None:
    cam, imu = add_sources(core, alpha, stream, vision_model)
    tasks = tasks_pb2_grpc.TaskTwinServiceStub(channel)
    cases = [
        # Another tenant's twins read as absent, whether named under its parent or ours.
        (
            beta,
            tasks_pb2.TransferTwinRequest(
                parent=beta.parent, source=beta.twin(cam), target_modality="wireless"
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            beta,
            tasks_pb2.TransferTwinRequest(
                parent=alpha.parent, source=alpha.twin(cam), target_modality="wireless"
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            alpha,
            tasks_pb2.TransferTwinRequest(
                parent=alpha.parent, source=alpha.twin(cam), target_modality="vision"
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            alpha,
            tasks_pb2.TransferTwinRequest(
                parent=alpha.parent, source=alpha.twin(cam), target_modality="lidar"
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            alpha,
            tasks_pb2.TransferTwinRequest(
                parent=alpha.parent,
                source=alpha.twin(cam),
                target_modality="sensory",
                target_twin_id=imu,
            ),
            grpc.StatusCode.ALREADY_EXISTS,
        ),
    ]
    for tenant, request, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await tasks.TransferTwin(request, metadata=tenant.md)
        assert info.value.code() is code, (request, info.value.details())
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await tasks.MergeTwins(
            tasks_pb2.MergeTwinsRequest(
                parent=alpha.parent, sources=[alpha.twin(cam)], target_modality="wireless"
            ),
            metadata=alpha.md,
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    # A source artifact whose bytes changed is refused rather than trained on.
    caller = core.tenants.authenticate(alpha.key)
    core.batch.upsert(
        caller, [TwinUpsert(cam, {"attributes": {"modelArtifact": {"sha256": "0" * 64}}})]
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await tasks.TransferTwin(
            tasks_pb2.TransferTwinRequest(
                parent=alpha.parent, source=alpha.twin(cam), target_modality="wireless"
            ),
            metadata=alpha.md,
        )
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_cancelled_operation_leaves_no_twin_and_is_private(
    channel: grpc.aio.Channel,
    core: Core,
    alpha: Tenant,
    beta: Tenant,
    tmp_path: Path,
    stream: Path,
    vision_model: ops.NewTwin,
) -> None:
    cam, _ = add_sources(core, alpha, stream, vision_model)
    tasks = tasks_pb2_grpc.TaskTwinServiceStub(channel)
    operations = lro_grpc.OperationsStub(channel)
    op = await tasks.TransferTwin(
        tasks_pb2.TransferTwinRequest(
            parent=alpha.parent,
            source=alpha.twin(cam),
            target_modality="wireless",
            target_twin_id="utt:never",
            options=tasks_pb2.TrainingOptions(rounds=500, batch_size=64),
        ),
        metadata=alpha.md,
    )
    meta = graph_pb2.OperationMetadata()
    for _ in range(600):  # wait until at least one round ran
        polled = await operations.GetOperation(
            lro.GetOperationRequest(name=op.name), metadata=alpha.md
        )
        polled.metadata.Unpack(meta)
        if meta.progress_percent > 0 or polled.done:
            break
        await asyncio.sleep(0.05)
    assert not polled.done and 0 < meta.progress_percent < 98
    assert meta.status_message.startswith("transfer: round ")
    for call in (
        operations.GetOperation(lro.GetOperationRequest(name=op.name), metadata=beta.md),
        operations.CancelOperation(lro.CancelOperationRequest(name=op.name), metadata=beta.md),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() is grpc.StatusCode.NOT_FOUND
    await operations.CancelOperation(lro.CancelOperationRequest(name=op.name), metadata=alpha.md)
    done = await wait_done(operations, op.name, alpha)
    assert done.error.code == code_pb2.CANCELLED
    caller = core.tenants.authenticate(alpha.key)
    assert core.store.get_twin(caller.tenant, "utt:never") is None  # type: ignore[arg-type]
    assert not list((tmp_path / "artifacts" / "alpha").glob("**/*.pt"))
