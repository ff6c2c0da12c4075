"""utt.nets: encoders, decoders and the twin network."""

from __future__ import annotations

import pytest
import torch

from utt.functions import DEFAULT_FUNCTIONS, MERGE, SPLIT, Function, transfer
from utt.nets.config import NetConfig
from utt.nets.decoders import ModalityDecoder
from utt.nets.encoders import ModalityEncoder
from utt.nets.model import TwinNet, warm_start

CFG = NetConfig(window=10, d_model=16, layers=1, heads=2)
SIZES = {"vision": 5, "wireless": 2, "sensory": 9}


def _batch(n: int = 4) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    torch.manual_seed(1)
    x = {m: torch.randn(n, CFG.window, k) for m, k in SIZES.items()}
    mask = {m: torch.ones(n, CFG.window, dtype=torch.bool) for m in SIZES}
    return x, mask


def test_encoder_halves_time_and_sees_the_mask() -> None:
    enc = ModalityEncoder(5, CFG)
    x, mask = _batch()
    z = enc(x["vision"], mask["vision"])
    assert z.shape == (4, CFG.latent_length, CFG.d_model)
    hidden = mask["vision"].clone()
    hidden[:, :3] = False
    assert not torch.allclose(z, enc(x["vision"], hidden))


def test_decoder_restores_frames_and_starts_at_the_mean() -> None:
    dec = ModalityDecoder(9, CFG)
    out = dec(torch.randn(4, CFG.latent_length, CFG.d_model))
    assert out.shape == (4, CFG.window, 9)
    assert torch.count_nonzero(out) == 0  # zero-initialised head: predicts the mean


def test_unified_model_serves_every_function() -> None:
    model = TwinNet(CFG, DEFAULT_FUNCTIONS, "attention")
    x, mask = _batch()
    out = model(x, mask)
    assert set(out) == {f.name for f in DEFAULT_FUNCTIONS}
    assert set(out[SPLIT.name]) == {"wireless", "sensory"}
    assert out[MERGE.name]["wireless"].shape == (4, CFG.window, 2)
    assert model.sources == ("vision", "wireless", "sensory")


def test_direct_models_have_no_fusor_and_one_source() -> None:
    model = TwinNet(CFG, [transfer("vision", "sensory")], None)
    assert model.fusor is None and not hasattr(model, "queries")
    with pytest.raises(ValueError):
        TwinNet(CFG, [MERGE], None)
    with pytest.raises(ValueError):
        TwinNet(CFG, [], "add")


def test_add_and_average_are_different_models() -> None:
    x, mask = _batch()
    outs = []
    for name in ("add", "average"):
        torch.manual_seed(0)
        model = TwinNet(CFG, [MERGE], name)
        with torch.no_grad():
            for p in model.decoders["wireless"].up[-1].parameters():
                p.fill_(0.1)
        outs.append(model(x, mask)[MERGE.name]["wireless"])
    assert not torch.allclose(outs[0], outs[1])


def test_warm_start_copies_only_matching_encoders_and_decoders() -> None:
    torch.manual_seed(0)
    base = TwinNet(CFG, [Function("identity", ("vision",), ("vision",))], None)
    torch.manual_seed(1)
    new = TwinNet(CFG, [transfer("vision", "wireless")], "gating")
    copied = warm_start(new, base.state_dict())
    assert copied and all(k.startswith("encoders.vision.") for k in copied)
    for k in copied:
        torch.testing.assert_close(new.state_dict()[k], base.state_dict()[k])
    assert "decoders.vision.up.4.weight" not in new.state_dict()


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        NetConfig(window=9)
    with pytest.raises(ValueError):
        NetConfig(d_model=10, heads=4)
