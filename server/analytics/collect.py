"""Read the KPI series of twins, sources and zones out of the core's history.

The core keeps a history point only when a leaf *changes*, stamped with the commit time.
A reading is richer than that: the MQTT adapter writes ``lastSeen`` (the measurement
time) with every sample, on the device-source relationship and on sensor twins. So a
series is rebuilt in event time: each revision that moved ``lastSeen`` is one sample at
that time, holding the KPI's latest value (carried forward when it did not change). A
sensor stuck on one value then shows as many equal samples, not as silence, and a replay
published faster than real time keeps its own clock.

Long windows are read as buckets (the store's per-bucket count/min/max/mean), with the
``lastSeen`` buckets saying how many samples each bucket held; a bucket with samples
but no KPI change holds the last value. `Series.resolution` tells the methods which.

Where the series live (docs/mqtt.md): a device's link KPIs on the device twin at
``/relationships/{device}~{source}/properties/{kpi}``; a source's KPIs at its observers;
a sensor's on itself at ``/attributes/{kpi}``; a zone is every twin whose
``attributes.location.zone`` names it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from server.analytics.series import Series
from server.core import errors
from server.core.context import Caller
from server.core.service import Core
from server.core.stores.records import HistoryPoint, RelationshipRecord, TwinRecord

__all__ = [
    "ENV_METRICS",
    "RAW_LIMIT_S",
    "SIGNAL_METRICS",
    "Collector",
    "Scope",
    "main_metric",
    "window_of",
]

#: Link KPIs of the Observation model, in the order they are shown.
SIGNAL_METRICS = ("rsrp", "rsrq", "sinr", "rssi")
#: Numeric environment KPIs of the EnvironmentSensor model (occupancy as 0/1).
ENV_METRICS = (
    "co2",
    "pm25",
    "pm10",
    "temperature",
    "humidity",
    "occupantCount",
    "occupancy",
    "illuminance",
)
#: Windows longer than this are read as buckets.
RAW_LIMIT_S = 6 * 3600.0
#: About this many buckets per series for longer windows.
BUCKETS = 2000
#: How far before a window's start to look for the value it starts with.
LOOKBACK_S = 600.0
_WORDS = {"occupied": 1.0, "vacant": 0.0, True: 1.0, False: 0.0}


def main_metric(properties: dict[str, Any]) -> str | None:
    """The KPI a link's strength is read from (what its level was graded on)."""
    kind = properties.get("sourceType")
    if kind in ("wifiAccessPoint", "bleBeacon"):
        return "rssi" if "rssi" in properties else None
    for metric in ("rsrp", "rssi"):
        if metric in properties:
            return metric
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value in ("occupied", "vacant"):
        return _WORDS[value]
    if isinstance(value, int | float):
        return float(value)
    return None


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class Scope:
    """What an analysis covers: one twin, or the twins of one zone."""

    twin: str | None = None
    zone: str | None = None

    def label(self) -> str:
        return f"zone {self.zone}" if self.zone else str(self.twin)


class Collector:
    """Builds series for one caller (the tenant comes from the caller only)."""

    def __init__(self, core: Core, caller: Caller) -> None:
        self.core = core
        self.caller = caller
        # lastSeen of a link or twin is shared by all its KPIs: read it once per window.
        self._seen: dict[tuple[str, str, float, float], list[HistoryPoint]] = {}

    # -- twins and relationships ------------------------------------------------------
    def twin(self, thing_id: str) -> TwinRecord:
        return self.core.twins.get_record(self.caller, thing_id)

    def relationships(
        self, *, source: str | None = None, target: str | None = None, limit: int = 5000
    ) -> list[RelationshipRecord]:
        out: list[RelationshipRecord] = []
        cursor: str | None = None
        while len(out) < limit:
            page, cursor = self.core.relationships.list(
                self.caller, source=source, target=target, type="observes", size=1000, cursor=cursor
            )
            out.extend(page)
            if cursor is None:
                break
        return out[:limit]

    def search(
        self, rql: str | None = None, namespaces: list[str] | None = None, limit: int = 2000
    ) -> list[dict[str, Any]]:
        """Twins matching an RQL filter (Ditto JSON), page by page."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(out) < limit:
            options = f"size(200),sort(+thingId){f',cursor({cursor})' if cursor else ''}"
            items, cursor = self.core.twins.search(self.caller, rql, options, namespaces=namespaces)
            out.extend(items)
            if cursor is None:
                break
        return out[:limit]

    def zone_members(self, zone: str) -> list[dict[str, Any]]:
        text = zone.replace("\\", "\\\\").replace('"', '\\"')
        return self.search(f'eq(attributes/location/zone,"{text}")')

    # -- history ------------------------------------------------------------------------
    def points(self, thing_id: str, path: str, start: float, end: float) -> list[HistoryPoint]:
        """Every point of one leaf in [start, end), past the core's per-query cap."""
        limit = self.core.settings.max_history_points
        out: list[HistoryPoint] = []
        seen: set[tuple[datetime, int]] = set()
        lo = _dt(start)
        hi = _dt(end)
        while True:
            page = self.core.history(self.caller, thing_id, path, lo, hi)
            fresh = [p for p in page if (p.time, p.revision) not in seen]
            out.extend(fresh)
            seen.update((p.time, p.revision) for p in fresh)
            if len(page) < limit or not fresh:
                return out
            lo = page[-1].time

    def sampled(
        self,
        thing_id: str,
        prefix: str,
        metric: str,
        start: float,
        end: float,
        label: str,
        current: Any = None,
    ) -> Series:
        """The KPI in event time (see the module docstring); raw samples."""
        memo = (thing_id, prefix, start, end)
        seen = self._seen.get(memo)
        if seen is None:
            seen = self._seen[memo] = self.points(thing_id, f"{prefix}/lastSeen", start, end)
        values = self.points(thing_id, f"{prefix}/{metric}", max(0.0, start - LOOKBACK_S), end)
        if not seen:
            # No measurement times (not written by the adapter): commit times then.
            kept = [
                (p.time.timestamp(), _number(p.value))
                for p in values
                if p.time.timestamp() >= start
            ]
            return Series.of(
                label,
                metric,
                [t for t, v in kept if v is not None],
                [v for _, v in kept if v is not None],
                twin=thing_id,
                path=f"{prefix}/{metric}",
            )
        # Merge in commit order; a KPI change and its lastSeen share time and revision.
        # (Revisions alone restart when an expired relationship is created again.)
        changes = sorted(((p.time, p.revision), _number(p.value)) for p in values)
        value: float | None = None
        if not values and current is not None and end >= time.time() - 5:
            value = _number(current)  # unchanged through a window that reaches now
        index = 0
        times: list[float] = []
        nums: list[float] = []
        for point in sorted(seen, key=lambda p: (p.time, p.revision)):
            key = (point.time, point.revision)
            while index < len(changes) and changes[index][0] <= key:
                value = changes[index][1]
                index += 1
            stamp = _number(point.value)
            if value is None or stamp is None:
                continue
            times.append(stamp)
            nums.append(value)
        return Series.of(label, metric, times, nums, twin=thing_id, path=f"{prefix}/{metric}")

    def bucketed(
        self,
        thing_id: str,
        prefix: str,
        metric: str,
        start: float,
        end: float,
        label: str,
        bucket: float,
    ) -> tuple[Series, np.ndarray]:
        """Bucket means of the KPI and the samples each stands for (commit time)."""
        lo, hi = _dt(start), _dt(end)
        kpi = self.core.history_buckets(self.caller, thing_id, f"{prefix}/{metric}", lo, hi, bucket)
        seen = self.core.history_buckets(
            self.caller, thing_id, f"{prefix}/lastSeen", lo, hi, bucket
        )
        means = {b.start: b.mean for b in kpi if b.mean is not None}
        counts = {b.start: b.count for b in seen}
        times, nums, weights = [], [], []
        last: float | None = None
        for stamp in sorted(set(means) | set(counts)):
            mean = means.get(stamp)
            value = mean if mean is not None else last
            if mean is not None:
                last = mean
            if value is None:
                continue
            times.append(stamp.timestamp())
            nums.append(value)
            weights.append(counts.get(stamp, 1))
        series = Series(
            label,
            metric,
            np.asarray(times, dtype=np.float64),
            np.asarray(nums, dtype=np.float64),
            thing_id,
            f"{prefix}/{metric}",
            bucket,
        )
        return series, np.asarray(weights, dtype=np.float64)

    def read(
        self,
        thing_id: str,
        prefix: str,
        metric: str,
        start: float,
        end: float,
        label: str,
        current: Any = None,
    ) -> tuple[Series, np.ndarray | None]:
        """Raw samples for short windows, buckets for long ones."""
        if end - start <= RAW_LIMIT_S:
            return self.sampled(thing_id, prefix, metric, start, end, label, current), None
        bucket = max(1.0, (end - start) / BUCKETS)
        return self.bucketed(thing_id, prefix, metric, start, end, label, bucket)

    # -- what a scope covers ------------------------------------------------------------
    def link_series(
        self,
        rel: RelationshipRecord,
        start: float,
        end: float,
        metrics: tuple[str, ...] | None = None,
        by_source: bool = True,
    ) -> Iterator[tuple[Series, np.ndarray | None]]:
        """The KPIs of one device-source link (read at the device twin)."""
        props = rel.properties
        wanted = metrics or tuple(m for m in SIGNAL_METRICS if m in props)
        prefix = f"/relationships/{rel.id}/properties"
        for metric in wanted:
            if metric not in props:
                continue
            label = f"{metric} from {rel.target}" if by_source else f"{metric} at {rel.source}"
            yield self.read(str(rel.source), prefix, metric, start, end, label, props[metric])

    def twin_series(
        self,
        thing_id: str,
        start: float,
        end: float,
        every_kpi: bool = False,
        limit: int = 12,
    ) -> list[tuple[Series, np.ndarray | None]]:
        """The KPI series of one twin: a device's links, a source's observers, a sensor."""
        record = self.twin(thing_id)
        attrs = record.doc.get("attributes", {}) or {}
        namespace = thing_id.partition(":")[0]
        out: list[tuple[Series, np.ndarray | None]] = []
        if namespace == "device":
            rels = sorted(
                self.relationships(source=thing_id),
                key=lambda r: -float(r.properties.get("lastSeen", 0)),
            )[:limit]
            for rel in rels:
                primary = rel.properties.get("connectionStatus") in ("primary", "secondary")
                metric = main_metric(rel.properties)
                metrics = None if every_kpi or primary else ((metric,) if metric else ())
                out.extend(self.link_series(rel, start, end, metrics))
        elif namespace in ("cell", "wifi", "ble"):
            rels = sorted(
                self.relationships(target=thing_id),
                key=lambda r: -float(r.properties.get("lastSeen", 0)),
            )[:limit]
            for rel in rels:
                metric = main_metric(rel.properties)
                metrics = None if every_kpi else ((metric,) if metric else ())
                out.extend(self.link_series(rel, start, end, metrics, by_source=False))
        for metric in (*ENV_METRICS, "batteryLevel"):
            if metric in attrs and _number(attrs[metric]) is not None:
                out.append(
                    self.read(
                        thing_id,
                        "/attributes",
                        metric,
                        start,
                        end,
                        f"{metric} of {thing_id}",
                        attrs[metric],
                    )
                )
        return out

    def scope_series(
        self,
        scope: Scope,
        start: float,
        end: float,
        limit: int = 12,
    ) -> list[tuple[Series, np.ndarray | None]]:
        if scope.twin is not None:
            return self.twin_series(scope.twin, start, end, limit=limit)
        assert scope.zone is not None
        members = self.zone_members(scope.zone)
        if not members:
            raise errors.NotFound(f"No twin has the zone '{scope.zone}'.")
        out: list[tuple[Series, np.ndarray | None]] = []
        for member in members[:50]:
            out.extend(self.twin_series(member["thingId"], start, end, limit=4))
        return out


def window_of(
    window: float | None, start: datetime | None, end: datetime | None, now: datetime | None = None
) -> tuple[float, float]:
    """[start, end) in epoch seconds from a window length or explicit times."""
    stop = (end or now or datetime.now(UTC)).timestamp()
    if start is not None:
        begin = start.timestamp()
    else:
        begin = stop - (window if window is not None else 3600.0)
    if not begin < stop:
        raise errors.BadRequest("The window is empty: start must be before end.")
    if stop - begin > timedelta(days=31).total_seconds():
        raise errors.BadRequest("The window may span at most 31 days.")
    return begin, stop
