"""utt.data.splits: local-area datasets."""

from __future__ import annotations

import numpy as np
import pytest

from utt.data.generator import GeneratedDataset
from utt.data.splits import WindowConfig, build_areas, load_area, sequence_roles


def test_sequence_roles() -> None:
    assert sequence_roles(3, (0.7, 0.15, 0.15)) == ["train", "val", "test"]
    roles = sequence_roles(10, (0.7, 0.15, 0.15))
    assert roles == ["train"] * 6 + ["val"] * 2 + ["test"] * 2
    with pytest.raises(ValueError):
        sequence_roles(2, (0.7, 0.15, 0.15))


def test_areas_hold_held_out_sequences(dataset: GeneratedDataset) -> None:
    cfg = WindowConfig(length=10, stride=5, eval_stride=5)
    areas = build_areas(dataset.root, window=cfg)
    assert [a.name for a in areas] == ["indoor/scene0", "outdoor/scene1", "outdoor/scene2"]
    for a in areas:
        assert len(a.train) and len(a.val) and len(a.test)
        assert set(a.train.data) == {"vision", "wireless", "sensory"}
        moments = a.moments()
        assert moments["sensory"].count[0] == np.isfinite(a.train.data["sensory"][..., 0]).sum()
    # The same area read alone (as a gloo client process does) is identical.
    alone = load_area(dataset.root, 1, window=cfg)
    np.testing.assert_array_equal(alone.test.data["vision"], areas[1].test.data["vision"])
    with pytest.raises(IndexError):
        load_area(dataset.root, 3, window=cfg)


def test_time_split_option(dataset: GeneratedDataset) -> None:
    cfg = WindowConfig(length=10, stride=5, eval_stride=5, split_by="time")
    a = build_areas(dataset.root, ["wireless"], cfg)[0]
    assert len(a.train) > len(a.val) > 0
    with pytest.raises(ValueError):
        WindowConfig(split_by="random")
