"""Local-area datasets: each area's windows split in time into train, validation and test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from utt.data.loader import area_dirs, load_sequence
from utt.data.windows import Moments, WindowSet, make_windows, time_splits
from utt.modalities import MODALITY_NAMES, modality

__all__ = ["AreaData", "WindowConfig", "build_areas", "load_area", "sequence_roles"]


@dataclass(frozen=True)
class WindowConfig:
    """How sequences become windows.

    ``length`` frames per window (30 frames = 3 s at 10 fps, as ViFiT uses), ``stride``
    between training windows, ``eval_stride`` between validation and test windows.

    ``split_by`` chooses how an area's data is divided into train/validation/test:
    ``sequence`` holds out whole sequences (unseen walkers and phones: the honest test of
    generalisation), ``time`` cuts every sequence in time; ``auto`` uses ``sequence`` when
    an area has at least three sequences.
    """

    length: int = 30
    stride: int = 5
    eval_stride: int = 10
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    min_valid: float = 0.5
    split_by: str = "auto"

    def __post_init__(self) -> None:
        if self.split_by not in ("auto", "sequence", "time"):
            raise ValueError(f"split_by must be auto, sequence or time, not {self.split_by!r}")


@dataclass(frozen=True)
class AreaData:
    """The windows one local-area twin holds; they never leave it in federated runs."""

    index: int
    name: str
    train: WindowSet
    val: WindowSet
    test: WindowSet

    def split(self, name: str) -> WindowSet:
        """``train``, ``val`` or ``test``."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}")
        ws: WindowSet = getattr(self, name)
        return ws

    def moments(self) -> dict[str, Moments]:
        """Per-modality moments of the training windows (all that normalization needs)."""
        return {m: Moments.of(a) for m, a in self.train.data.items()}


def sequence_roles(n: int, fractions: tuple[float, float, float]) -> list[str]:
    """Role of each of ``n`` sequences: the last ones are held out for test, then validation.

    At least one sequence each for validation and test, and at least one for training.
    """
    if n < 3:
        raise ValueError("a split by sequence needs at least three sequences")
    n_test = max(1, round(n * fractions[2]))
    n_val = max(1, round(n * fractions[1]))
    n_train = max(1, n - n_val - n_test)
    n_val = n - n_train - n_test
    return ["train"] * n_train + ["val"] * n_val + ["test"] * n_test


def _area_from_dirs(
    index: int, dirs: Sequence[Path], modalities: Sequence[str], cfg: WindowConfig
) -> AreaData:
    arrays = sorted({modality(m).array for m in modalities})
    parts: dict[str, list[WindowSet]] = {"train": [], "val": [], "test": []}
    scenes = []
    by_sequence = cfg.split_by == "sequence" or (cfg.split_by == "auto" and len(dirs) >= 3)
    roles = sequence_roles(len(dirs), cfg.fractions) if by_sequence else []
    for i, d in enumerate(dirs):
        seq = load_sequence(d, arrays)
        scenes.append(seq.scene)
        if by_sequence:
            plan = [(roles[i], slice(None))]
        else:
            plan = list(zip(parts, time_splits(seq.frames, cfg.fractions), strict=True))
        for name, frames in plan:
            stride = cfg.stride if name == "train" else cfg.eval_stride
            parts[name].append(
                make_windows(seq, modalities, cfg.length, stride, frames, cfg.min_valid)
            )
    name = "+".join(sorted(set(scenes)))
    return AreaData(
        index,
        name,
        *(WindowSet.concat(parts[k]) for k in ("train", "val", "test")),
    )


def build_areas(
    root: Path,
    modalities: Sequence[str] = MODALITY_NAMES,
    window: WindowConfig | None = None,
    k: int | None = None,
) -> list[AreaData]:
    """Windows of every local area under ``root`` (one per scene unless ``k`` is given)."""
    cfg = window or WindowConfig()
    return [_area_from_dirs(i, dirs, modalities, cfg) for i, dirs in enumerate(area_dirs(root, k))]


def load_area(
    root: Path,
    index: int,
    modalities: Sequence[str] = MODALITY_NAMES,
    window: WindowConfig | None = None,
    k: int | None = None,
) -> AreaData:
    """Only area ``index``: what one local twin (e.g. a gloo client process) reads."""
    groups = area_dirs(root, k)
    if not 0 <= index < len(groups):
        raise IndexError(f"area {index} out of range; {len(groups)} areas under {root}")
    return _area_from_dirs(index, groups[index], modalities, window or WindowConfig())
