"""Descriptive analytics: how a KPI was distributed over a window.

`summarize` gives count, mean, standard deviation, extremes and the percentiles operators
read (5, 25, 50, 75, 95; linear interpolation between order statistics, NumPy's default,
which is Hyndman & Fan's definition 7). When the series was read as bucket means, each
value is weighted by the samples it stands for, so percentiles are those of the bucket
means, not of the raw samples; `Summary.resolution` says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from server.analytics.series import FloatArray, Series, iso

__all__ = ["PERCENTILES", "Summary", "histogram", "summarize"]

PERCENTILES = (5, 25, 50, 75, 95)


@dataclass(frozen=True, slots=True)
class Summary:
    """The distribution of one series over a window."""

    label: str
    metric: str
    count: int
    mean: float | None
    std: float | None
    min: float | None
    p05: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p95: float | None
    max: float | None
    first: str | None
    last: str | None
    resolution: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _round(value: float) -> float:
    return float(round(value, 4))


def _weighted_percentiles(
    values: FloatArray, weights: FloatArray, qs: tuple[int, ...]
) -> list[float]:
    """Type-7 percentiles of the multiset where each value occurs ``weight`` times."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    counts = np.maximum(np.round(weights[order]), 0)
    ends = np.cumsum(counts)  # positions (1-based) where each value's copies end
    total = float(ends[-1])
    out = []
    for q in qs:
        position = q / 100 * (total - 1)
        lo, frac = int(np.floor(position)), position - np.floor(position)
        below = v[np.searchsorted(ends, lo + 1)]
        above = v[np.searchsorted(ends, min(lo + 2, total))]
        out.append(float(below + frac * (above - below)))
    return out


def summarize(series: Series, counts: FloatArray | None = None) -> Summary:
    """The distribution of ``series``; ``counts`` weights bucket means by their samples."""
    v = series.values
    if v.size == 0:
        return Summary(
            series.label,
            series.metric,
            0,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            series.resolution,
        )
    if counts is not None and counts.size == v.size and counts.sum() > 0:
        weights = counts.astype(np.float64)
        mean = float(np.average(v, weights=weights))
        std = float(np.sqrt(np.average((v - mean) ** 2, weights=weights)))
        pct = _weighted_percentiles(v, weights, PERCENTILES)
        count = int(counts.sum())
    else:
        mean, std = float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0
        pct = [float(x) for x in np.percentile(v, PERCENTILES)]
        count = int(v.size)
    p05, p25, p50, p75, p95 = (_round(p) for p in pct)
    return Summary(
        series.label,
        series.metric,
        count,
        _round(mean),
        _round(std),
        _round(float(v.min())),
        p05,
        p25,
        p50,
        p75,
        p95,
        _round(float(v.max())),
        iso(float(series.times[0])),
        iso(float(series.times[-1])),
        series.resolution,
    )


def histogram(series: Series, bins: int = 12) -> dict[str, list[float]]:
    """Counts over ``bins`` equal-width bins between the series' extremes."""
    if len(series) == 0:
        return {"edges": [], "counts": []}
    lo, hi = float(series.values.min()), float(series.values.max())
    if hi == lo:
        hi = lo + 1.0
    counts, edges = np.histogram(series.values, bins=bins, range=(lo, hi))
    return {"edges": [_round(e) for e in edges], "counts": [int(c) for c in counts]}
