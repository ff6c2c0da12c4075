"""Diagnostic analytics: does an environment KPI move with a network KPI?

Both series are put on one grid (means per step) and compared at lags of up to
``max_lag`` steps either way. For the best lag the answer carries Pearson's r,
Spearman's rho (r of the ranks, robust to outliers and monotone non-linearity), the
least-squares slope, and a two-sided p-value from Fisher's z-transform with the sample
size cut to its *effective* value: neighbouring samples of a time series are not
independent, so n is scaled by (1 - r_a r_b) / (1 + r_a r_b) with the lag-1
autocorrelations r_a, r_b (Bretherton et al., J. Climate 12, 1999, eq. 31), and the
p-value is multiplied by the number of lags tried (Bonferroni). Evidence: the aligned
pairs binned by the first KPI (mean of the second per bin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from server.analytics.series import FloatArray, Series, align

__all__ = ["MIN_PAIRS", "Correlation", "correlate", "strength"]

#: Fewer aligned pairs than this give no answer.
MIN_PAIRS = 20
#: A correlation is reported as found when p < this and |r| >= `FOUND_R`.
FOUND_P = 0.01
FOUND_R = 0.3


@dataclass(frozen=True, slots=True)
class Correlation:
    """How two series move together, with the numbers behind the claim."""

    a: str
    b: str
    n: int
    effective_n: float
    r: float
    rho: float
    lag_seconds: float
    slope: float
    p_value: float
    step: float
    bins: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.p_value < FOUND_P and abs(self.r) >= FOUND_R

    def text(self) -> str:
        lag = (
            ""
            if self.lag_seconds == 0
            else (
                f", {self.b} lagging by {self.lag_seconds:.0f} s"
                if self.lag_seconds > 0
                else f", {self.b} leading by {-self.lag_seconds:.0f} s"
            )
        )
        sign = "" if strength(self.r) == "no" else (" positive" if self.r > 0 else " negative")
        return (
            f"{strength(self.r)}{sign} correlation "
            f"(r = {self.r:.2f}, Spearman {self.rho:.2f}, {self.n} pairs of {self.step:.0f} s "
            f"means, about {self.effective_n:.0f} independent, p = {self.p_value:.2g}{lag}); "
            f"{self.b} changes by {self.slope:+.3g} per unit of {self.a}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "n": self.n,
            "effectiveN": round(self.effective_n, 1),
            "r": round(self.r, 4),
            "rho": round(self.rho, 4),
            "lagSeconds": self.lag_seconds,
            "slope": float(f"{self.slope:.6g}"),
            "pValue": float(f"{self.p_value:.4g}"),
            "stepSeconds": self.step,
            "found": self.found,
            "strength": strength(self.r),
            "evidence": {
                "text": self.text(),
                "bins": [
                    {"a": round(x, 3), "meanB": round(y, 3), "count": c} for x, y, c in self.bins
                ],
            },
        }


def strength(r: float) -> str:
    """Words for |r| (the usual 0.3 / 0.5 / 0.7 steps)."""
    size = abs(r)
    if size >= 0.7:
        return "strong"
    if size >= 0.5:
        return "moderate"
    if size >= 0.3:
        return "weak"
    return "no"


def _pearson(x: FloatArray, y: FloatArray) -> float:
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return 0.0
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def _ranks(x: FloatArray) -> FloatArray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(x.size, dtype=np.float64)
    # Ties share their mean rank.
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    if values.size < x.size:
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def _lag1(x: FloatArray) -> float:
    return _pearson(x[:-1], x[1:]) if x.size > 2 else 0.0


def correlate(a: Series, b: Series, step: float, max_lag: int = 0) -> Correlation | None:
    """Correlation of ``a`` and ``b`` on a ``step``-second grid; None with too few pairs."""
    if len(a) == 0 or len(b) == 0:
        return None
    _, va, vb = align(a, b, step)
    if va.size < MIN_PAIRS:
        return None
    best: tuple[float, int] | None = None
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            x, y = va[: va.size - lag], vb[lag:]
        else:
            x, y = va[-lag:], vb[: vb.size + lag]
        if x.size < MIN_PAIRS:
            continue
        r = _pearson(x, y)
        if best is None or abs(r) > abs(best[0]) + 1e-12:
            best = (r, lag)
    if best is None:
        return None
    r, lag = best
    x, y = (va[: va.size - lag], vb[lag:]) if lag >= 0 else (va[-lag:], vb[: vb.size + lag])
    n = x.size
    ra, rb = _lag1(x), _lag1(y)
    factor = (1 - ra * rb) / (1 + ra * rb) if ra * rb < 1 else 0.0
    n_eff = float(min(n, max(3.0, n * factor)))
    clipped = min(max(r, -0.999999), 0.999999)
    z = math.atanh(clipped) * math.sqrt(max(n_eff - 3, 1e-9))
    p = min(1.0, math.erfc(abs(z) / math.sqrt(2)) * (2 * max_lag + 1))
    slope = float(np.polyfit(x, y, 1)[0]) if x.std() > 0 else 0.0
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 9)))
    bins = []
    if edges.size > 1:
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
        for i in range(edges.size - 1):
            mask = which == i
            if mask.any():
                bins.append((float(x[mask].mean()), float(y[mask].mean()), int(mask.sum())))
    return Correlation(
        a.label,
        b.label,
        n,
        n_eff,
        r,
        _pearson(_ranks(x), _ranks(y)),
        lag * step,
        slope,
        p,
        step,
        bins,
    )
