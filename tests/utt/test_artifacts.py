"""utt.artifacts: model files, their hashes, and cutting one twin out of a split."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from utt.artifacts import load_model, save_model, sha256_file, submodel_state
from utt.data.windows import Normalizer
from utt.federated.client import ModelSpec
from utt.functions import SPLIT, transfer
from utt.nets.config import NetConfig

NORM = Normalizer({"vision": np.zeros(5, np.float32)}, {"vision": np.ones(5, np.float32)})


def test_save_load_round_trip_with_hash(tmp_path: Path, tiny_net: NetConfig) -> None:
    torch.manual_seed(0)
    spec = ModelSpec(tiny_net, (SPLIT,), "concat")
    model = spec.build()
    art = save_model(tmp_path / "m" / "split.pt", spec, model.state_dict(), NORM, {"k": 1})
    assert art.sha256 == hashlib.sha256(art.path.read_bytes()).hexdigest() == sha256_file(art.path)
    assert not list(tmp_path.glob("m/*.part"))
    loaded = load_model(art.path)
    assert loaded.spec == spec and loaded.metadata == {"k": 1}
    for k, v in model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[k], v)
    assert loaded.normalizer.std["vision"].tolist() == [1.0] * 5


def test_one_twin_cut_out_of_a_split(tiny_net: NetConfig) -> None:
    split_state = ModelSpec(tiny_net, (SPLIT,), "gating").build().state_dict()
    position = ModelSpec(tiny_net, (transfer("vision", "wireless"),), "gating")
    part = submodel_state(split_state, position)
    assert not any(k.startswith(("decoders.sensory", "queries.sensory")) for k in part)
    position.build().load_state_dict(part)
    with pytest.raises(KeyError):
        submodel_state(part, ModelSpec(tiny_net, (SPLIT,), "gating"))


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    torch.save({"format": "something-else"}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="ndtwin-utt-model"):
        load_model(tmp_path / "x.pt")
