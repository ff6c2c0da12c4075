"""utt.data.generator: the written layout, determinism, physics, non-IID areas."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from utt.data.generator import MANIFEST_FILE, GeneratedDataset, GeneratorConfig, generate
from utt.data.layout import IMU19_ORDER, IMU_SUBSETS, SYNC_DIR, TRUTH_FILE, sequence_dirs


def _pkl(path: Path) -> np.ndarray:
    with path.open("rb") as f:
        arr: np.ndarray = pickle.load(f)
    return arr


def test_layout_matches_dfv4p4(dataset: GeneratedDataset) -> None:
    root = dataset.root
    seqs = sequence_dirs(root)
    assert len(seqs) == 9
    indoor = [s for s in seqs if s.parent.parent.name == "indoor"]
    outdoor = [s for s in seqs if s.parent.parent.name == "outdoor"]
    assert {s.parent.name for s in indoor} == {"scene0"}
    assert {s.parent.name for s in outdoor} == {"scene1", "scene2"}
    for s in indoor:
        names = {p.name for p in (s / SYNC_DIR).iterdir()}
        assert "BBX5H_sync_dfv4p4.pkl" in names and "BBXC3H_sync_dfv4p4.pkl" in names
        assert "BBX5_Others_sync_dfv4p4.pkl" not in names
        assert (s / "RGBh_ts16_dfv4p4_ls.json").is_file()
    for s in outdoor:
        names = {p.name for p in (s / SYNC_DIR).iterdir()}
        for a in ("BBX5", "BBX5_Others", "BBXC3", "FTM", "FTM_li", "IMU19", "IMUagm9", "RSSI"):
            assert f"{a}_sync_dfv4p4.pkl" in names
        assert "Others_id_ls.pkl" in names
        assert (s / "RGB_ts16_dfv4p4_ls.json").is_file()
        assert (s / "raw" / "meta.csv").is_file()
    for place in ("indoor", "outdoor"):
        start_end = json.loads(
            (root / "exps" / "exp1" / f"start_end_ts16_dfv4p4_{place}.json").read_text()
        )
        assert set(start_end) == {s.name for s in (indoor if place == "indoor" else outdoor)}
    manifest = json.loads((root / MANIFEST_FILE).read_text())
    assert len(manifest["areas"]) == 3 and len(manifest["sequences"]) == 9


def test_arrays_are_frame_subject_1_feature(dataset: GeneratedDataset) -> None:
    seq = next(s for s in dataset.sequences if s.area == 1).path
    bbx = _pkl(seq / SYNC_DIR / "BBX5_sync_dfv4p4.pkl")
    imu = _pkl(seq / SYNC_DIR / "IMU19_sync_dfv4p4.pkl")
    ftm = _pkl(seq / SYNC_DIR / "FTM_li_sync_dfv4p4.pkl")
    frames, subjects = bbx.shape[:2]
    assert bbx.shape == (frames, subjects, 1, 5)
    assert imu.shape == (frames, subjects, 1, 19)
    assert ftm.shape == (frames, subjects, 1, 2)
    assert bbx.dtype == np.float64
    # Boxes go NaN when a walker leaves the view or is hidden; phones keep reporting.
    assert np.isnan(bbx).any() and np.isfinite(bbx).any()
    assert np.isfinite(imu).all()
    np.testing.assert_array_equal(_pkl(seq / SYNC_DIR / "BBXC3_sync_dfv4p4.pkl"), bbx[..., :3])
    widths = dict(IMU19_ORDER)
    starts = np.cumsum([0] + [w for _, w in IMU19_ORDER])
    order = [k for k, _ in IMU19_ORDER]
    for name, kinds in IMU_SUBSETS.items():
        sub = _pkl(seq / SYNC_DIR / f"{name}_sync_dfv4p4.pkl")
        parts = [
            imu[..., starts[order.index(k)] : starts[order.index(k)] + widths[k]] for k in kinds
        ]
        np.testing.assert_array_equal(sub, np.concatenate(parts, axis=-1))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    cfg = GeneratorConfig(areas=2, sequences_per_area=1, duration_s=6.0, seed=11, write_raw=False)
    a = generate(tmp_path / "a", cfg)
    b = generate(tmp_path / "b", cfg)
    c = generate(tmp_path / "c", GeneratorConfig(**{**cfg.__dict__, "seed": 12}))
    for sa, sb in zip(a.sequences, b.sequences, strict=True):
        assert sa.path.name == sb.path.name
        for f in sorted((sa.path / SYNC_DIR).iterdir()):
            assert f.read_bytes() == (sb.path / SYNC_DIR / f.name).read_bytes(), f.name
    first_a = _pkl(a.sequences[0].path / SYNC_DIR / "FTM_li_sync_dfv4p4.pkl")
    first_c = _pkl(c.sequences[0].path / SYNC_DIR / "FTM_li_sync_dfv4p4.pkl")
    assert first_a.shape != first_c.shape or not np.array_equal(first_a, first_c, equal_nan=True)


def test_physics_against_truth(dataset: GeneratedDataset) -> None:
    ftm_err, depth_near, depth_far = [], [], []
    for s in dataset.sequences:
        truth = np.load(s.path / TRUTH_FILE)
        boxes = [p for p in (s.path / SYNC_DIR).glob("BBX5*_sync*.pkl") if "Others" not in p.name]
        bbx = _pkl(boxes[0])[:, :, 0]
        ftm = _pkl(s.path / SYNC_DIR / "FTM_sync_dfv4p4.pkl")[:, :, 0]
        imu = _pkl(s.path / SYNC_DIR / "IMU19_sync_dfv4p4.pkl")[:, :, 0]
        ftm_err.append((ftm[..., 0] - truth["range"]).ravel())
        z = truth["BBX5"][..., 2]
        err = np.abs(bbx[..., 2] - z)
        depth_near.append(err[(z < 5) & np.isfinite(err)])
        depth_far.append(err[(z > 9) & np.isfinite(err)])
        # Gravity has the Earth's magnitude in the phone frame; the field is about 50 uT.
        grav = imu[..., 9:12]
        np.testing.assert_allclose(np.linalg.norm(grav, axis=-1), 9.81, atol=0.1)
        assert 35 < np.median(np.linalg.norm(imu[..., 6:9], axis=-1)) < 65
        quat = imu[..., 15:19]
        np.testing.assert_allclose(np.linalg.norm(quat, axis=-1), 1.0, atol=1e-6)
    e = np.concatenate(ftm_err)
    e = e[np.isfinite(e)]
    # FTM over-reads: device offset 0.2-1.5 m plus blocking bias, and it is quantised.
    assert 0.2 < np.median(e) < 3.0
    near, far = np.concatenate(depth_near), np.concatenate(depth_far)
    assert np.median(far) > 2 * np.median(near)  # stereo depth error grows with depth


def test_ftm_ranges_are_quantised_to_3_cm(dataset: GeneratedDataset) -> None:
    s = dataset.sequences[0].path
    ftm = _pkl(s / SYNC_DIR / "FTM_sync_dfv4p4.pkl")[..., 0]
    r = ftm[np.isfinite(ftm)]
    np.testing.assert_allclose(r / 0.03, np.round(r / 0.03), atol=1e-6)


def test_areas_are_not_identically_distributed(dataset: GeneratedDataset) -> None:
    a = dataset.areas
    assert a[0].indoor and not a[1].indoor
    assert len({round(x.max_depth_m, 3) for x in a}) == 3
    assert len({x.ftm_offset_m for x in a}) == 3
    assert a[0].mag_disturbance_ut > max(x.mag_disturbance_ut for x in a[1:])
