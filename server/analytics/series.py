"""Time series as the analytics see them: sample times (epoch seconds) and float values.

A `Series` is immutable and sorted by time. `resample` puts one onto a regular grid
(mean of the samples in each step, or the last value carried forward), which the
correlation and forecasting methods need; `align` does that for two series on one grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Series", "align", "iso", "resample"]

FloatArray = npt.NDArray[np.float64]


def iso(seconds: float) -> str:
    """Epoch seconds as an RFC 3339 UTC time stamp (millisecond precision)."""
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@dataclass(frozen=True, eq=False)
class Series:
    """One KPI over time.

    ``label`` names it for people (``rsrp of cell:lte-...``); ``metric`` is the KPI key
    (``rsrp``, ``co2``...) that picks the detection thresholds; ``twin`` and ``path`` say
    where the history came from.
    """

    label: str
    metric: str
    times: FloatArray
    values: FloatArray
    twin: str = ""
    path: str = ""
    #: Seconds each value stands for when the series was read as bucket means (0: raw).
    resolution: float = 0.0
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.times.shape != self.values.shape:
            raise ValueError("times and values differ in length")
        if self.times.size > 1 and np.any(np.diff(self.times) < 0):
            order = np.argsort(self.times, kind="stable")
            object.__setattr__(self, "times", self.times[order])
            object.__setattr__(self, "values", self.values[order])

    @classmethod
    def of(
        cls,
        label: str,
        metric: str,
        times: list[float] | FloatArray,
        values: list[float] | FloatArray,
        **extra: str | float,
    ) -> Series:
        """A series from plain sequences (NaN values are dropped)."""
        t = np.asarray(times, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        keep = ~np.isnan(v)
        return cls(label, metric, t[keep], v[keep], **extra)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return int(self.times.size)

    def window(self, start: float, end: float) -> Series:
        """The samples with ``start <= t < end``."""
        keep = (self.times >= start) & (self.times < end)
        return Series(
            self.label,
            self.metric,
            self.times[keep],
            self.values[keep],
            self.twin,
            self.path,
            self.resolution,
            self.source,
        )

    def median_step(self) -> float:
        """The typical time between samples (0 for fewer than two)."""
        if self.times.size < 2:
            return 0.0
        return float(np.median(np.diff(self.times)))


def resample(
    series: Series,
    step: float,
    start: float | None = None,
    end: float | None = None,
    how: Literal["mean", "last"] = "mean",
) -> tuple[FloatArray, FloatArray]:
    """``(grid, values)`` on ``start + k * step``; empty steps are NaN for ``mean`` and the
    last earlier value for ``last``."""
    if step <= 0:
        raise ValueError("step must be positive")
    if len(series) == 0:
        return np.empty(0), np.empty(0)
    lo = float(series.times[0]) if start is None else start
    if end is None:
        count = int((float(series.times[-1]) - lo) // step) + 1
    else:
        count = max(0, int(np.ceil((end - lo) / step)))
    grid = lo + step * np.arange(count, dtype=np.float64)
    index = np.floor((series.times - lo) / step).astype(np.int64)
    inside = (index >= 0) & (index < count)
    index, values = index[inside], series.values[inside]
    if how == "mean":
        sums = np.bincount(index, weights=values, minlength=count)
        counts = np.bincount(index, minlength=count)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return grid, out
    out = np.full(count, np.nan)
    out[index] = values  # later samples of a step overwrite earlier ones: the last wins
    # Carry forward; a value from before the grid starts seeds the first steps.
    before = series.times < lo
    if before.any():
        out[0] = out[0] if not np.isnan(out[0]) else series.values[before][-1]
    mask = np.isnan(out)
    idx = np.where(~mask, np.arange(count), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = out[idx]
    filled[mask & (np.cumsum(~mask) == 0)] = np.nan
    return grid, filled


def align(
    a: Series, b: Series, step: float, start: float | None = None, end: float | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Both series on one grid, keeping only the steps where both have a value."""
    lo = max(float(a.times[0]), float(b.times[0])) if start is None else start
    hi = min(float(a.times[-1]), float(b.times[-1])) + step if end is None else end
    grid, va = resample(a, step, lo, hi)
    _, vb = resample(b, step, lo, hi)
    both = ~np.isnan(va) & ~np.isnan(vb)
    return grid[both], va[both], vb[both]
