"""utt.ops: the public operations on task twins, end to end on generated areas."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from utt import ops
from utt.artifacts import load_model
from utt.data.splits import WindowConfig, build_areas
from utt.nets.config import NetConfig
from utt.progress import CancelToken, OperationCancelled, ProgressEvent


@pytest.fixture(scope="module")
def config(tiny_net: NetConfig, tiny_window: WindowConfig) -> ops.OperationConfig:
    return ops.OperationConfig(window=tiny_window, net=tiny_net, rounds=2, threads=1, lr=3e-3)


@pytest.fixture(scope="module")
def vision_twin(
    root: Path, config: ops.OperationConfig, tmp_path_factory: pytest.TempPathFactory
) -> ops.OperationResult:
    return ops.create_twin(root, "vision", tmp_path_factory.mktemp("twins"), config)


def test_create_twin_writes_a_hashed_artifact(vision_twin: ops.OperationResult) -> None:
    twin = vision_twin.twins[0]
    assert (twin.modality, twin.twin) == ("vision", "trajectory")
    assert twin.sha256 == hashlib.sha256(twin.artifact.read_bytes()).hexdigest()
    assert vision_twin.function == "identity:vision->vision"
    m = vision_twin.metrics
    assert m["rounds"] == 2 and len(m["val_curve"]) == 3 and m["bytes"] > 0
    assert m["test_nmse"] < 1.0  # an auto-encoder of its own stream beats the mean


def test_split_reuses_the_source_twin_and_records_provenance(
    root: Path, vision_twin: ops.OperationResult, config: ops.OperationConfig, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    source = ops.TwinRef("vision", vision_twin.twins[0].artifact, twin_id="site:cam-1")
    result = ops.split(root, source, "wireless", "sensory", tmp_path, config, events.append)
    assert result.operation == "split" and result.sources == (source,)
    assert [t.modality for t in result.twins] == ["wireless", "sensory"]
    assert result.metrics["reused_parameters"] > 0
    assert [e.done for e in events] == [1, 2]
    for twin in result.twins:
        loaded = load_model(twin.artifact)
        assert loaded.model.targets == (twin.modality,)
        assert loaded.metadata["sources"][0]["twin_id"] == "site:cam-1"
        assert loaded.metadata["function"] == "split:vision->wireless+sensory"
        assert twin.metrics["test_nmse"] > 0
    assert result.twins[0].artifact != result.twins[1].artifact


def test_transfer_and_merge(root: Path, config: ops.OperationConfig, tmp_path: Path) -> None:
    t = ops.transfer(root, "wireless", "vision", tmp_path, config)
    assert t.function == "transfer:wireless->vision"
    # The model kept is the one that validated best, never worse than where it started.
    assert t.metrics["val_nmse"] == min(t.metrics["val_curve"]) <= t.metrics["val_curve"][0]
    m = ops.merge(root, "vision", "sensory", ops.TwinRef("wireless"), tmp_path, config)
    assert m.function == "merge:vision+sensory->wireless"
    assert load_model(m.twins[0].artifact).model.sources == ("vision", "sensory")


def test_predict_returns_physical_units(
    root: Path, tmp_path: Path, config: ops.OperationConfig, tiny_window: WindowConfig
) -> None:
    t = ops.transfer(root, "vision", "wireless", tmp_path, config)
    test = build_areas(root, window=tiny_window)[1].test
    out = ops.predict(t.twins[0].artifact, test)
    assert out["wireless"].shape == test.data["wireless"].shape
    # Ranges in metres, around the measured ones.
    assert 0.0 < np.median(out["wireless"][..., 0]) < 25.0
    with pytest.raises(ValueError, match="lack"):
        ops.predict(t.twins[0].artifact, test.__class__({"wireless": test.data["wireless"]}))


def test_cancel_stops_an_operation(root: Path, config: ops.OperationConfig, tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        ops.transfer(root, "vision", "wireless", tmp_path, config, cancel=token)
    assert not list(tmp_path.glob("*.pt"))


def test_bad_inputs(root: Path, config: ops.OperationConfig, tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        ops.TwinRef("lidar")
    with pytest.raises(ValueError):
        ops.transfer(root, "vision", "vision", tmp_path, config)
    with pytest.raises(ValueError, match="transport"):
        ops.transfer(
            root,
            "vision",
            "wireless",
            tmp_path,
            ops.OperationConfig(transport="carrier-pigeon", threads=1),
        )  # type: ignore[arg-type]


def test_operations_leave_the_callers_thread_setting(
    root: Path, config: ops.OperationConfig, tmp_path: Path
) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ops.transfer(root, "vision", "wireless", tmp_path, config)  # config asks for 1 thread
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
