"""utt.data.windows: windows, splits in time, federated normalization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from utt.data.loader import SequenceData
from utt.data.windows import Moments, Normalizer, WindowSet, make_windows, time_splits


def _seq(frames: int = 20, subjects: int = 2) -> SequenceData:
    rng = np.random.default_rng(0)
    bbx = rng.normal(size=(frames, subjects, 5)).astype(np.float32)
    ftm = rng.normal(size=(frames, subjects, 2)).astype(np.float32)
    imu = rng.normal(size=(frames, subjects, 9)).astype(np.float32)
    bbx[:8, 1] = np.nan  # subject 1 unseen for the first 8 frames
    truth = {"range": np.arange(frames * subjects, dtype=np.float64).reshape(frames, subjects)}
    return SequenceData(
        "outdoor/scene1", "s", Path("."), {"BBX5": bbx, "FTM_li": ftm, "IMUagm9": imu}, None, truth
    )


def test_window_count_and_validity_by_hand() -> None:
    seq = _seq()
    ws = make_windows(seq, ["vision", "wireless", "sensory"], length=6, stride=2, min_valid=0.5)
    # Starts 0,2,...,14 -> 8 windows per subject. Subject 1 sees frames 8..19, so a window
    # starting at s has 6 - max(0, 8 - s) seen frames: starts 0 (0/6) and 2 (0/6) fail,
    # start 4 (2/6) fails, start 6 (4/6) passes.
    assert len(ws) == 8 + 5
    assert ws.data["vision"].shape == (13, 6, 5)
    assert ws.truth["wireless"].shape == (13, 6, 1)
    # Windows of subject 0 come first, in time order.
    np.testing.assert_array_equal(ws.data["sensory"][1], seq.arrays["IMUagm9"][2:8, 0])
    np.testing.assert_array_equal(ws.truth["wireless"][0, :, 0], seq.truth["range"][0:6, 0])  # type: ignore[index]


def test_frame_restriction_and_short_sequences() -> None:
    seq = _seq()
    ws = make_windows(seq, ["wireless"], length=5, stride=5, frames=slice(10, 20))
    assert len(ws) == 2 * 2
    np.testing.assert_array_equal(ws.data["wireless"][0], seq.arrays["FTM_li"][10:15, 0])
    empty = make_windows(seq, ["wireless"], length=50, stride=1)
    assert len(empty) == 0 and empty.data["wireless"].shape == (0, 50, 2)


def test_time_splits_are_consecutive() -> None:
    assert time_splits(100) == (slice(0, 70), slice(70, 85), slice(85, 100))


def test_moments_combine_to_the_pooled_statistics() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(3.0, 2.0, size=(7, 4, 2)).astype(np.float32)
    b = rng.normal(-1.0, 0.5, size=(5, 4, 2)).astype(np.float32)
    a[0, 0, 0] = np.nan
    federated = Normalizer.from_moments([{"wireless": Moments.of(a)}, {"wireless": Moments.of(b)}])
    pooled = np.concatenate([a, b]).reshape(-1, 2)
    np.testing.assert_allclose(federated.mean["wireless"], np.nanmean(pooled, 0), rtol=1e-5)
    np.testing.assert_allclose(federated.std["wireless"], np.nanstd(pooled, 0), rtol=1e-4)


def test_encode_masks_unseen_frames_and_decode_inverts() -> None:
    data = np.array([[[1.0, 2.0], [np.nan, 4.0], [5.0, 6.0]]], dtype=np.float32)
    norm = Normalizer(
        {"wireless": np.array([1.0, 2.0], np.float32)},
        {"wireless": np.array([2.0, 4.0], np.float32)},
    )
    enc = norm.encode(WindowSet({"wireless": data}))
    assert enc.mask["wireless"].tolist() == [[True, False, True]]
    np.testing.assert_allclose(enc.x["wireless"][0].numpy(), [[0.0, 0.0], [0.0, 0.0], [2.0, 1.0]])
    np.testing.assert_allclose(norm.decode("wireless", enc.x["wireless"][0, 2].numpy()), [5.0, 6.0])
    assert Normalizer.from_dict(norm.to_dict()).std["wireless"].tolist() == [2.0, 4.0]


def test_constant_feature_gets_unit_std() -> None:
    norm = Normalizer.fit(WindowSet({"wireless": np.ones((3, 2, 2), np.float32)}))
    assert norm.std["wireless"].tolist() == [1.0, 1.0]


def test_concat_and_subset() -> None:
    ws = make_windows(_seq(), ["wireless"], 5, 5)
    both = WindowSet.concat([ws, ws])
    assert len(both) == 2 * len(ws)
    assert len(both.subset(np.arange(3))) == 3
    assert both.nbytes == 2 * ws.nbytes
    with pytest.raises(ValueError):
        WindowSet.concat([])
