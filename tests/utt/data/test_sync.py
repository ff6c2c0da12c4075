"""utt.data.sync: snapping to frames, interpolation, and the whole sync step."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import numpy as np

from utt.data.generator import GeneratedDataset
from utt.data.layout import SYNC_DIR, TRUTH_FILE, array_path, frame_list_name, is_indoor
from utt.data.raw import read_raw
from utt.data.sync import interpolate, nearest, synchronize


def test_nearest_by_hand() -> None:
    t = np.array([0.0, 1.0, 2.0])
    v = np.array([[10.0], [11.0], [12.0]])
    out = nearest(np.array([0.4, 0.6, 1.95, 5.0]), t, v, tol=0.5)
    np.testing.assert_array_equal(out[:3, 0], [10.0, 11.0, 12.0])
    assert np.isnan(out[3, 0])


def test_interpolate_by_hand_and_across_gaps() -> None:
    t = np.array([0.0, 1.0, 3.0])
    v = np.array([[0.0, 10.0], [2.0, 20.0], [6.0, 30.0]])
    out = interpolate(np.array([0.25, 1.0, 2.0, -1.0, 4.0]), t, v, max_gap=1.5)
    np.testing.assert_allclose(out[0], [0.5, 12.5])
    np.testing.assert_allclose(out[1], [2.0, 20.0])
    assert np.isnan(out[2:]).all()  # a 2 s gap, and outside the samples


def _frames(seq_dir) -> np.ndarray:  # type: ignore[no-untyped-def]
    stamps = json.loads((seq_dir / frame_list_name(is_indoor(seq_dir))).read_text())
    truth = np.load(seq_dir / TRUTH_FILE)
    first = stamps.index(f"{truth['frame_ts'][0]:.6f}")
    return np.asarray([float(s) for s in stamps])[first : first + len(truth["frame_ts"])]


def test_sync_of_raw_streams_reproduces_the_written_arrays(dataset: GeneratedDataset) -> None:
    for s in dataset.sequences[:4]:
        arrays = synchronize(_frames(s.path), read_raw(s.path))
        for name in ("IMU19", "IMUagm9", "FTM", "FTM_li", "RSSI_li"):
            with array_path(s.path, name).open("rb") as f:
                written = pickle.load(f)
            # The CSV keeps 6 significant digits of the IMU values.
            np.testing.assert_allclose(arrays[name], written, rtol=1e-5, atol=1e-6, err_msg=name)


def test_clock_offsets_are_what_aligns_the_phones(dataset: GeneratedDataset) -> None:
    s = next(x for x in dataset.sequences if x.area == 2).path
    phones = read_raw(s)
    truth = np.load(s / TRUTH_FILE)["IMU19"]
    frames = _frames(s)
    aligned = synchronize(frames, phones)["IMU19"][:, :, 0]
    ignored = synchronize(frames, [replace(p, clock_offset_ms=0.0) for p in phones])["IMU19"][
        :, :, 0
    ]

    def err(a: np.ndarray) -> float:
        gyro = slice(3, 6)
        return float(np.nanmean((a[..., gyro] - truth[..., gyro]) ** 2))

    assert err(aligned) < 0.5 * err(ignored)


def test_synced_frames_cover_every_phone(dataset: GeneratedDataset) -> None:
    s = dataset.sequences[0].path
    with (s / SYNC_DIR / "FTM_li_sync_dfv4p4.pkl").open("rb") as f:
        ftm = pickle.load(f)
    # The release keeps frames from the first to the last where every phone has data.
    assert np.isfinite(ftm[0, :, 0, 0]).all() and np.isfinite(ftm[-1, :, 0, 0]).all()
