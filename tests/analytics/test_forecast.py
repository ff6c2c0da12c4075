"""Forecasts judged on held-back data, against "no change"."""

from __future__ import annotations

import numpy as np
import pytest

from server.analytics.forecast import forecast
from server.analytics.series import Series

T0 = 1_750_000_000.0


def test_a_trend_is_extrapolated_and_beats_persistence() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(900.0)
    values = -70 - 0.05 * t + rng.normal(0, 0.5, t.size)
    result = forecast(Series.of("rssi", "rssi", T0 + t, values), horizon_s=30)
    assert result is not None
    assert result.model in ("linear", "holt")
    assert result.horizon == 30 and len(result.points) == 30
    last_t, value, low, high = result.points[-1]
    assert last_t == T0 + 899 + 30
    assert value == pytest.approx(-70 - 0.05 * 929, abs=1.0)
    assert low < -70 - 0.05 * 929 < high
    assert result.mae < 0.6 * result.baseline_mae
    assert result.skill > 0.4
    assert result.mae == pytest.approx(0.4, abs=0.15)  # about the noise (sigma 0.5)


def test_white_noise_is_forecast_by_its_level_not_by_the_last_sample() -> None:
    rng = np.random.default_rng(4)
    values = -80 + rng.normal(0, 3, 800)
    result = forecast(Series.of("rsrp", "rsrp", T0 + np.arange(800.0), values), 60)
    assert result is not None
    assert result.model in ("mean", "ses")
    assert result.points[-1][1] == pytest.approx(-80, abs=1.5)
    # Persistence errs by sqrt(2) sigma on average: the level forecast measures better.
    assert result.baseline_mae == pytest.approx(3 * np.sqrt(2) * np.sqrt(2 / np.pi), rel=0.15)
    assert result.mae < result.baseline_mae


def test_a_random_walk_keeps_persistence() -> None:
    rng = np.random.default_rng(5)
    values = -75 + np.cumsum(rng.normal(0, 1, 700))
    result = forecast(Series.of("rssi", "rssi", T0 + np.arange(700.0), values), 10)
    assert result is not None
    # No candidate may claim much over "no change" on a random walk.
    assert result.skill < 0.1


def test_the_error_is_measured_on_the_held_back_fifth() -> None:
    values = np.sin(np.arange(500) / 10.0)
    result = forecast(Series.of("x", "co2", T0 + np.arange(500.0), values), 5)
    assert result is not None
    assert result.holdout == 500 // 5 + 1 - 5


def test_too_short_a_history_gives_no_forecast() -> None:
    assert forecast(Series.of("x", "rssi", T0 + np.arange(20.0), np.zeros(20)), 5) is None
