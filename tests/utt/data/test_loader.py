"""utt.data.loader: reading the dfv4p4 layout (tested on generated files of that layout)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from utt.data.generator import GeneratedDataset
from utt.data.layout import SYNC_DIR
from utt.data.loader import area_dirs, group_areas, load_dataset, load_sequence

ARRAYS = ("BBX5", "FTM_li", "IMUagm9")


def test_loads_every_sequence_with_squeezed_arrays(dataset: GeneratedDataset) -> None:
    seqs = load_dataset(dataset.root, ARRAYS)
    assert len(seqs) == 9
    assert [s.scene for s in seqs][:3] == ["indoor/scene0"] * 3
    for s in seqs:
        assert s.arrays["BBX5"].shape == (s.frames, s.subjects, 5)
        assert s.arrays["IMUagm9"].dtype == np.float32
        assert s.truth is not None and s.truth["range"].shape == (s.frames, s.subjects)


def test_indoor_boxes_come_from_the_h_files(dataset: GeneratedDataset) -> None:
    s = next(x for x in load_dataset(dataset.root, ARRAYS) if x.scene.startswith("indoor"))
    with (s.path / SYNC_DIR / "BBX5H_sync_dfv4p4.pkl").open("rb") as f:
        raw = pickle.load(f)
    np.testing.assert_array_equal(s.arrays["BBX5"], raw[:, :, 0].astype(np.float32))


def test_frame_timestamps_from_rgb_list_and_start_end(dataset: GeneratedDataset) -> None:
    for s in load_dataset(dataset.root, ARRAYS):
        assert s.frame_ts is not None and s.truth is not None
        np.testing.assert_allclose(s.frame_ts, s.truth["frame_ts"], atol=1e-6)


def test_unequal_array_lengths_are_cut_to_the_shortest(
    dataset: GeneratedDataset, tmp_path: Path
) -> None:
    src = dataset.sequences[3].path
    dst = tmp_path / "seqs" / "outdoor" / "scene9" / src.name
    shutil.copytree(src, dst)
    path = dst / SYNC_DIR / "FTM_li_sync_dfv4p4.pkl"
    with path.open("rb") as f:
        ftm = pickle.load(f)
    with path.open("wb") as f:
        pickle.dump(ftm[:-7], f)
    s = load_sequence(dst, ARRAYS)
    assert s.frames == ftm.shape[0] - 7
    assert all(a.shape[0] == s.frames for a in s.arrays.values())
    assert s.frame_ts is None  # no start/end file under this root
    assert s.scene == "outdoor/scene9"


def test_wrong_array_shape_is_an_error(tmp_path: Path) -> None:
    seq = tmp_path / "seqs" / "outdoor" / "scene1" / "20211007_000000"
    (seq / SYNC_DIR).mkdir(parents=True)
    with (seq / SYNC_DIR / "BBX5_sync_dfv4p4.pkl").open("wb") as f:
        pickle.dump(np.zeros((4, 5)), f)
    with pytest.raises(ValueError, match="frame, subject"):
        load_sequence(seq, ["BBX5"])


def test_no_sequences_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_dataset(tmp_path, ARRAYS)


def test_areas_by_scene_or_round_robin(dataset: GeneratedDataset) -> None:
    seqs = load_dataset(dataset.root, ARRAYS)
    by_scene = group_areas(seqs)
    assert [{s.scene for s in g} for g in by_scene] == [
        {"indoor/scene0"},
        {"outdoor/scene1"},
        {"outdoor/scene2"},
    ]
    dealt = group_areas(seqs, 2)
    assert [len(g) for g in dealt] == [5, 4]
    assert [[p.name for p in g] for g in area_dirs(dataset.root)] == [
        [s.seq_id for s in g] for g in by_scene
    ]
    with pytest.raises(ValueError):
        group_areas(seqs, 10)


def test_start_end_file_is_json_of_ts16_pairs(dataset: GeneratedDataset) -> None:
    data = json.loads((dataset.root / "exps/exp1/start_end_ts16_dfv4p4_outdoor.json").read_text())
    for start, end in data.values():
        assert float(start) < float(end)
        assert len(start.replace(".", "")) == 16
