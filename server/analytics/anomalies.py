"""Diagnostic analytics: anomalies in one KPI series, each with its evidence.

Four detectors, all deterministic and robust to the heavy-tailed noise of radio KPIs:

- **level shifts** (a sudden RSRP drop, a jump in CO2): the difference of the medians of
  the ``w`` samples before and after each point, in units of the short-term noise
  (``sigma`` from the median absolute first difference, which a step barely moves).
  Where it exceeds the threshold, the change point is the split that minimises the
  squared error of a two-level fit (binary segmentation), and the shift must explain the
  neighbourhood better than a straight line does, so a steady decline is not "sudden".
- **spikes**: Hampel's filter, a sample far from the median of its neighbours in units of
  their median absolute deviation.
- **stuck values**: a run of identical values longer than chance allows, given how often
  the same series repeats a value around it (probability ``p**(L-1)`` below 1e-6), for
  KPIs that real sensors never hold still (CO2, PM, temperature, humidity, signal).
- **gaps**: no sample for much longer than the series' usual interval.

Thresholds per KPI are data (`PROFILES`), as the levels of the MQTT adapter are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from server.analytics.series import FloatArray, Series, iso

__all__ = [
    "PROFILES",
    "Anomaly",
    "MetricProfile",
    "detect",
    "find_gaps",
    "find_level_shifts",
    "find_spikes",
    "find_stuck",
    "noise_sigma",
]

Kind = Literal["drop", "rise", "spike", "stuck", "gap"]


@dataclass(frozen=True, slots=True)
class MetricProfile:
    """How large a change of one KPI must be to matter to an operator."""

    unit: str
    #: Smallest level shift reported (KPI units); the noise test applies as well.
    min_shift: float
    #: Smallest deviation of a spike from its neighbours.
    min_spike: float
    #: Whether a long run of one value means a fault (not for counts and states).
    can_stick: bool = True


PROFILES: dict[str, MetricProfile] = {
    "rsrp": MetricProfile("dBm", 8.0, 15.0),
    "rssi": MetricProfile("dBm", 8.0, 15.0),
    "rsrq": MetricProfile("dB", 4.0, 6.0),
    "sinr": MetricProfile("dB", 6.0, 10.0),
    "co2": MetricProfile("ppm", 150.0, 300.0),
    "pm25": MetricProfile("µg/m³", 15.0, 40.0),
    "pm10": MetricProfile("µg/m³", 25.0, 60.0),
    "temperature": MetricProfile("°C", 2.0, 3.0),
    "humidity": MetricProfile("%", 8.0, 12.0),
    "illuminance": MetricProfile("lx", 200.0, 400.0, can_stick=False),
    "occupantCount": MetricProfile("people", 3.0, 5.0, can_stick=False),
    # A state, not a measurement: its changes are events, never anomalies.
    "occupancy": MetricProfile("", math.inf, math.inf, can_stick=False),
    "level": MetricProfile("bars", 2.0, 3.0, can_stick=False),
}
_DEFAULT = MetricProfile("", 0.0, 0.0)

#: Level shift: |median difference| in noise units; spike: deviation in MAD units.
SHIFT_Z = 6.0
SPIKE_K = 5.0
#: A run this improbable (given the series' own repeat rate) is reported as stuck.
STUCK_P = 1e-6
MIN_STUCK_RUN = 10
#: A gap is this many usual intervals, and at least this many seconds.
GAP_FACTOR = 10.0
MIN_GAP_S = 60.0


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One finding, with the numbers that support it."""

    series: str
    metric: str
    kind: Kind
    start: float
    end: float
    #: The anomalous value (the level after a shift, the spike, the stuck value).
    value: float | None
    #: The level before and after (shifts), or the neighbours' median (spikes).
    before: float | None = None
    after: float | None = None
    #: How strong the evidence is (noise units, or -log10 of the run's probability).
    score: float = 0.0
    text: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)
    twin: str = ""
    path: str = ""

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    def to_json(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "metric": self.metric,
            "kind": self.kind,
            "start": iso(self.start),
            "end": iso(self.end),
            "value": _r(self.value),
            "before": _r(self.before),
            "after": _r(self.after),
            "delta": _r(self.delta),
            "score": round(self.score, 2),
            "twin": self.twin,
            "path": self.path,
            "evidence": {"text": self.text, "points": [[iso(t), _r(v)] for t, v in self.points]},
        }


def _r(value: float | None) -> float | None:
    return None if value is None else float(round(value, 3))


def noise_sigma(values: FloatArray) -> float:
    """Short-term noise: 1.4826 * MAD of first differences / sqrt(2) (robust to steps)."""
    if values.size < 3:
        return 0.0
    diffs = np.diff(values)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    sigma = 1.4826 * mad / math.sqrt(2)
    if sigma == 0.0:
        # Quantised, mostly flat signals: fall back to the mean absolute difference.
        sigma = float(np.mean(np.abs(diffs))) / math.sqrt(2)
    return sigma


def _evidence(series: Series, lo: int, hi: int, limit: int = 40) -> list[tuple[float, float]]:
    lo, hi = max(0, lo), min(len(series), hi)
    idx = np.arange(lo, hi)
    if idx.size > limit:
        idx = idx[np.linspace(0, idx.size - 1, limit).astype(int)]
    return [(float(series.times[i]), float(series.values[i])) for i in idx]


def _best_split(x: FloatArray) -> int:
    """Index that minimises the squared error of a two-level fit of ``x``."""
    n = x.size
    csum = np.cumsum(x)
    csq = np.cumsum(x * x)
    k = np.arange(1, n)
    left = csq[k - 1] - csum[k - 1] ** 2 / k
    right = (csq[-1] - csq[k - 1]) - (csum[-1] - csum[k - 1]) ** 2 / (n - k)
    return int(k[np.argmin(left + right)])


def _sse_line(x: FloatArray) -> float:
    t = np.arange(x.size, dtype=np.float64)
    coef = np.polyfit(t, x, 1)
    return float(np.sum((x - np.polyval(coef, t)) ** 2))


def _sse_step(x: FloatArray, k: int) -> float:
    a, b = x[:k], x[k:]
    return float(np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2))


def find_level_shifts(
    series: Series, profile: MetricProfile | None = None, window: int | None = None
) -> list[Anomaly]:
    """Sudden drops and rises (see the module docstring)."""
    profile = profile or PROFILES.get(series.metric, _DEFAULT)
    x = series.values
    n = x.size
    w = window or max(5, min(30, n // 10))
    if n < 2 * w + 1:
        return []
    sigma = noise_sigma(x)
    scale = max(sigma, 1e-9) * 1.2533 * math.sqrt(2.0 / w)
    windows = np.lib.stride_tricks.sliding_window_view(x, w)
    med = np.median(windows, axis=1)
    # d[i] compares x[i-w:i] with x[i:i+w], for i in w .. n-w.
    d = med[w:] - med[:-w]
    index = np.arange(w, n - w + 1)
    z = d / scale
    hit = (np.abs(z) >= SHIFT_Z) & (np.abs(d) >= profile.min_shift)
    out: list[Anomaly] = []
    i = 0
    while i < hit.size:
        if not hit[i]:
            i += 1
            continue
        j = i
        while j + 1 < hit.size and hit[j + 1] and np.sign(d[j + 1]) == np.sign(d[i]):
            j += 1
        lo = max(0, int(index[i]) - w)
        hi = min(n, int(index[j]) + w)
        k = lo + _best_split(x[lo:hi])
        a0, b0 = max(0, k - w), min(n, k + w)
        local = x[a0:b0]
        split = k - a0
        sudden = 0 < split < local.size and _sse_step(local, split) < 0.6 * max(
            _sse_line(local), 1e-12
        )
        before = float(np.median(x[max(0, k - w) : k]))
        after = float(np.median(x[k : min(n, k + w)]))
        delta = after - before
        if sudden and abs(delta) >= profile.min_shift and abs(delta) / scale >= SHIFT_Z:
            kind: Kind = "drop" if delta < 0 else "rise"
            unit = f" {profile.unit}" if profile.unit else ""
            out.append(
                Anomaly(
                    series.label,
                    series.metric,
                    kind,
                    float(series.times[k]),
                    float(series.times[k]),
                    after,
                    before,
                    after,
                    abs(delta) / scale,
                    f"median {before:.1f}{unit} over the {w} samples before, {after:.1f}{unit} "
                    f"over the {w} after ({delta:+.1f}{unit}, {abs(delta) / scale:.0f}x the "
                    f"noise of a {w}-sample median; short-term noise {sigma:.2f}{unit})",
                    _evidence(series, k - w, k + w),
                    series.twin,
                    series.path,
                )
            )
        i = j + 1
    return out


def find_spikes(
    series: Series, profile: MetricProfile | None = None, half_window: int = 5
) -> list[Anomaly]:
    """Isolated outliers (Hampel filter, ``SPIKE_K`` scaled MADs from the local median)."""
    profile = profile or PROFILES.get(series.metric, _DEFAULT)
    x = series.values
    n = x.size
    k = half_window
    if n < 2 * k + 1:
        return []
    windows = np.lib.stride_tricks.sliding_window_view(x, 2 * k + 1)
    med = np.median(windows, axis=1)
    mad = 1.4826 * np.median(np.abs(windows - med[:, None]), axis=1)
    floor = max(noise_sigma(x), 1e-9)
    centre = x[k : n - k]
    dev = centre - med
    limit = np.maximum(SPIKE_K * np.maximum(mad, floor), profile.min_spike)
    out = []
    for offset in np.nonzero(np.abs(dev) > limit)[0]:
        i = int(offset) + k
        unit = f" {profile.unit}" if profile.unit else ""
        spread = float(max(mad[offset], floor))
        out.append(
            Anomaly(
                series.label,
                series.metric,
                "spike",
                float(series.times[i]),
                float(series.times[i]),
                float(x[i]),
                float(med[offset]),
                float(med[offset]),
                abs(float(dev[offset])) / spread,
                f"{x[i]:.1f}{unit} against a median of {med[offset]:.1f}{unit} in the "
                f"{2 * k} neighbouring samples ({abs(dev[offset]) / spread:.0f} scaled MADs)",
                _evidence(series, i - 2 * k, i + 2 * k + 1),
                series.twin,
                series.path,
            )
        )
    return out


def _runs(x: FloatArray) -> list[tuple[int, int]]:
    """Maximal runs of equal consecutive values as (start, end exclusive)."""
    if x.size == 0:
        return []
    change = np.nonzero(np.diff(x) != 0)[0] + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [x.size]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def find_stuck(
    series: Series, profile: MetricProfile | None = None, min_run: int = MIN_STUCK_RUN
) -> list[Anomaly]:
    """Runs of one value that the series' own repeat rate makes implausible."""
    profile = profile or PROFILES.get(series.metric, _DEFAULT)
    x = series.values
    if not profile.can_stick or x.size < min_run:
        return []
    runs = [r for r in _runs(x) if r[1] - r[0] >= min_run]
    if not runs:
        return []
    repeats = np.diff(x) == 0  # repeats[i]: x[i + 1] equals x[i]
    out = []
    for a, b in runs:
        length = b - a
        # How often the series repeats a value around the run (as long again on each
        # side, at least 30 steps; the run itself left out): a still room at night
        # repeats more than a busy afternoon. The whole series when that is too little.
        others = np.ones(x.size - 1, dtype=bool)
        others[a : b - 1] = False
        reach = max(length, 30)
        near = np.zeros(x.size - 1, dtype=bool)
        near[max(0, a - reach) : min(x.size - 1, b + reach)] = True
        local, whole = repeats[others & near], repeats[others]
        p_repeat = (
            float(local.mean())
            if local.size >= min_run
            else float(whole.mean())
            if whole.size >= min_run
            else None
        )
        if p_repeat is None:
            log_p = -math.inf  # the whole window holds one value
            why = f"the only value in the window ({length} samples)"
        else:
            log_p = (length - 1) * math.log10(p_repeat) if p_repeat > 0 else -math.inf
            chance = "nil" if log_p == -math.inf else f"about 1e{log_p:.0f}"
            why = (
                f"{length} identical samples; around it this series repeats a value in "
                f"{p_repeat:.1%} of steps, so the chance of such a run is {chance}"
            )
        if log_p > math.log10(STUCK_P):
            continue
        unit = f" {profile.unit}" if profile.unit else ""
        t0, t1 = float(series.times[a]), float(series.times[b - 1])
        out.append(
            Anomaly(
                series.label,
                series.metric,
                "stuck",
                t0,
                t1,
                float(x[a]),
                score=min(99.0, -log_p),
                text=f"held {x[a]:.2f}{unit} for {t1 - t0:.0f} s: {why}",
                points=_evidence(series, a - 5, b + 5),
                twin=series.twin,
                path=series.path,
            )
        )
    return out


def find_gaps(
    series: Series, factor: float = GAP_FACTOR, min_gap: float = MIN_GAP_S
) -> list[Anomaly]:
    """Silences much longer than the usual sampling interval."""
    if len(series) < 10:
        return []
    step = series.median_step()
    limit = max(factor * step, min_gap)
    gaps = np.diff(series.times)
    out = []
    for i in np.nonzero(gaps > limit)[0]:
        t0, t1 = float(series.times[i]), float(series.times[i + 1])
        out.append(
            Anomaly(
                series.label,
                series.metric,
                "gap",
                t0,
                t1,
                None,
                score=(t1 - t0) / max(step, 1e-9),
                text=f"no sample for {t1 - t0:.0f} s (usually every {step:.1f} s)",
                points=_evidence(series, int(i) - 3, int(i) + 4),
                twin=series.twin,
                path=series.path,
            )
        )
    return out


def detect(series: Series, gaps: bool = True) -> list[Anomaly]:
    """Every detector on one series (``gaps`` False: silences are expected, as on a link
    that a moving device leaves behind).

    A stuck sensor that recovers jumps to the true value: that jump, and spikes next to
    a level shift, are consequences of another finding and are left out.
    """
    step = max(series.median_step(), 1e-9)
    stuck = find_stuck(series)
    shifts = [
        c
        for c in find_level_shifts(series)
        if not any(s.start - 2 * step <= c.start <= s.end + 2 * step for s in stuck)
    ]
    spikes = [
        s
        for s in find_spikes(series)
        if not any(abs(s.start - c.start) <= 2 * step for c in shifts)
        and not any(c.start <= s.start <= c.end for c in stuck)
    ]
    found = shifts + spikes + stuck + (find_gaps(series) if gaps else [])
    return sorted(found, key=lambda a: a.start)
