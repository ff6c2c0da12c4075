"""Reuse of existing twins: frozen encoders, latents computed once, drift correction."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from utt import ops
from utt.artifacts import load_model
from utt.baselines import CentralFit
from utt.data.splits import AreaData, WindowConfig, build_areas
from utt.data.windows import Normalizer
from utt.evaluation.runner import equal_nmse
from utt.federated.client import AreaClient, ModelSpec
from utt.federated.fit import federated_normalizer, reuse_start
from utt.federated.messages import Instruction
from utt.federated.strategies import FedAvg
from utt.federated.strategy import History, RoundRecord
from utt.federated.transport import InProcessTransport
from utt.functions import MERGE, SPLIT, Function
from utt.nets.config import NetConfig
from utt.nets.model import TwinNet
from utt.reuse import (
    CONTROL_PREFIX,
    encoder_state,
    freeze_encoders,
    full_state,
    trainable_state,
    uses_frozen_encoders,
    with_latents,
)
from utt.training import TrainConfig, loss, outputs, train


@pytest.fixture(scope="module")
def areas(root: Path, tiny_window: WindowConfig) -> list[AreaData]:
    return build_areas(root, window=tiny_window)


@pytest.fixture(scope="module")
def normalizer(areas: list[AreaData]) -> Normalizer:
    return Normalizer.from_moments(a.moments() for a in areas)


def _model(net: NetConfig, fn: Function = MERGE) -> TwinNet:
    torch.manual_seed(3)
    return ModelSpec(net, (fn,), "gating").build()


def test_cached_latents_equal_live_encoder_outputs(
    areas: list[AreaData], normalizer: Normalizer, tiny_net: NetConfig
) -> None:
    model = _model(tiny_net)
    data = normalizer.encode(areas[0].train)
    cached = with_latents(model, data, ("vision", "sensory"), batch_size=7)
    model.eval()
    with torch.no_grad():
        live = model.encode(data.x, data.mask, ("vision", "sensory"))
        for m in ("vision", "sensory"):
            torch.testing.assert_close(cached.latents[m], live[m], rtol=1e-5, atol=1e-6)
        # The sources' raw inputs are no longer carried; the target is (the loss reads it).
        assert set(cached.x) == {"wireless"}
        # Decoding from the cache gives the network's own outputs.
        torch.testing.assert_close(
            outputs(model, cached, (MERGE,))[MERGE.name]["wireless"],
            model(data.x, data.mask)[MERGE.name]["wireless"],
            rtol=1e-5,
            atol=1e-6,
        )
        # Slicing keeps windows and latents aligned.
        idx = torch.tensor([4, 0, 2])
        part = cached.take(idx)
        torch.testing.assert_close(part.latents["vision"], live["vision"][idx])


def test_freezing_leaves_encoders_out_of_training(
    areas: list[AreaData], normalizer: Normalizer, tiny_net: NetConfig
) -> None:
    model = _model(tiny_net)
    names = freeze_encoders(model, ("vision", "sensory"))
    assert names and all(n.startswith(("encoders.vision.", "encoders.sensory.")) for n in names)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = with_latents(model, normalizer.encode(areas[0].train), ("vision", "sensory"))
    train(model, data, TrainConfig(epochs=1, lr=1e-2, max_batches=3))
    after = model.state_dict()
    for k in before:
        if k.startswith("encoders."):
            assert torch.equal(before[k], after[k]), k
    assert not torch.equal(before["fusor.gate.weight"], after["fusor.gate.weight"])
    with pytest.raises(ValueError, match="no encoder"):
        freeze_encoders(model, ("wireless",))


def test_mean_gradient_and_correction_are_exact(
    areas: list[AreaData], normalizer: Normalizer, tiny_net: NetConfig
) -> None:
    model = _model(tiny_net)
    freeze_encoders(model, ("vision", "sensory"))
    data = with_latents(model, normalizer.encode(areas[0].train), ("vision", "sensory"))
    n = len(data)
    # One full-batch step, no clipping: the mean gradient is the gradient at the start.
    cfg = TrainConfig(epochs=1, batch_size=n, lr=1.0, clip=0.0)
    named = {k: p for k, p in model.named_parameters() if p.requires_grad}
    value = loss(outputs(model, data, (MERGE,)), data, (MERGE,))
    grads = dict(zip(named, torch.autograd.grad(value, list(named.values())), strict=True))
    start = {k: p.detach().clone() for k, p in named.items()}
    correction = {k: torch.full_like(p, 0.01) for k, p in named.items()}
    mean: dict[str, torch.Tensor] = {}
    sgd = torch.optim.SGD(list(named.values()), lr=1.0)
    train(model, data, cfg, optimizer=sgd, correction=correction, mean_grad=mean)
    for k, p in named.items():
        torch.testing.assert_close(mean[k], grads[k], rtol=1e-4, atol=1e-6)
        # SGD with lr 1: x - (g + correction).
        torch.testing.assert_close(p.detach(), start[k] - grads[k] - 0.01, rtol=1e-4, atol=1e-5)


def _clients(
    areas: list[AreaData], spec: ModelSpec, frozen: tuple[str, ...], drift: bool
) -> list[AreaClient]:
    cfg = TrainConfig(epochs=1, lr=3e-3, max_batches=2)
    return [AreaClient(a, spec, None, cfg, None, frozen, drift) for a in areas]


def test_federated_reuse_trains_only_the_new_parts(
    areas: list[AreaData], tiny_net: NetConfig
) -> None:
    spec = ModelSpec(tiny_net, (MERGE,), "gating")
    warm = _model(tiny_net)
    frozen = ("vision", "sensory")
    clients = _clients(areas, spec, frozen, drift=True)
    with InProcessTransport(clients) as transport:
        federated_normalizer(transport)
        start, setup = reuse_start(warm, frozen, True)
        assert setup is not None and set(setup.config["encoders"]) == set(
            encoder_state(warm.state_dict(), frozen)
        )
        # Only the trainable entries and their controls travel.
        assert not any(k.startswith("encoders.") for k in start)
        assert any(k.startswith(CONTROL_PREFIX) for k in start)
        history = FedAvg({"epochs": 1, "keep_optimizer": True, "lr_decay": 0.9}).run(
            transport, start, 2, setup=setup
        )
    # The encoding each area did counts in round 0.
    assert history.rounds[0].seconds > 0 and len(history.rounds) == 3
    assert set(history.state) == set(start)
    for c in clients:
        for k, v in encoder_state(warm.state_dict(), frozen).items():
            assert torch.equal(c.model.state_dict()[k], v), k  # frozen all along
    full = full_state(warm, history.best_state)
    assert set(full) == set(warm.state_dict())
    assert not any(k.startswith(CONTROL_PREFIX) for k in full)


def test_client_refuses_to_train_before_it_has_the_encoders(
    areas: list[AreaData], normalizer: Normalizer, tiny_net: NetConfig
) -> None:
    spec = ModelSpec(tiny_net, (SPLIT,), "gating")
    client = AreaClient(areas[0], spec, normalizer, frozen=("vision",))
    state = trainable_state(spec.build().state_dict(), ("vision",))
    assert set(client.template()) == set(state)
    with pytest.raises(RuntimeError, match="frozen encoders"):
        client.fit(state, {})
    with pytest.raises(ValueError, match="encoder state"):
        client.handle(Instruction("configure", {"encoders": {"encoders.vision.x": torch.ones(1)}}))


def _history(vals: list[float], seconds: float) -> History:
    h = History()
    for i, v in enumerate(vals):
        h.rounds.append(RoundRecord(i, 0.0, v, seconds, seconds / 2, 0, 0, seconds / 4))
    return h


def test_ratio_at_equal_nmse() -> None:
    central = CentralFit({}, {}, [1.0, 0.6, 0.4], 3.0, 0, 2, [0.0, 1.0, 2.0], [0.0, 0.5, 1.0])
    # UTT reaches 0.39 (better than 0.4) at round 3, after 4 x 0.5 s.
    r = equal_nmse(central, _history([1.0, 0.5, 0.45, 0.39], 0.5))
    assert r["equal_nmse"] == 0.4 and r["utt_matched_centralized"]
    assert r["centralized_s_to_equal"] == 2.0 and r["utt_s_to_equal"] == 2.0
    assert r["ratio_wall"] == 1.0 and r["ratio_critical"] == 0.5
    assert r["ratio_cpu"] == 0.5 / 1.0  # CPU seconds: 4 x 0.125 against 1.0
    # UTT stops at 0.5: both are timed to 0.5, and it is not equal NMSE.
    r = equal_nmse(central, _history([1.0, 0.5, 0.55], 0.25))
    assert r["equal_nmse"] == 0.5 and not r["utt_matched_centralized"]
    assert r["ratio_wall"] == pytest.approx(0.5 / 2.0)


def test_merge_keeps_the_source_encoders_and_finetune_still_works(
    root: Path, tiny_net: NetConfig, tiny_window: WindowConfig, tmp_path: Path
) -> None:
    cfg = ops.OperationConfig(
        window=tiny_window, net=tiny_net, rounds=2, threads=1, lr=3e-3, drift_correction=False
    )
    a = ops.create_twin(root, "vision", tmp_path / "a", cfg).twins[0].artifact
    b = ops.create_twin(root, "sensory", tmp_path / "b", cfg).twins[0].artifact
    merged = ops.merge(
        root, ops.TwinRef("vision", a), ops.TwinRef("sensory", b), "wireless", tmp_path, cfg
    )
    assert merged.metrics["frozen_encoders"] == "vision,sensory"
    # Services copy run metrics as JSON scalars or lists of numbers (server/core/tasks.py).
    for value in merged.metrics.values():
        assert isinstance(value, bool | int | float | str) or all(
            isinstance(v, int | float) for v in value
        )
    assert merged.metrics["reuse"] == "frozen"
    new = load_model(merged.twins[0].artifact).model.state_dict()
    for src in (a, b):
        for k, v in load_model(src).model.state_dict().items():
            if k.startswith("encoders."):
                assert torch.equal(new[k], v), k
    fine = ops.merge(
        root,
        ops.TwinRef("vision", a),
        ops.TwinRef("sensory", b),
        "wireless",
        tmp_path / "fine",
        ops.OperationConfig(
            window=tiny_window, net=tiny_net, rounds=2, threads=1, reuse="finetune"
        ),
    )
    assert fine.metrics["frozen_encoders"] == ""
    assert fine.metrics["reuse"] == "finetune"
    # Fine-tuning trains (and sends) the encoders too: more bytes for the same rounds.
    assert fine.metrics["bytes"] > merged.metrics["bytes"]
    with pytest.raises(ValueError, match="reuse"):
        ops.transfer(
            root,
            "vision",
            "wireless",
            tmp_path,
            ops.OperationConfig(window=tiny_window, net=tiny_net, threads=1, reuse="x"),  # type: ignore[arg-type]
        )


def test_a_merge_of_twins_without_models_freezes_nothing_and_says_so(
    root: Path, tiny_net: NetConfig, tiny_window: WindowConfig, tmp_path: Path
) -> None:
    cfg = ops.OperationConfig(window=tiny_window, net=tiny_net, rounds=1, threads=1)
    merged = ops.merge(
        root, ops.TwinRef("vision"), ops.TwinRef("sensory"), "wireless", tmp_path, cfg
    )
    assert merged.metrics["frozen_encoders"] == ""
    assert merged.metrics["reuse"] == "finetune"


def test_auto_freezes_for_merges_only() -> None:
    from utt.functions import Function, transfer

    assert uses_frozen_encoders(MERGE, "auto") and not uses_frozen_encoders(SPLIT, "auto")
    assert uses_frozen_encoders(SPLIT, "frozen") and not uses_frozen_encoders(MERGE, "finetune")
    assert uses_frozen_encoders(transfer("vision", "wireless"), "frozen")
    identity = Function("identity", ("vision",), ("vision",))
    assert not uses_frozen_encoders(identity, "frozen")
    with pytest.raises(ValueError, match="reuse mode"):
        uses_frozen_encoders(MERGE, "sometimes")
