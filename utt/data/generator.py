"""Synthetic Vi-Fi/ViTag data in the synchronized layout, with deterministic seeds.

Real Vi-Fi data cannot be shipped (no licence, IRB limits; notes §1.4), so the project
generates sequences with the same files and array shapes (see :mod:`utt.data.layout`) from
the physical models in :mod:`utt.data.motion`, :mod:`utt.data.camera`, :mod:`utt.data.ftm`
and :mod:`utt.data.imu`. Each local area is one scene folder with its own conditions
(:func:`utt.data.areas.make_areas`), so the K areas are non-IID.

Per sequence the generator writes the raw phone streams on their own clocks
(:mod:`utt.data.raw`), synchronizes them to the RGB frames with :mod:`utt.data.sync` (the same
code a user runs), and keeps the frames where every phone has data, as the dfv4p4 release
does. Ground truth for scoring goes to ``ndtwin_truth.npz``.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from utt.data.areas import AreaConditions, make_areas
from utt.data.camera import observe_boxes, project_boxes
from utt.data.ftm import simulate_ftm, true_range
from utt.data.imu import MagneticField, imu_signals
from utt.data.layout import (
    IMU19_ORDER,
    IMU_SUBSETS,
    SYNC_DIR,
    TRUTH_FILE,
    array_path,
    frame_list_name,
    start_end_path,
)
from utt.data.motion import IMU_RATE_HZ, Walk, simulate_group
from utt.data.raw import FtmLog, PhoneStreams, write_raw
from utt.data.sync import synchronize
from utt.progress import ProgressCallback, ProgressEvent

__all__ = [
    "FRAME_RATE_HZ",
    "MANIFEST_FILE",
    "GeneratedDataset",
    "GeneratedSequence",
    "GeneratorConfig",
    "generate",
]

FRAME_RATE_HZ = 10
MANIFEST_FILE = "ndtwin_manifest.json"
_AP_MAC = "ac:1f:6b:00:00:01"
_EPOCH = datetime(2021, 10, 7, 13, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate: ``areas`` local areas, each with ``sequences_per_area`` sequences."""

    areas: int = 3
    sequences_per_area: int = 2
    duration_s: float = 60.0
    seed: int = 0
    write_raw: bool = True


@dataclass(frozen=True)
class GeneratedSequence:
    """One written sequence."""

    area: int
    path: Path
    frames: int
    subjects: int


@dataclass(frozen=True)
class GeneratedDataset:
    """What :func:`generate` wrote under ``root``."""

    root: Path
    config: GeneratorConfig
    areas: tuple[AreaConditions, ...]
    sequences: tuple[GeneratedSequence, ...] = field(default_factory=tuple)


def _ts16(t: float) -> str:
    return f"{t:.6f}"


def _sample(walks: list[Walk], t: np.ndarray, attr: str) -> np.ndarray:
    idx = np.clip(np.round(t * IMU_RATE_HZ).astype(int), 0, len(walks[0].t) - 1)
    return np.stack([getattr(w, attr)[idx] for w in walks], axis=1)


_Simulated = tuple[
    str, float, np.ndarray, dict[str, np.ndarray], list[PhoneStreams], dict[str, np.ndarray]
]


def _simulate(area: AreaConditions, cfg: GeneratorConfig, seq: int) -> _Simulated:
    """Simulate one sequence; returns id, epoch, frame times, box arrays, phones, truth."""
    rng = np.random.default_rng([cfg.seed, area.index, seq])
    n_phones = int(rng.integers(area.n_phones[0], area.n_phones[1] + 1))
    n_others = int(rng.integers(area.n_others[0], area.n_others[1] + 1))
    span = cfg.duration_s + 1.0
    walks = simulate_group(area, n_phones + n_others, span, rng)
    epoch0 = (
        _EPOCH + timedelta(days=area.index, minutes=7 * seq, seconds=int(rng.integers(0, 300)))
    ).timestamp()
    seq_id = datetime.fromtimestamp(epoch0, tz=UTC).strftime("%Y%m%d_%H%M%S")

    n_frames = int(cfg.duration_s * FRAME_RATE_HZ)
    t_frames = 0.5 + np.arange(n_frames) / FRAME_RATE_HZ + rng.normal(0.0, 0.001, n_frames)
    pos = _sample(walks, t_frames, "pos")
    heights = np.array([w.height_m for w in walks])
    clean = project_boxes(pos, heights, area.camera_height_m, area.max_depth_m)
    seen = observe_boxes(clean, area, rng)
    boxes = {"BBX5": seen[:, :n_phones], "BBX5_Others": seen[:, n_phones:]}

    # The magnetic field belongs to the place: the same north and disturbance in every
    # sequence of an area.
    field_ = MagneticField.draw(area, np.random.default_rng([cfg.seed, area.index, 0x3A6]))
    phones = []
    clean_imu = []
    for j, walk in enumerate(walks[:n_phones]):
        truth_imu, measured = imu_signals(walk, area, field_, rng)
        offset = rng.uniform(-0.5, 0.5)
        # The calibration of the offset is itself off by up to 20 ms (notes §1.5).
        calibrated_ms = (offset + rng.uniform(-0.02, 0.02)) * 1000.0
        ts_ms = np.round((epoch0 + walk.t + offset) * 1000.0).astype(np.int64)
        bursts = simulate_ftm(walk, area, rng, span)
        ftm_ms = np.round((epoch0 + bursts.t + offset) * 1000.0).astype(np.int64)
        phones.append(
            PhoneStreams(
                phone=f"phone{j}",
                subject=j,
                mac=_AP_MAC,
                clock_offset_ms=round(calibrated_ms, 3),
                imu={k: (ts_ms, measured[k]) for k, _ in IMU19_ORDER},
                ftm=FtmLog(
                    ts_ms=ftm_ms,
                    dist_mm=np.round(bursts.range_m * 1000.0),
                    std_mm=np.round(bursts.std_m * 1000.0),
                    attempted=bursts.attempted,
                    successful=bursts.successful,
                    rssi=bursts.rssi_dbm,
                    status=np.zeros(len(ftm_ms), dtype=np.int64),
                ),
            )
        )
        idx = np.clip(np.round(t_frames * IMU_RATE_HZ).astype(int), 0, len(walk.t) - 1)
        clean_imu.append(np.concatenate([truth_imu[k][idx] for k, _ in IMU19_ORDER], axis=1))
    imu19 = np.stack(clean_imu, axis=1)
    order = [k for k, _ in IMU19_ORDER]
    bounds = np.cumsum([0] + [w for _, w in IMU19_ORDER])
    truth = {
        "position": pos[:, :n_phones],
        "range": true_range(pos[:, :n_phones], area.camera_height_m),
        "BBX5": clean[:, :n_phones],
        "IMU19": imu19,
    }
    for name, kinds in IMU_SUBSETS.items():
        truth[name] = np.concatenate(
            [imu19[..., bounds[order.index(k)] : bounds[order.index(k) + 1]] for k in kinds],
            axis=-1,
        )
    return seq_id, epoch0, epoch0 + t_frames, boxes, phones, truth


def _dump(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        pickle.dump(np.ascontiguousarray(array, dtype=np.float64), f, protocol=4)


def generate(
    root: Path, config: GeneratorConfig | None = None, progress: ProgressCallback | None = None
) -> GeneratedDataset:
    """Write a synthetic dataset under ``root`` and return what was written.

    Output is a pure function of ``config``: the same seed gives byte-identical arrays.
    """
    cfg = config or GeneratorConfig()
    root = Path(root)
    areas = make_areas(cfg.areas, cfg.seed)
    start_end: dict[str, dict[str, list[str]]] = {"indoor": {}, "outdoor": {}}
    written = []
    total = cfg.areas * cfg.sequences_per_area
    for area in areas:
        for s in range(cfg.sequences_per_area):
            seq_id, _, frame_ts, boxes, phones, truth = _simulate(area, cfg, s)
            seq_dir = root / "seqs" / area.scene / seq_id
            (seq_dir / SYNC_DIR).mkdir(parents=True, exist_ok=True)
            if cfg.write_raw:
                write_raw(seq_dir, phones)
            arrays = synchronize(frame_ts, phones)
            have = np.isfinite(arrays["FTM_li"][..., 0, 0]).all(1) & np.isfinite(
                arrays["IMU19"][..., 0, 0]
            ).all(1)
            first, last = int(np.argmax(have)), len(have) - 1 - int(np.argmax(have[::-1]))
            keep = slice(first, last + 1)
            arrays["BBX5"] = boxes["BBX5"][:, :, None, :]
            arrays["BBXC3"] = arrays["BBX5"][..., :3]
            if not area.indoor:
                arrays["BBX5_Others"] = boxes["BBX5_Others"][:, :, None, :]
                arrays["BBXC3_Others"] = arrays["BBX5_Others"][..., :3]
                n_others = boxes["BBX5_Others"].shape[1]
                with (seq_dir / SYNC_DIR / "Others_id_ls.pkl").open("wb") as f:
                    pickle.dump(list(range(100, 100 + n_others)), f, protocol=4)
            for name, arr in arrays.items():
                _dump(array_path(seq_dir, name), arr[keep])
            frames = [_ts16(t) for t in frame_ts]
            for name in (frame_list_name(area.indoor), "RGBg_ts16_dfv4p4_ls.json"):
                (seq_dir / name).write_text(json.dumps(frames))
            start_end[area.place][seq_id] = [frames[first], frames[last]]
            saved: dict[str, Any] = {k: v[keep] for k, v in truth.items()}
            np.savez_compressed(seq_dir / TRUTH_FILE, frame_ts=frame_ts[keep], **saved)
            written.append(GeneratedSequence(area.index, seq_dir, last + 1 - first, len(phones)))
            if progress is not None:
                progress(ProgressEvent("generate", len(written), total, seq_id))
    for place, entries in start_end.items():
        if entries:
            path = start_end_path(root, place == "indoor")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(entries, indent=1, sort_keys=True))
    manifest = {
        "generator": "ndtwin.utt",
        "config": asdict(cfg),
        "areas": [asdict(a) for a in areas],
        "sequences": [
            {"area": s.area, "path": str(s.path.relative_to(root)), "frames": s.frames}
            for s in written
        ],
    }
    (root / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1))
    return GeneratedDataset(root, cfg, areas, tuple(written))
