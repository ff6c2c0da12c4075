"""The analyses behind ``/v1/analytics``: series from the core in, JSON-ready results out.

Each function takes a `Collector` (the core plus the caller, so the tenant is the
credential's) and a window, runs the pure methods of this package and returns plain
dicts. They are synchronous like the core; the routes run them in worker threads.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np

from server.analytics.anomalies import detect
from server.analytics.collect import ENV_METRICS, Collector, Scope, main_metric
from server.analytics.correlation import correlate
from server.analytics.describe import histogram, summarize
from server.analytics.forecast import forecast
from server.analytics.recommend import Battery, Link, Message, recommend
from server.analytics.series import Series, iso
from server.core import errors

__all__ = [
    "anomalies",
    "correlations",
    "describe",
    "forecasts",
    "level_of",
    "overview",
    "recommendation",
]

#: Lower bounds of levels 1-4 (Android's defaults, as the MQTT adapter grades them).
LEVELS: dict[str, tuple[float, ...]] = {
    "lte.rsrp": (-128, -118, -108, -98),
    "nr.rsrp": (-110, -90, -80, -65),
    "wifi.rssi": (-88, -77, -66, -55),
    "ble.rssi": (-98, -87, -76, -65),
    "cell.rssi": (-109, -103, -97, -89),
}
_INTERFACE = {
    "lteCell": "cellular",
    "nrCell": "cellular",
    "wcdmaCell": "cellular",
    "gsmCell": "cellular",
    "wifiAccessPoint": "wifi",
    "bleBeacon": "ble",
}
#: A link not heard for this long before the device's last scan is not offered.
FRESH_S = 60.0


def level_of(source_type: str, metric: str, value: float) -> int:
    """Bars 0-4 of a value by the default thresholds."""
    key = {
        "lteCell": f"lte.{metric}",
        "nrCell": f"nr.{metric}",
        "wifiAccessPoint": "wifi.rssi",
        "bleBeacon": "ble.rssi",
    }.get(source_type, f"cell.{metric}")
    bounds = LEVELS.get(key)
    if bounds is None:
        return 0
    return sum(1 for bound in bounds if value >= bound)


def _window(start: float, end: float) -> dict[str, str]:
    return {"start": iso(start), "end": iso(end)}


def describe(collector: Collector, scope: Scope, start: float, end: float) -> dict[str, Any]:
    """Counts, distribution and percentiles of every KPI series, and per KPI overall."""
    pairs = collector.scope_series(scope, start, end)
    per_series = []
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for series, counts in pairs:
        if len(series) == 0:
            continue
        summary = summarize(series, counts).to_json()
        summary["histogram"] = histogram(series)
        summary["twin"], summary["path"] = series.twin, series.path
        per_series.append(summary)
        weights = counts if counts is not None else np.ones(len(series))
        pooled[series.metric].append((series.values, weights))
    metrics = []
    for metric, parts in sorted(pooled.items()):
        values = np.concatenate([v for v, _ in parts])
        weights = np.concatenate([w for _, w in parts])
        merged = Series(f"{metric} ({len(parts)} series)", metric, np.zeros(values.size), values)
        summary = summarize(merged, weights).to_json()
        summary.pop("first"), summary.pop("last")
        summary["series"] = len(parts)
        metrics.append(summary)
    return {
        "scope": scope.label(),
        "window": _window(start, end),
        "metrics": metrics,
        "series": per_series,
    }


def anomalies(collector: Collector, scope: Scope, start: float, end: float) -> dict[str, Any]:
    """Every anomaly found in the scope's series, newest first."""
    pairs = collector.scope_series(scope, start, end)
    found = []
    for series, _ in pairs:
        # A device moving away from a source is not a fault: gaps only for twins' own KPIs.
        found.extend(detect(series, gaps=not series.path.startswith("/relationships/")))
    found.sort(key=lambda a: (-a.start, a.series))
    return {
        "scope": scope.label(),
        "window": _window(start, end),
        "series": len(pairs),
        "anomalies": [a.to_json() for a in found],
    }


def forecasts(
    collector: Collector, scope: Scope, start: float, end: float, horizon: float
) -> dict[str, Any]:
    """A forecast per series with enough history, with its held-back error."""
    out = []
    for series, _ in collector.scope_series(scope, start, end):
        result = forecast(series, horizon)
        if result is not None:
            out.append(result.to_json())
    return {
        "scope": scope.label(),
        "window": _window(start, end),
        "horizonSeconds": horizon,
        "forecasts": out,
    }


def _network_series(
    collector: Collector, sources: list[str], start: float, end: float, step: float
) -> list[Series]:
    """Per source: the mean KPI over its observers, and how many observers, per step."""
    out = []
    for source in sources:
        rels = collector.relationships(target=source, limit=200)
        sums: dict[float, list[float]] = defaultdict(list)
        heard: dict[float, set[str]] = defaultdict(set)
        metric = None
        for rel in rels:
            metric = main_metric(rel.properties) or metric
            if metric is None or metric not in rel.properties:
                continue
            series = collector.sampled(
                str(rel.source),
                f"/relationships/{rel.id}/properties",
                metric,
                start,
                end,
                str(rel.source),
                rel.properties[metric],
            )
            slots = np.floor((series.times - start) / step) * step + start
            for slot, value in zip(slots.tolist(), series.values.tolist(), strict=True):
                sums[slot].append(value)
                heard[slot].add(str(rel.source))
        if metric is None or not sums:
            continue
        slots_sorted = sorted(sums)
        out.append(
            Series.of(
                f"mean {metric} at {source}",
                metric,
                slots_sorted,
                [float(np.mean(sums[s])) for s in slots_sorted],
                twin=source,
            )
        )
        out.append(
            Series.of(
                f"observers of {source}",
                "observers",
                slots_sorted,
                [float(len(heard[s])) for s in slots_sorted],
                twin=source,
            )
        )
    return out


def correlations(
    collector: Collector, scope: Scope, start: float, end: float, step: float, max_lag: int = 3
) -> dict[str, Any]:
    """Environment KPIs of the scope's sensors against the network KPIs around them.

    The network side is, per Wi-Fi access point, the mean RSSI its observers report and
    how many observe it: APs of the same zone when zones are known, else the APs the
    zone's devices hear, else the tenant's busiest eight.
    """
    if scope.zone is not None:
        members = collector.zone_members(scope.zone)
    else:
        assert scope.twin is not None
        members = [{"thingId": scope.twin, **collector.twin(scope.twin).doc}]
    sensors = [
        m["thingId"] for m in members if any(k in (m.get("attributes") or {}) for k in ENV_METRICS)
    ]
    zone = scope.zone or ((members[0].get("attributes") or {}).get("location") or {}).get("zone")
    aps: list[str] = []
    if zone:
        aps = [
            m["thingId"] for m in collector.zone_members(zone) if m["thingId"].startswith("wifi:")
        ]
        if not aps:
            for member in collector.zone_members(zone):
                if member["thingId"].startswith("device:"):
                    aps += [
                        str(r.target)
                        for r in collector.relationships(source=member["thingId"])
                        if str(r.target).startswith("wifi:")
                    ]
    if not aps:
        ranked = sorted(
            collector.search(namespaces=["wifi"], limit=200),
            key=lambda t: -len(collector.relationships(target=t["thingId"])),
        )
        aps = [t["thingId"] for t in ranked[:8]]
    aps = sorted(dict.fromkeys(aps))[:8]
    env: list[Series] = []
    for sensor in sensors:
        env.extend(
            s
            for s, _ in collector.twin_series(sensor, start, end)
            if s.metric in ENV_METRICS and len(s)
        )
    network = _network_series(collector, aps, start, end, step)
    pairs = []
    for a in env:
        for b in network:
            result = correlate(a, b, step, max_lag)
            if result is not None:
                pairs.append(result.to_json())
    pairs.sort(key=lambda p: (not p["found"], -abs(p["r"])))
    return {
        "scope": scope.label(),
        "window": _window(start, end),
        "stepSeconds": step,
        "environment": [s.label for s in env],
        "network": [s.label for s in network],
        "correlations": pairs,
    }


def overview(
    collector: Collector, kind: str, start: float, end: float, limit: int = 100
) -> dict[str, Any]:
    """Per cell, AP, beacon, device, sensor or zone: counts and percentiles of its main
    KPI over the window, from one bucketed read per link (coarse but bounded)."""
    namespaces = {
        "cell": ["cell"],
        "wifi": ["wifi"],
        "ble": ["ble"],
        "device": ["device"],
        "sensor": ["sensor"],
    }
    bucket = max(1.0, (end - start) / 60)
    rows = []
    if kind == "zone":
        zones: dict[str, list[str]] = defaultdict(list)
        for twin in collector.search("exists(attributes/location/zone)", limit=5000):
            zones[twin["attributes"]["location"]["zone"]].append(twin["thingId"])
        for zone, members in sorted(zones.items())[:limit]:
            rows.append(
                {
                    "id": zone,
                    "members": len(members),
                    "kpis": _pooled(collector, members, start, end, bucket),
                }
            )
        return {"kind": kind, "window": _window(start, end), "rows": rows}
    if kind not in namespaces:
        raise errors.BadRequest("kind must be cell, wifi, ble, device, sensor or zone.")
    for twin in collector.search(namespaces=namespaces[kind], limit=limit):
        rows.append(
            {
                "id": twin["thingId"],
                "kpis": _pooled(collector, [twin["thingId"]], start, end, bucket),
            }
        )
    return {"kind": kind, "window": _window(start, end), "bucketSeconds": bucket, "rows": rows}


def _pooled(
    collector: Collector, twins: list[str], start: float, end: float, bucket: float
) -> list[dict[str, Any]]:
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    observers: set[str] = set()
    for tid in twins:
        namespace = tid.partition(":")[0]
        if namespace in ("cell", "wifi", "ble", "device"):
            rels = collector.relationships(
                **({"source": tid} if namespace == "device" else {"target": tid}), limit=50
            )
            for rel in rels:
                metric = main_metric(rel.properties)
                if metric is None:
                    continue
                observers.add(str(rel.source))
                series, counts = collector.bucketed(
                    str(rel.source),
                    f"/relationships/{rel.id}/properties",
                    metric,
                    start,
                    end,
                    metric,
                    bucket,
                )
                pooled[metric].append((series.values, counts))
        else:
            attrs = collector.twin(tid).doc.get("attributes", {}) or {}
            for metric in ENV_METRICS:
                if metric in attrs:
                    series, counts = collector.bucketed(
                        tid, "/attributes", metric, start, end, metric, bucket
                    )
                    pooled[metric].append((series.values, counts))
    out = []
    for metric, parts in sorted(pooled.items()):
        values = np.concatenate([v for v, _ in parts])
        weights = np.concatenate([w for _, w in parts])
        summary = summarize(
            Series(metric, metric, np.zeros(values.size), values), weights
        ).to_json()
        out.append(
            {k: summary[k] for k in ("metric", "count", "mean", "p05", "p50", "p95", "min", "max")}
            | {"links": len(parts)}
        )
    if observers:
        out.append({"metric": "observers", "count": len(observers)})
    return out


def recommendation(
    collector: Collector, device: str, message: Message, horizon: float = 60.0
) -> dict[str, Any]:
    """Which interface ``device`` should send ``message`` over, from its links now and
    their forecast ``horizon`` seconds ahead (15 minutes of history)."""
    record = collector.twin(device)
    if not device.startswith("device:"):
        raise errors.BadRequest(f"'{device}' is not a device twin.")
    attrs = record.doc.get("attributes", {}) or {}
    rels = collector.relationships(source=device)
    newest = max((float(r.properties.get("lastSeen", 0)) for r in rels), default=0.0)
    best: dict[str, tuple[float, Any]] = {}
    for rel in rels:
        props = rel.properties
        interface = _INTERFACE.get(str(props.get("sourceType")))
        metric = main_metric(props)
        if interface is None or metric is None or props.get(metric) is None:
            continue
        if newest - float(props.get("lastSeen", 0)) > FRESH_S:
            continue
        value = float(props[metric])
        if interface not in best or value > best[interface][0]:
            best[interface] = (value, rel)
    links: dict[str, Link | None] = {}
    now = time.time()
    for interface, (value, rel) in best.items():
        props = rel.properties
        metric = main_metric(props) or "rssi"
        predicted = predicted_level = None
        series = collector.sampled(
            device,
            f"/relationships/{rel.id}/properties",
            metric,
            now - 900,
            now + 1,
            metric,
            props[metric],
        )
        outlook = forecast(series, horizon)
        if outlook is not None and outlook.points:
            predicted = outlook.points[-1][1]
            predicted_level = level_of(str(props.get("sourceType")), metric, predicted)
        connectable = None
        if interface == "ble":
            target = collector.core.twins.get_many(collector.caller, [str(rel.target)])
            connectable = next(
                (bool(t.get("attributes", {}).get("connectable")) for t in target), None
            )
        links[interface] = Link(
            interface,  # type: ignore[arg-type]
            str(rel.target),
            metric,
            value,
            int(props.get("level", 0)),
            predicted,
            predicted_level,
            props.get("sinr"),
            connectable,
            props.get("quality"),
        )
    battery = Battery(attrs.get("batteryLevel"), attrs.get("charging"))
    answer = recommend(links, message, battery).to_json()
    answer["device"] = device
    answer["horizonSeconds"] = horizon
    return answer
