"""Descriptive statistics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from server.analytics.describe import histogram, summarize
from server.analytics.series import Series, align, resample

T0 = 1_750_000_000.0


def test_percentiles_of_one_to_a_hundred() -> None:
    s = Series.of("x", "rssi", T0 + np.arange(100.0), np.arange(1.0, 101.0))
    summary = summarize(s)
    assert (summary.count, summary.min, summary.max, summary.mean) == (100, 1, 100, 50.5)
    # Linear interpolation between order statistics (Hyndman & Fan type 7).
    assert (summary.p05, summary.p25, summary.p50, summary.p75, summary.p95) == (
        5.95,
        25.75,
        50.5,
        75.25,
        95.05,
    )
    assert summary.std == pytest.approx(29.0115, abs=1e-4)
    assert summary.first == "2025-06-15T15:06:40.000Z"


def test_bucket_means_are_weighted_by_their_samples() -> None:
    s = Series.of("x", "co2", T0 + np.array([0.0, 60.0]), np.array([400.0, 1000.0]))
    summary = summarize(s, counts=np.array([3.0, 1.0]))
    assert summary.count == 4
    assert summary.mean == 550.0
    assert summary.p50 == 400.0


def test_an_empty_series_has_only_a_count() -> None:
    summary = summarize(Series.of("x", "rssi", [], []))
    assert summary.count == 0 and summary.mean is None


def test_histogram_counts_every_value() -> None:
    s = Series.of("x", "rssi", T0 + np.arange(10.0), np.arange(10.0))
    hist = histogram(s, bins=5)
    assert hist["counts"] == [2, 2, 2, 2, 2]
    assert hist["edges"][0] == 0 and hist["edges"][-1] == 9


def test_resample_means_and_carried_values() -> None:
    s = Series.of("x", "rssi", T0 + np.array([0.0, 1.0, 5.0]), np.array([1.0, 3.0, 7.0]))
    grid, mean = resample(s, 2.0)
    assert grid.tolist() == [T0, T0 + 2, T0 + 4]
    assert mean[0] == 2.0 and np.isnan(mean[1]) and mean[2] == 7.0
    _, last = resample(s, 2.0, how="last")
    assert last.tolist() == [3.0, 3.0, 7.0]


def test_align_keeps_common_steps() -> None:
    a = Series.of("a", "co2", T0 + np.arange(6.0), np.arange(6.0))
    b = Series.of("b", "rssi", T0 + np.array([0.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0]))
    grid, va, vb = align(a, b, 2.0)
    assert grid.tolist() == [T0, T0 + 4]
    assert va.tolist() == [0.5, 4.5] and vb.tolist() == [1.0, 2.5]


@pytest.mark.parametrize("seed", range(5))
def test_weighted_percentiles_equal_those_of_the_expanded_samples(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(-80, 6, 40)
    counts = rng.integers(1, 30, 40).astype(float)
    summary = summarize(Series.of("x", "rsrp", T0 + np.arange(40.0), values), counts)
    expanded = np.repeat(values, counts.astype(int))
    expected = np.percentile(expanded, [5, 25, 50, 75, 95])
    got = [summary.p05, summary.p25, summary.p50, summary.p75, summary.p95]
    assert got == pytest.approx([round(float(e), 4) for e in expected], abs=1e-3)
