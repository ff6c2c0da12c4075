"""Signal level (0-4 bars) and quality label: thresholds as data, overridable by config.

Levels use Android's default carrier-config bar thresholds (the lower bounds of levels
1..4; below the first is level 0); labels use the widely quoted field buckets (lower
bounds of excellent, good, fair; below is poor). Both tables are in
signals-and-mqtt notes §3. Vendors disagree on buckets, so both can be replaced per key
in ``[adapters.mqtt] levels`` / ``quality``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT_LEVELS", "DEFAULT_QUALITY", "Grader"]

#: Lower bounds of levels 1, 2, 3, 4 by "{technology}.{metric}".
DEFAULT_LEVELS: dict[str, tuple[float, ...]] = {
    "lte.rsrp": (-128, -118, -108, -98),
    "lte.rsrq": (-20, -17, -14, -11),
    "lte.snr": (-3, 1, 5, 13),
    "nr.ssRsrp": (-110, -90, -80, -65),
    "nr.ssRsrq": (-31, -19, -7, 6),
    "nr.ssSinr": (-5, 5, 15, 30),
    "wcdma.rscp": (-114, -104, -94, -84),
    "wcdma.rssi": (-109, -103, -97, -89),
    "gsm.rssi": (-109, -103, -97, -89),
    "wifi.rssi": (-88, -77, -66, -55),
    # No platform default exists for BLE; these follow the Wi-Fi steps shifted by the
    # typical 10 dB lower beacon transmit power.
    "ble.rssi": (-98, -87, -76, -65),
}

#: Lower bounds of excellent, good, fair by "{technology}.{metric}"; lower is poor.
DEFAULT_QUALITY: dict[str, tuple[float, ...]] = {
    "lte.rsrp": (-80, -90, -100),
    "nr.ssRsrp": (-80, -90, -100),
    "lte.rsrq": (-10, -15, -20),
    "nr.ssRsrq": (-10, -15, -20),
    "lte.snr": (20, 13, 0),
    "nr.ssSinr": (20, 13, 0),
    "wcdma.rscp": (-70, -85, -100),
    "wcdma.rssi": (-70, -85, -100),
    "gsm.rssi": (-70, -85, -100),
    "wifi.rssi": (-50, -60, -70),
    "ble.rssi": (-60, -70, -80),
}

#: The metric each technology's level and label come from, in order of preference.
PREFERRED_METRICS: dict[str, tuple[str, ...]] = {
    "lte": ("rsrp", "rsrq", "snr"),
    "nr": ("ssRsrp", "ssRsrq", "ssSinr"),
    "wcdma": ("rscp", "rssi"),
    "gsm": ("rssi",),
    "wifi": ("rssi",),
    "ble": ("rssi",),
}

_LABELS = ("excellent", "good", "fair")


@dataclass(frozen=True, slots=True)
class Grader:
    """Derives level and label from a reading's metrics."""

    levels: Mapping[str, Sequence[float]] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    quality: Mapping[str, Sequence[float]] = field(default_factory=lambda: dict(DEFAULT_QUALITY))

    @classmethod
    def with_overrides(
        cls,
        levels: Mapping[str, Sequence[float]] | None = None,
        quality: Mapping[str, Sequence[float]] | None = None,
    ) -> Grader:
        merged_levels = dict(DEFAULT_LEVELS)
        merged_quality = dict(DEFAULT_QUALITY)
        for key, bounds in (levels or {}).items():
            if len(bounds) != 4 or list(bounds) != sorted(bounds):
                raise ValueError(f"levels.{key}: four ascending lower bounds are needed")
            merged_levels[key] = tuple(bounds)
        for key, bounds in (quality or {}).items():
            if len(bounds) != 3 or list(bounds) != sorted(bounds, reverse=True):
                raise ValueError(f"quality.{key}: three descending lower bounds are needed")
            merged_quality[key] = tuple(bounds)
        return cls(merged_levels, merged_quality)

    def grade(
        self,
        technology: str,
        metrics: Mapping[str, float | None],
    ) -> tuple[int, str | None]:
        """``(level, label)`` from the first preferred metric present; ``(0, None)`` if none."""
        for metric in PREFERRED_METRICS.get(technology, ()):
            value = metrics.get(metric)
            if value is None:
                continue
            key = f"{technology}.{metric}"
            level = sum(1 for bound in self.levels.get(key, ()) if value >= bound)
            label = "poor"
            for name, bound in zip(_LABELS, self.quality.get(key, ()), strict=False):
                if value >= bound:
                    label = name
                    break
            return level, label if key in self.quality else None
        return 0, None
