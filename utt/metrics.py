"""Normalized mean squared error, accumulated so that areas can be summed exactly.

NMSE = sum of squared errors / sum of squared targets, over every seen frame and feature,
in normalized units (each feature z-scored with the training mean and standard deviation).
The sum of squared targets is then the squared deviation from the training mean, so
predicting the training mean scores exactly 1, and a model is useful when it scores below
1. Because both sums add up, per-area sums combine into the global NMSE without sending
any data (:class:`ErrorSums`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch

__all__ = ["ErrorSums", "combine", "nmse", "total"]


@dataclass(frozen=True)
class ErrorSums:
    """Sum of squared errors, sum of squared targets, and the number of values."""

    sse: float = 0.0
    sst: float = 0.0
    count: int = 0

    def __add__(self, other: ErrorSums) -> ErrorSums:
        return ErrorSums(self.sse + other.sse, self.sst + other.sst, self.count + other.count)

    @property
    def nmse(self) -> float:
        """``sse / sst``; NaN when there were no values."""
        return self.sse / self.sst if self.sst > 0 else float("nan")

    @classmethod
    def of(cls, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> ErrorSums:
        """Sums over the frames where ``mask`` (``(batch, window)``) is true."""
        m = mask.unsqueeze(-1).to(pred.dtype)
        sse = float(((pred - target) ** 2 * m).sum())
        sst = float((target**2 * m).sum())
        return cls(sse, sst, int(m.sum()) * target.shape[-1])


def nmse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> float:
    """NMSE of one batch (see the module docstring)."""
    return ErrorSums.of(pred, target, mask).nmse


def combine(parts: Iterable[Mapping[str, ErrorSums]]) -> dict[str, ErrorSums]:
    """Add keyed sums from several areas or batches."""
    acc: dict[str, ErrorSums] = {}
    for part in parts:
        for k, v in part.items():
            acc[k] = acc.get(k, ErrorSums()) + v
    return acc


def total(sums: Mapping[str, ErrorSums], prefix: str = "") -> ErrorSums:
    """Sum of all entries whose key starts with ``prefix``."""
    out = ErrorSums()
    for k, v in sums.items():
        if k.startswith(prefix):
            out = out + v
    return out
