"""Load sequences of the synchronized Vi-Fi/ViTag layout, real or generated.

A user with the real ``RAN4model_dfv4p4`` download points :func:`load_dataset` at its root;
the same code reads the generator's output, which is how it is tested. Arrays come back as
``(frame, subject, feature)`` float32: the ``DIM_PER_FRAME`` axis is 1 in dfv4p4 and, where a
denser export has more, its first entry is the one aligned with the frame.
"""

from __future__ import annotations

import json
import pickle
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from utt.data.layout import (
    TRUTH_FILE,
    array_path,
    frame_list_name,
    is_indoor,
    sequence_dirs,
    start_end_path,
)

__all__ = ["SequenceData", "area_dirs", "group_areas", "load_dataset", "load_sequence"]


@dataclass(frozen=True)
class SequenceData:
    """One synchronized sequence.

    Attributes:
        scene: ``<place>/<scene>``, e.g. ``outdoor/scene1``.
        seq_id: the sequence folder name (``YYYYMMDD_HHMMSS``).
        path: the sequence folder.
        arrays: array name to ``(frame, subject, feature)`` float32, NaN where unseen.
        frame_ts: camera timestamps of the synchronized frames (s), when the RGB list and
            the start/end file are present.
        truth: ground truth written by the generator (absent from real data).
    """

    scene: str
    seq_id: str
    path: Path
    arrays: dict[str, np.ndarray]
    frame_ts: np.ndarray | None = None
    truth: dict[str, np.ndarray] | None = None

    @property
    def frames(self) -> int:
        """Number of synchronized frames."""
        return min(a.shape[0] for a in self.arrays.values())

    @property
    def subjects(self) -> int:
        """Number of phone-carrying subjects."""
        return min(a.shape[1] for a in self.arrays.values())


def _read_pickle(path: Path) -> np.ndarray:
    with path.open("rb") as f:
        arr = np.asarray(pickle.load(f), dtype=np.float32)
    if arr.ndim != 4:
        raise ValueError(f"{path}: expected (frame, subject, dim, feature), got {arr.shape}")
    return arr[:, :, 0, :]


def _frame_ts(seq_dir: Path, frames: int) -> np.ndarray | None:
    indoor = is_indoor(seq_dir)
    rgb = seq_dir / frame_list_name(indoor)
    se = start_end_path(seq_dir.parents[3], indoor)
    if not rgb.is_file() or not se.is_file():
        return None
    stamps = json.loads(rgb.read_text())
    bounds = json.loads(se.read_text()).get(seq_dir.name)
    if not bounds or bounds[0] not in stamps:
        return None
    first = stamps.index(bounds[0])
    ts = np.asarray([float(s) for s in stamps[first : first + frames]])
    return ts if len(ts) == frames else None


def load_sequence(seq_dir: Path, arrays: Sequence[str]) -> SequenceData:
    """Read ``arrays`` (e.g. ``BBX5``, ``FTM_li``, ``IMUagm9``) of one sequence folder.

    Arrays of unequal length (the real data has a few) are cut to the shortest; subjects
    likewise.
    """
    seq_dir = Path(seq_dir)
    data = {name: _read_pickle(array_path(seq_dir, name)) for name in arrays}
    frames = min(a.shape[0] for a in data.values())
    subjects = min(a.shape[1] for a in data.values())
    data = {k: v[:frames, :subjects] for k, v in data.items()}
    truth = None
    if (seq_dir / TRUTH_FILE).is_file():
        with np.load(seq_dir / TRUTH_FILE) as z:
            truth = {k: z[k][:frames] for k in z.files}
    return SequenceData(
        scene=f"{seq_dir.parent.parent.name}/{seq_dir.parent.name}",
        seq_id=seq_dir.name,
        path=seq_dir,
        arrays=data,
        frame_ts=_frame_ts(seq_dir, frames),
        truth=truth,
    )


def load_dataset(root: Path, arrays: Sequence[str]) -> list[SequenceData]:
    """Every sequence under ``root/seqs``, sorted by scene then sequence id."""
    dirs = sequence_dirs(Path(root))
    if not dirs:
        raise FileNotFoundError(f"no synchronized sequences under {root}/seqs")
    return [load_sequence(d, arrays) for d in dirs]


_T = TypeVar("_T")


def _group(items: Sequence[_T], scenes: Sequence[str], k: int | None) -> list[list[_T]]:
    by_scene: dict[str, list[_T]] = defaultdict(list)
    for item, scene in zip(items, scenes, strict=True):
        by_scene[scene].append(item)
    if k is None or k == len(by_scene):
        return [by_scene[name] for name in sorted(by_scene)]
    if k < 1 or k > len(items):
        raise ValueError(f"cannot make {k} areas from {len(items)} sequences")
    groups: list[list[_T]] = [[] for _ in range(k)]
    for i, item in enumerate(items):
        groups[i % k].append(item)
    return groups


def group_areas(
    sequences: Sequence[SequenceData], k: int | None = None
) -> list[list[SequenceData]]:
    """Split sequences into local areas: one per scene, or ``k`` round-robin groups.

    Grouping by scene keeps each camera spot in one area, which is what makes the areas
    non-IID; a ``k`` other than the number of scenes deals the sequences out in order.
    """
    return _group(sequences, [s.scene for s in sequences], k)


def area_dirs(root: Path, k: int | None = None) -> list[list[Path]]:
    """Sequence folders per local area, grouped as :func:`group_areas` groups sequences.

    Lets one local twin read only its own area's files.
    """
    dirs = sequence_dirs(Path(root))
    if not dirs:
        raise FileNotFoundError(f"no synchronized sequences under {root}/seqs")
    return _group(dirs, [f"{d.parent.parent.name}/{d.parent.name}" for d in dirs], k)
