"""Correlation with honest significance on synthetic environment and network series."""

from __future__ import annotations

import numpy as np
import pytest

from server.analytics.correlation import correlate, strength
from server.analytics.series import Series

T0 = 1_750_000_000.0


def test_occupancy_lowering_wifi_rssi_is_found_with_its_slope() -> None:
    rng = np.random.default_rng(1)
    minutes = np.arange(3 * 1440)
    people = np.where((minutes % 1440 >= 540) & (minutes % 1440 < 1020), 25, 1) + rng.poisson(
        2, minutes.size
    )
    rssi = -58 - 0.15 * people + rng.normal(0, 1.0, minutes.size)
    result = correlate(
        Series.of("occupants", "occupantCount", T0 + 60 * minutes, people),
        Series.of("rssi", "rssi", T0 + 60 * minutes, rssi),
        step=300,
    )
    assert result is not None and result.found
    assert result.r < -0.7 and result.rho < -0.5
    assert result.slope == pytest.approx(-0.15, abs=0.03)
    assert result.lag_seconds == 0
    assert result.effective_n < result.n  # autocorrelated: fewer independent samples
    assert result.to_json()["evidence"]["bins"]


def test_a_lagged_response_is_found_at_its_lag() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    driver = np.convolve(rng.normal(0, 1, n + 50), np.ones(20) / 20, mode="same")[:n]
    follower = np.roll(driver, 3) * 40 + rng.normal(0, 0.5, n)
    result = correlate(
        Series.of("a", "co2", T0 + 60 * np.arange(n), driver),
        Series.of("b", "rssi", T0 + 60 * np.arange(n), follower),
        step=60,
        max_lag=6,
    )
    assert result is not None and result.found
    assert result.lag_seconds == 180


@pytest.mark.parametrize("seed", range(8))
def test_independent_random_walks_are_not_reported(seed: int) -> None:
    rng = np.random.default_rng(50 + seed)
    n = 1440
    a = 600 + np.cumsum(rng.normal(0, 5, n))
    b = -65 + np.cumsum(rng.normal(0, 0.5, n))
    result = correlate(
        Series.of("a", "co2", T0 + 60 * np.arange(n), a),
        Series.of("b", "rssi", T0 + 60 * np.arange(n), b),
        step=300,
        max_lag=3,
    )
    assert result is not None
    assert not result.found, result.text()


def test_too_few_overlapping_pairs_give_no_answer() -> None:
    a = Series.of("a", "co2", T0 + np.arange(10.0), np.arange(10.0))
    b = Series.of("b", "rssi", T0 + np.arange(10.0), np.arange(10.0))
    assert correlate(a, b, step=1) is None


def test_strength_words() -> None:
    assert [strength(r) for r in (0.1, -0.35, 0.55, -0.9)] == ["no", "weak", "moderate", "strong"]
