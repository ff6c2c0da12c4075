"""Fixed-length windows over synchronized sequences, time-ordered splits, normalization.

Each sequence is cut in time into train, validation and test parts (70/15/15 by default)
before windowing, so no window straddles two parts and overlapping training windows never
leak into the test set. A window is one subject over ``length`` frames; it is kept when every
modality has at least ``min_valid`` of its frames seen.

Normalization z-scores each feature with statistics of the training windows. In federated
use no raw data leaves an area: each area reports per-feature count, sum and sum of squares
(:class:`Moments`), and :meth:`Normalizer.from_moments` combines them exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from utt.data.loader import SequenceData
from utt.modalities import modality

__all__ = [
    "EncodedWindows",
    "Moments",
    "Normalizer",
    "WindowSet",
    "make_windows",
    "time_splits",
]


@dataclass(frozen=True)
class WindowSet:
    """Windows of several modalities, aligned: row ``i`` of each array is the same window.

    ``data`` maps a modality name to ``(n, length, features)`` float32 with NaN where
    unseen; ``truth`` maps it to the generator's ground truth over the same frames.
    """

    data: dict[str, np.ndarray]
    truth: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return next(iter(self.data.values())).shape[0] if self.data else 0

    @property
    def nbytes(self) -> int:
        """Size of the measured windows, as they would travel to a central server."""
        return sum(a.nbytes for a in self.data.values())

    def subset(self, index: np.ndarray | slice) -> WindowSet:
        """The windows at ``index``."""
        return WindowSet(
            {k: v[index] for k, v in self.data.items()},
            {k: v[index] for k, v in self.truth.items()},
        )

    @staticmethod
    def concat(sets: Sequence[WindowSet]) -> WindowSet:
        """All windows of ``sets`` in order."""
        sets = [s for s in sets if len(s)]
        if not sets:
            raise ValueError("no windows to concatenate")
        keys = sets[0].data.keys()
        tkeys = set.intersection(*(set(s.truth) for s in sets))
        return WindowSet(
            {k: np.concatenate([s.data[k] for s in sets]) for k in keys},
            {k: np.concatenate([s.truth[k] for s in sets]) for k in sorted(tkeys)},
        )


def time_splits(
    frames: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> tuple[slice, slice, slice]:
    """Consecutive train/validation/test frame ranges of a sequence."""
    a = int(frames * fractions[0])
    b = a + int(frames * fractions[1])
    return slice(0, a), slice(a, b), slice(b, frames)


def make_windows(
    seq: SequenceData,
    modalities: Sequence[str],
    length: int,
    stride: int,
    frames: slice = slice(None),
    min_valid: float = 0.5,
) -> WindowSet:
    """Cut ``seq`` (restricted to ``frames``) into windows of every subject."""
    arrays = {m: seq.arrays[modality(m).array][frames] for m in modalities}
    truth_src = {}
    if seq.truth is not None:
        for m in modalities:
            t = seq.truth.get(modality(m).truth)
            if t is not None:
                t = t[frames].astype(np.float32)
                truth_src[m] = t[..., None] if t.ndim == 2 else t
    total = min(a.shape[0] for a in arrays.values())
    starts = np.arange(0, total - length + 1, stride)
    data: dict[str, list[np.ndarray]] = {m: [] for m in modalities}
    truth: dict[str, list[np.ndarray]] = {m: [] for m in truth_src}
    if len(starts) == 0:
        return _empty(modalities, length, truth_src)
    idx = starts[:, None] + np.arange(length)[None, :]
    keep = np.ones((len(starts), seq.subjects), dtype=bool)
    for a in arrays.values():
        seen = np.isfinite(a).all(axis=-1)[idx]  # (n, length, subject)
        keep &= seen.mean(axis=1) >= min_valid
    for s in range(seq.subjects):
        rows = idx[keep[:, s]]
        for m, a in arrays.items():
            data[m].append(a[rows, s])
        for m, t in truth_src.items():
            truth[m].append(t[rows, s])
    return WindowSet(
        {m: np.concatenate(v).astype(np.float32) for m, v in data.items()},
        {m: np.concatenate(v) for m, v in truth.items()},
    )


def _empty(modalities: Sequence[str], length: int, truth: dict[str, np.ndarray]) -> WindowSet:
    return WindowSet(
        {m: np.zeros((0, length, modality(m).size), np.float32) for m in modalities},
        {m: np.zeros((0, length, t.shape[-1]), np.float32) for m, t in truth.items()},
    )


@dataclass(frozen=True)
class Moments:
    """Per-feature count, sum and sum of squares of the seen values of one modality."""

    count: np.ndarray
    total: np.ndarray
    squares: np.ndarray

    @classmethod
    def of(cls, windows: np.ndarray) -> Moments:
        """Moments of ``(n, length, features)`` windows, ignoring NaN."""
        flat = windows.reshape(-1, windows.shape[-1]).astype(np.float64)
        seen = np.isfinite(flat)
        vals = np.where(seen, flat, 0.0)
        return cls(seen.sum(0).astype(np.float64), vals.sum(0), (vals**2).sum(0))

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.count + other.count, self.total + other.total, self.squares + other.squares
        )


@dataclass(frozen=True)
class EncodedWindows:
    """Windows ready for a network: normalized values (NaN replaced by 0) and frame masks.

    ``latents`` optionally holds, per source modality, the output of a frozen encoder for
    every window (:func:`utt.reuse.with_latents`); a model then decodes from them instead
    of running that encoder again.
    """

    x: dict[str, torch.Tensor]
    mask: dict[str, torch.Tensor]
    latents: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return next(iter(self.x.values())).shape[0]

    def take(self, index: torch.Tensor) -> EncodedWindows:
        """The windows at ``index``."""
        return EncodedWindows(
            {k: v[index] for k, v in self.x.items()},
            {k: v[index] for k, v in self.mask.items()},
            {k: v[index] for k, v in self.latents.items()},
        )

    def batches(self, size: int) -> Iterator[EncodedWindows]:
        """Consecutive slices of up to ``size`` windows, in order (for batched inference)."""
        n = len(self)
        for start in range(0, n, size):
            yield self.take(torch.arange(start, min(start + size, n)))


@dataclass(frozen=True)
class Normalizer:
    """Per-feature mean and standard deviation of each modality."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]

    @classmethod
    def from_moments(cls, parts: Iterable[dict[str, Moments]]) -> Normalizer:
        """Combine per-area moments; a constant feature gets std 1."""
        acc: dict[str, Moments] = {}
        for part in parts:
            for m, mom in part.items():
                acc[m] = acc[m] + mom if m in acc else mom
        mean, std = {}, {}
        for m, mom in acc.items():
            n = np.maximum(mom.count, 1.0)
            mu = mom.total / n
            var = np.maximum(mom.squares / n - mu**2, 0.0)
            sd = np.sqrt(var)
            mean[m] = mu.astype(np.float32)
            std[m] = np.where(sd > 1e-6, sd, 1.0).astype(np.float32)
        return cls(mean, std)

    @classmethod
    def fit(cls, windows: WindowSet) -> Normalizer:
        """Statistics of one window set."""
        return cls.from_moments([{m: Moments.of(a) for m, a in windows.data.items()}])

    def encode(self, windows: WindowSet) -> EncodedWindows:
        """Normalize ``windows``; a frame is masked out when any of its features is NaN."""
        x, mask = {}, {}
        for m, a in windows.data.items():
            seen = np.isfinite(a).all(axis=-1)
            z = (a - self.mean[m]) / self.std[m]
            z = np.where(seen[..., None], z, 0.0).astype(np.float32)
            x[m] = torch.from_numpy(z)
            mask[m] = torch.from_numpy(seen)
        return EncodedWindows(x, mask)

    def decode(self, name: str, z: np.ndarray) -> np.ndarray:
        """Back from normalized values of modality ``name`` to physical units."""
        return z * self.std[name] + self.mean[name]

    def to_dict(self) -> dict[str, dict[str, list[float]]]:
        """JSON-ready form, stored in model artifacts."""
        return {m: {"mean": self.mean[m].tolist(), "std": self.std[m].tolist()} for m in self.mean}

    @classmethod
    def from_dict(cls, d: dict[str, dict[str, list[float]]]) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        return cls(
            {m: np.asarray(v["mean"], np.float32) for m, v in d.items()},
            {m: np.asarray(v["std"], np.float32) for m, v in d.items()},
        )
