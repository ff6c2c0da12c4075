"""utt.baselines: centralized and direct mapping on pooled windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from utt.baselines import direct_specs, fit_centralized, fit_direct, upload_bytes
from utt.data.splits import WindowConfig, build_areas
from utt.data.windows import Normalizer
from utt.federated.client import ModelSpec
from utt.functions import MERGE, SPLIT
from utt.nets.config import NetConfig
from utt.training import TrainConfig


def test_direct_specs_one_model_per_source_target_pair(tiny_net: NetConfig) -> None:
    assert sorted(direct_specs(MERGE, tiny_net)) == ["sensory->wireless", "vision->wireless"]
    specs = direct_specs(SPLIT, tiny_net)
    assert sorted(specs) == ["vision->sensory", "vision->wireless"]
    assert all(s.fusor is None for s in specs.values())


def test_centralized_and_direct_fit(
    root: Path, tiny_net: NetConfig, tiny_window: WindowConfig
) -> None:
    areas = build_areas(root, window=tiny_window)
    norm = Normalizer.from_moments(a.moments() for a in areas)
    raw = upload_bytes(areas)
    assert raw == sum(a.train.nbytes + a.val.nbytes + a.test.nbytes for a in areas)
    central = fit_centralized(areas, ModelSpec(tiny_net, (MERGE,), "add"), norm, 2, TrainConfig())
    assert len(central.val_curve) == 3
    assert central.val_curve[0] == pytest.approx(1.0, abs=1e-5)
    assert central.bytes == raw and central.wall_s > 0
    direct = fit_direct(areas, MERGE, tiny_net, norm, 1, TrainConfig())
    # A merge keeps the better of its two single-source models.
    assert len(direct.specs) == 1 and next(iter(direct.specs)).endswith("->wireless")
