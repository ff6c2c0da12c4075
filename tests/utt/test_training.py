"""utt.training: masked loss, weights, a training run, the mean baseline."""

from __future__ import annotations

import pytest
import torch

from utt.data.windows import EncodedWindows
from utt.functions import DEFAULT_FUNCTIONS, MERGE, SPLIT, transfer
from utt.metrics import total
from utt.nets.config import NetConfig
from utt.nets.model import TwinNet
from utt.progress import CancelToken, OperationCancelled, ProgressEvent
from utt.training import (
    TrainConfig,
    evaluate,
    function_weights,
    loss,
    mean_predictor,
    predict,
    train,
)

CFG = NetConfig(window=10, d_model=16, layers=1, heads=2)


def _learnable(n: int = 96) -> EncodedWindows:
    """wireless = a smoothed copy of vision's depth: a mapping a model can learn."""
    g = torch.Generator().manual_seed(0)
    vision = torch.randn(n, 10, 5, generator=g)
    wireless = torch.stack([vision[..., 2], 0.5 * vision[..., 2]], dim=-1)
    sensory = torch.randn(n, 10, 9, generator=g)
    x = {"vision": vision, "wireless": wireless, "sensory": sensory}
    return EncodedWindows(x, {m: torch.ones(n, 10, dtype=torch.bool) for m in x})


def test_weights_share_one_unit_among_transfers() -> None:
    w = function_weights(DEFAULT_FUNCTIONS)
    assert sum(v for k, v in w.items() if k.startswith("transfer")) == pytest.approx(1.0)
    assert w[MERGE.name] == w[SPLIT.name] == 1.0
    assert function_weights([transfer("vision", "wireless")]) == {"transfer:vision->wireless": 1.0}


def test_loss_ignores_masked_frames() -> None:
    data = _learnable(2)
    f = transfer("vision", "wireless")
    out = {f.name: {"wireless": data.x["wireless"].clone()}}
    out[f.name]["wireless"][:, 0] += 100.0
    mask = {k: v.clone() for k, v in data.mask.items()}
    mask["wireless"][:, 0] = False
    assert loss(out, EncodedWindows(data.x, mask), [f]).item() == 0.0
    assert loss(out, data, [f]).item() > 0.0


def test_training_learns_a_learnable_mapping() -> None:
    data = _learnable()
    f = transfer("vision", "wireless")
    torch.manual_seed(0)
    model = TwinNet(CFG, [f], "gating")
    before = total(evaluate(model, data, [f])).nmse
    events: list[ProgressEvent] = []
    stats = train(model, data, TrainConfig(epochs=15, lr=3e-3), progress=events.append)
    after = total(evaluate(model, data, [f])).nmse
    assert before == pytest.approx(1.0, abs=1e-6)  # zero-initialised head = the mean
    assert after < 0.5 * before
    assert stats.windows == 15 * 96 and stats.steps == 15 * 3
    assert [e.done for e in events] == list(range(1, 16))


def test_max_batches_caps_local_steps() -> None:
    data = _learnable()
    model = TwinNet(CFG, [transfer("vision", "wireless")], "add")
    stats = train(model, data, TrainConfig(epochs=2, max_batches=1))
    assert stats.steps == 2 and stats.windows == 64


def test_cancel_stops_training() -> None:
    token = CancelToken()
    token.cancel()
    model = TwinNet(CFG, [transfer("vision", "wireless")], "add")
    with pytest.raises(OperationCancelled):
        train(model, _learnable(), TrainConfig(), cancel=token)


def test_mean_predictor_scores_exactly_one() -> None:
    sums = evaluate(mean_predictor(DEFAULT_FUNCTIONS), _learnable(8), DEFAULT_FUNCTIONS)
    assert set(sums) == {f"{f.name}|{t}" for f in DEFAULT_FUNCTIONS for t in f.targets}
    for s in sums.values():
        assert s.nmse == pytest.approx(1.0)


def test_predict_batches_match_one_pass() -> None:
    data = _learnable(10)
    model = TwinNet(CFG, [SPLIT], "max")
    torch.nn.init.normal_(model.decoders["sensory"].up[-1].weight)
    a = predict(model, data, batch_size=3)[SPLIT.name]["sensory"]
    b = predict(model, data, batch_size=100)[SPLIT.name]["sensory"]
    torch.testing.assert_close(a, b)
