"""Predictive analytics: a short-horizon forecast of a KPI, with its error measured on
data the model did not see.

The series is put on a regular grid (last value carried forward, as a twin shows it).
Five candidates compete: *no change* (persistence, the baseline), the mean of the last
samples, the least-squares line through the last samples extrapolated, simple
exponential smoothing and Holt's damped-trend smoothing (Gardner & McKenzie 1985).
Smoothing parameters are chosen by one-step squared error on the first part of the
series only; the last part is held back. On it every candidate forecasts
``h`` steps ahead from each origin (rolling origin), and the candidate with the lowest
mean absolute error wins. Its error and the persistence error are reported, so a
forecast never looks better than it measured. The interval is +-1.96 times the held-back
RMSE at the horizon, scaled by sqrt(k/h) for nearer steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from server.analytics.series import FloatArray, Series, iso, resample

__all__ = ["MIN_SAMPLES", "Forecast", "forecast"]

#: Fewer grid points than this give no forecast.
MIN_SAMPLES = 30
#: At most this many grid points (the most recent) are used.
MAX_SAMPLES = 5000
_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)
_BETAS = (0.01, 0.05, 0.1, 0.2)
_PHI = 0.98
_MEAN_WINDOW = 30


@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecast points and the held-back evaluation that qualifies them."""

    series: str
    metric: str
    model: str
    params: dict[str, float]
    step: float
    horizon: int
    points: list[tuple[float, float, float, float]]
    mae: float
    rmse: float
    baseline_mae: float
    holdout: int
    candidates: dict[str, float] = field(default_factory=dict)
    twin: str = ""
    path: str = ""

    @property
    def skill(self) -> float:
        """1 - MAE / persistence MAE: above 0 beats "no change"."""
        return 1.0 - self.mae / self.baseline_mae if self.baseline_mae > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "metric": self.metric,
            "model": self.model,
            "params": self.params,
            "stepSeconds": self.step,
            "horizonSeconds": round(self.horizon * self.step, 3),
            "twin": self.twin,
            "path": self.path,
            "forecast": [
                {"time": iso(t), "value": round(v, 3), "low": round(lo, 3), "high": round(hi, 3)}
                for t, v, lo, hi in self.points
            ],
            "error": {
                "mae": round(self.mae, 4),
                "rmse": round(self.rmse, 4),
                "baselineMae": round(self.baseline_mae, 4),
                "skill": round(self.skill, 4),
                "holdout": self.holdout,
                "candidates": {k: round(v, 4) for k, v in self.candidates.items()},
            },
        }


def _ses_levels(y: FloatArray, alpha: float) -> FloatArray:
    level = np.empty_like(y)
    current = y[0]
    for i, value in enumerate(y):
        current = alpha * value + (1 - alpha) * current
        level[i] = current
    return level


def _holt_states(y: FloatArray, alpha: float, beta: float) -> tuple[FloatArray, FloatArray]:
    level = np.empty_like(y)
    trend = np.empty_like(y)
    lv, tr = y[0], (y[1] - y[0]) if y.size > 1 else 0.0
    for i, value in enumerate(y):
        previous = lv
        lv = alpha * value + (1 - alpha) * (previous + _PHI * tr)
        tr = beta * (lv - previous) + (1 - beta) * _PHI * tr
        level[i], trend[i] = lv, tr
    return level, trend


def _damped(h: int) -> float:
    return sum(_PHI**k for k in range(1, h + 1))


def _fit_ses(y: FloatArray) -> float:
    best = (math.inf, 1.0)
    for alpha in _ALPHAS:
        level = _ses_levels(y, alpha)
        sse = float(np.sum((y[1:] - level[:-1]) ** 2))
        best = min(best, (sse, alpha))
    return best[1]


def _fit_holt(y: FloatArray) -> tuple[float, float]:
    best = (math.inf, 1.0, 0.1)
    for alpha in _ALPHAS:
        for beta in _BETAS:
            level, trend = _holt_states(y, alpha, beta)
            sse = float(np.sum((y[1:] - (level[:-1] + _PHI * trend[:-1])) ** 2))
            best = min(best, (sse, alpha, beta))
    return best[1], best[2]


def _rolling_line(y: FloatArray, window: int, h: int) -> FloatArray:
    """Least-squares line through ``y[i-window+1..i]``, evaluated ``h`` steps later."""
    t = np.arange(y.size, dtype=np.float64)
    zero = np.zeros(1)
    c1 = np.concatenate((zero, np.cumsum(t)))
    cy = np.concatenate((zero, np.cumsum(y)))
    ct2 = np.concatenate((zero, np.cumsum(t * t)))
    cty = np.concatenate((zero, np.cumsum(t * y)))
    idx = np.arange(y.size)
    lo = np.maximum(0, idx + 1 - window)
    n = (idx + 1 - lo).astype(np.float64)
    st, sy = c1[idx + 1] - c1[lo], cy[idx + 1] - cy[lo]
    stt, sty = ct2[idx + 1] - ct2[lo], cty[idx + 1] - cty[lo]
    denom = n * stt - st * st
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(denom > 0, (n * sty - st * sy) / np.where(denom > 0, denom, 1), 0.0)
    intercept = (sy - slope * st) / n
    return intercept + slope * (t + h)


def _predictions(y: FloatArray, model: str, params: dict[str, float], h: int) -> FloatArray:
    """``out[i]`` is the ``h``-step forecast made with data up to index ``i``."""
    if model == "persistence":
        return y.copy()
    if model == "mean":
        csum = np.cumsum(np.concatenate(([0.0], y)))
        idx = np.arange(y.size)
        lo = np.maximum(0, idx + 1 - _MEAN_WINDOW)
        return (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
    if model == "linear":
        return _rolling_line(y, int(params["window"]), h)
    if model == "ses":
        return _ses_levels(y, params["alpha"])
    level, trend = _holt_states(y, params["alpha"], params["beta"])
    return level + _damped(h) * trend


def forecast(series: Series, horizon_s: float, step: float | None = None) -> Forecast | None:
    """Forecast ``horizon_s`` seconds past the last sample; None with too little history."""
    if len(series) < 2:
        return None
    step = step or max(series.median_step(), 1e-3)
    grid, y = resample(series, step, how="last")
    keep = ~np.isnan(y)
    grid, y = grid[keep][-MAX_SAMPLES:], y[keep][-MAX_SAMPLES:]
    h = max(1, math.ceil(horizon_s / step))
    n = y.size
    holdout = max(10, n // 5)
    train_end = n - holdout
    if n < MIN_SAMPLES or train_end < max(10, h):
        return None
    train = y[:train_end]
    alpha = _fit_ses(train)
    holt_alpha, holt_beta = _fit_holt(train)
    window = float(min(max(3 * h, 30), 300, train_end))
    candidates: dict[str, dict[str, float]] = {
        "persistence": {},
        "mean": {"window": float(_MEAN_WINDOW)},
        "linear": {"window": window},
        "ses": {"alpha": alpha},
        "holt": {"alpha": holt_alpha, "beta": holt_beta, "phi": _PHI},
    }
    origins = np.arange(train_end - 1, n - h)  # forecasts of y[o + h] made at o
    if origins.size < 5:
        return None
    errors: dict[str, FloatArray] = {}
    for name, params in candidates.items():
        predicted = _predictions(y, name, params, h)
        errors[name] = y[origins + h] - predicted[origins]
    mae = {name: float(np.mean(np.abs(e))) for name, e in errors.items()}
    # Persistence wins ties: a model must measure better to be chosen.
    best = min(mae, key=lambda name: mae[name] - (1e-12 if name == "persistence" else 0))
    rmse = float(np.sqrt(np.mean(errors[best] ** 2)))
    params = candidates[best]
    points = []
    last_t = float(grid[-1])
    for k in range(1, h + 1):
        value = float(_predictions(y, best, params, k)[-1])
        half = 1.96 * rmse * math.sqrt(k / h)
        points.append((last_t + k * step, value, value - half, value + half))
    return Forecast(
        series.label,
        series.metric,
        best,
        params,
        step,
        h,
        points,
        mae[best],
        rmse,
        mae["persistence"],
        int(origins.size),
        mae,
        series.twin,
        series.path,
    )
