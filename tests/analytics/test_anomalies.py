"""Anomaly detectors on synthetic series whose anomalies are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from server.analytics.anomalies import detect, find_gaps, find_stuck, noise_sigma
from server.analytics.series import Series

T0 = 1_750_000_000.0


def series(values: np.ndarray, metric: str = "rsrp", step: float = 1.0) -> Series:
    return Series.of(metric, metric, T0 + step * np.arange(values.size), values)


@pytest.mark.parametrize("seed", range(5))
def test_a_sudden_rsrp_drop_is_found_at_its_sample(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = -92 + rng.normal(0, 2, 900)
    values[613:] -= 14
    found = detect(series(values))
    assert [a.kind for a in found] == ["drop"]
    drop = found[0]
    assert drop.start == T0 + 613
    assert drop.before == pytest.approx(-92, abs=1.5)
    assert drop.after == pytest.approx(-106, abs=1.5)
    assert drop.delta == pytest.approx(-14, abs=2)
    assert "before" in drop.text and drop.points


def test_a_rise_is_reported_as_a_rise() -> None:
    rng = np.random.default_rng(9)
    values = -80 + rng.normal(0, 1.5, 400)
    values[150:] += 12
    found = detect(series(values, "rssi"))
    assert [(a.kind, a.start) for a in found] == [("rise", T0 + 150)]


@pytest.mark.parametrize("seed", range(10))
def test_clean_noisy_series_have_no_anomaly(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    assert detect(series(-95 + rng.normal(0, 3, 1200))) == []
    # Integer dBm, as phones report them.
    assert detect(series(np.round(-70 + rng.normal(0, 3, 1200)), "rssi")) == []
    # A slow daily cycle in CO2 with sensor noise.
    t = np.arange(1440)
    co2 = 700 + 250 * np.sin(t / 1440 * 2 * np.pi) + rng.normal(0, 8, 1440)
    assert detect(series(co2, "co2", step=60)) == []


def test_a_steady_decline_is_not_a_sudden_drop() -> None:
    rng = np.random.default_rng(3)
    values = -80 - 0.04 * np.arange(1000) + rng.normal(0, 1, 1000)
    assert detect(series(values)) == []


def test_small_shifts_below_the_kpi_threshold_are_not_reported() -> None:
    rng = np.random.default_rng(4)
    values = -90 + rng.normal(0, 0.3, 600)
    values[300:] -= 5  # very significant statistically, but under the 8 dB RSRP floor
    assert detect(series(values)) == []


def test_a_spike_is_found_with_its_neighbours_median() -> None:
    rng = np.random.default_rng(5)
    values = -70 + rng.normal(0, 2, 500)
    values[321] = -35
    found = detect(series(values, "rssi"))
    assert [(a.kind, a.start, a.value) for a in found] == [("spike", T0 + 321, -35)]
    assert found[0].before == pytest.approx(-70, abs=2)


def test_a_stuck_co2_sensor_is_found_from_start_to_end() -> None:
    rng = np.random.default_rng(6)
    t = np.arange(720)
    co2 = np.round(600 + 120 * np.sin(t / 90) + rng.normal(0, 6, 720), 1)
    co2[200:330] = co2[200]
    found = detect(series(co2, "co2", step=60))
    assert [(a.kind, a.start, a.end) for a in found] == [("stuck", T0 + 200 * 60, T0 + 329 * 60)]
    assert found[0].value == co2[200]
    assert "130 identical samples" in found[0].text


def test_a_whole_window_of_one_value_is_stuck_but_not_for_counts() -> None:
    flat = np.full(50, 21.5)
    assert [a.kind for a in find_stuck(series(flat, "temperature"))] == ["stuck"]
    assert find_stuck(series(np.zeros(50), "occupantCount")) == []


def test_repeats_that_the_series_makes_anyway_are_not_stuck() -> None:
    # A coarse signal that repeats values most of the time.
    rng = np.random.default_rng(7)
    steps = rng.choice([0, 0, 0, 0, 0, 0, 1, -1], size=2000)
    values = np.clip(-70 + np.cumsum(steps) * 0.0 + steps, -100, -30)
    assert find_stuck(series(values, "rssi")) == []


def test_a_silence_is_a_gap() -> None:
    times = np.concatenate([np.arange(100.0), 700 + np.arange(100.0)])
    s = Series.of(
        "rssi",
        "rssi",
        T0 + times,
        np.full(times.size, -60.0) + np.random.default_rng(8).normal(0, 1, times.size),
    )
    gaps = find_gaps(s)
    assert [(g.start, g.end) for g in gaps] == [(T0 + 99, T0 + 700)]
    assert "601 s" in gaps[0].text


def test_noise_sigma_ignores_a_step() -> None:
    rng = np.random.default_rng(10)
    values = rng.normal(0, 2, 2000)
    values[1000:] += 50
    assert noise_sigma(values) == pytest.approx(2, rel=0.1)
