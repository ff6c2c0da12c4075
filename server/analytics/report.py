"""What the analytics find on the real datasets and on the simulated campus.

``python -m server.analytics.report [--shared ../shared/datasets] [--sessions 8]``
replays the data through the MQTT adapter in library mode (the same processors and twin
controller as ``ndtwin serve``, no broker) into a temporary core, reads the series back
through `Collector` in event time, and prints the findings that docs/analytics.md
reports:

- 5G Cork traces (``--sessions`` of the 83): per session the serving-cell RSRP
  distribution, the sudden drops and rises and the forecast error against "no change";
- UCI occupancy (the ``datatest.txt`` office): distribution, anomalies, the
  occupancy~CO2 correlation (the two real datasets share no place, so network against
  environment is shown on the simulation) and the CO2 forecast;
- the simulated campus (``--devices`` phones, ``--minutes`` of simulated time, seeded):
  anomalies, the environment~Wi-Fi correlations and a recommendation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from server.analytics import service
from server.analytics.anomalies import detect
from server.analytics.collect import Collector, Scope
from server.analytics.correlation import correlate
from server.analytics.describe import summarize
from server.analytics.forecast import forecast
from server.analytics.recommend import Message
from server.core.bootstrap import build_core
from server.core.context import Caller
from server.core.ids import TenantId
from server.core.service import Core

__all__ = ["ingest", "main"]

TENANT = "demo"
CALLER = Caller(TenantId(TENANT))
DEFAULT_SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


async def _ingest(core: Core, messages: Iterable[tuple[str, bytes]]) -> int:
    from adapters.mqtt.config import MqttConfig
    from adapters.mqtt.controller import TwinController
    from adapters.mqtt.handler import SignalHandler

    # Replays run faster than real time: never expire what was heard "minutes" ago.
    config = MqttConfig.model_validate(
        {
            "batch_wait_ms": 5,
            "relationship_ttl_s": 1e9,
            "orphan_grace_s": 1e9,
            "sweep_interval_s": 1e6,
            "publish_curated": False,
        }
    )
    controller = TwinController(core, config)
    await controller.start()
    assert core.catalog is not None
    handler = SignalHandler(core.catalog, config, controller, lambda *_: None)
    done: list[int] = []
    count = 0
    for topic, payload in messages:
        count += 1
        await handler.handle(topic, payload, time.time(), lambda: done.append(1))
    while len(done) < count:
        await asyncio.sleep(0.05)
    await handler.stop()
    await controller.stop()
    return count


def ingest(core: Core, records: Iterable[Any]) -> int:
    """Feed replay records (``adapters.mqtt.replay``) through the adapter into ``core``."""
    from adapters.mqtt.topics import TopicScheme

    topics = TopicScheme()
    return asyncio.run(
        _ingest(
            core,
            (
                (topics.telemetry(TENANT, r.device, r.signal), orjson.dumps(r.record))
                for r in records
            ),
        )
    )


def _core(directory: Path) -> Core:
    core = build_core("sqlite", "memory", directory)
    core.open()
    core.tenants.create(TENANT)
    return core


def _window(core: Core) -> tuple[float, float]:
    # Windows select by arrival (everything was ingested minutes ago); one hour keeps the
    # raw samples, which then sit at their measurement times.
    now = time.time()
    return now - 3600, now + 5


def cork(shared: Path, sessions: int, work: Path) -> None:
    from adapters.mqtt.replay import cork_records

    path = shared / "5g-cork" / "5G-production-dataset.zip"
    core = _core(work / "cork")
    started = time.perf_counter()
    count = ingest(core, cork_records(path, sessions=sessions))
    print(
        f"## 5G Cork: {count} records of {sessions} sessions ingested in "
        f"{time.perf_counter() - started:.0f} s"
    )
    collector = Collector(core, CALLER)
    start, end = _window(core)
    kinds: Counter[str] = Counter()
    skills = []
    for device in collector.search(namespaces=["device"]):
        tid = device["thingId"]
        for series, _ in collector.twin_series(tid, start, end, every_kpi=True, limit=50):
            if series.metric != "rsrp" or len(series) < 60:
                continue
            summary = summarize(series)
            found = detect(series, gaps=False)
            kinds.update(a.kind for a in found)
            result = forecast(series, 10)
            if result is not None:
                skills.append((result.mae, result.baseline_mae, result.model))
            shifts = [a for a in found if a.kind in ("drop", "rise")]
            print(
                f"- {tid} {series.label.split(' from ')[1]}: n={summary.count}, "
                f"RSRP p5/p50/p95 = {summary.p05}/{summary.p50}/{summary.p95} dBm; "
                f"{len(shifts)} shifts"
                + (
                    f" (largest {max(shifts, key=lambda a: abs(a.delta or 0)).delta:+.0f} dB"
                    f" at {max(shifts, key=lambda a: abs(a.delta or 0)).to_json()['start']})"
                    if shifts
                    else ""
                )
                + (
                    f", 10 s forecast MAE {result.mae:.2f} vs {result.baseline_mae:.2f} "
                    f"dB ({result.model})"
                    if result
                    else ""
                )
            )
    print(f"anomalies by kind: {dict(kinds)}")
    if skills:
        print(
            f"10 s RSRP forecasts: median MAE {statistics.median(s[0] for s in skills):.2f} "
            f"dB vs persistence {statistics.median(s[1] for s in skills):.2f} dB over "
            f"{len(skills)} links; models chosen {dict(Counter(s[2] for s in skills))}"
        )
    core.close()


def occupancy(shared: Path, work: Path) -> None:
    from adapters.mqtt.replay import occupancy_records

    path = shared / "uci-occupancy" / "datatest.txt"
    core = _core(work / "uci")
    count = ingest(core, occupancy_records(path))
    print(f"## UCI occupancy: {count} records")
    collector = Collector(core, CALLER)
    start, end = _window(core)
    sensor = collector.search(namespaces=["sensor"])[0]["thingId"]
    series = {s.metric: s for s, _ in collector.twin_series(sensor, start, end)}
    for metric in ("co2", "temperature", "humidity", "illuminance", "occupancy"):
        s = series.get(metric)
        if s is None:
            continue
        summary = summarize(s)
        found = detect(s)
        print(
            f"- {metric}: n={summary.count}, p5/p50/p95 = {summary.p05}/{summary.p50}/"
            f"{summary.p95}, mean {summary.mean}; anomalies: "
            + (
                "; ".join(f"{a.kind} at {a.to_json()['start']} ({a.text})" for a in found[:6])
                or "none"
            )
            + (f" (+{len(found) - 6} more)" if len(found) > 6 else "")
        )
    if "co2" in series and "occupancy" in series:
        result = correlate(series["occupancy"], series["co2"], step=300, max_lag=3)
        if result is not None:
            print(f"- occupancy ~ CO2: {result.text()}")
    if "co2" in series:
        outlook = forecast(series["co2"], 900)
        if outlook is not None:
            print(
                f"- CO2 15 min ahead: MAE {outlook.mae:.1f} ppm vs {outlook.baseline_mae:.1f} "
                f"for no change ({outlook.model}, {outlook.holdout} held-back forecasts)"
            )
    core.close()


def campus(devices: int, minutes: int, work: Path) -> None:
    from adapters.mqtt.campus import Campus

    sim = Campus(devices, TENANT, seed=11)
    core = _core(work / "campus")
    start_t = time.time() - minutes * 60
    messages: list[tuple[str, bytes]] = [(e.topic, e.payload) for e in sim.births()]
    for k in range(minutes * 60):
        messages += [(e.topic, e.payload) for e in sim.tick(start_t + k, 1.0)]
    started = time.perf_counter()
    count = asyncio.run(_ingest(core, messages))
    print(
        f"## Simulated campus: {devices} phones, {minutes} min, {count} records ingested "
        f"in {time.perf_counter() - started:.0f} s"
    )
    collector = Collector(core, CALLER)
    lo, hi = _window(core)
    kinds: Counter[str] = Counter()
    for device in collector.search(namespaces=["device", "sensor"]):
        for series, _ in collector.twin_series(device["thingId"], lo, hi):
            kinds.update(
                f"{a.kind} of {a.metric}"
                for a in detect(series, gaps=not series.path.startswith("/relationships/"))
            )
    print(f"anomalies over every device and sensor series: {dict(sorted(kinds.items()))}")
    result = service.correlations(collector, Scope(twin="sensor:room-1"), lo, hi, 10, 3)
    found = [c for c in result["correlations"] if c["found"]]
    print(
        f"- sensor:room-1 env x Wi-Fi: {len(result['correlations'])} pairs, "
        f"{len(found)} significant"
        + (f"; strongest: {found[0]['evidence']['text']}" if found else "")
    )
    for pair in result["correlations"][:3]:
        print(f"  - {pair['a']} ~ {pair['b']}: {pair['evidence']['text']}")
    advice = service.recommendation(collector, "device:phone-0000", Message(20_000, "normal"))
    print(
        f"- recommend 20 kB normal for device:phone-0000: {advice['recommended']}: "
        f"{'; '.join(advice['reasons'][:2])}"
    )
    core.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Analytics on real and simulated series")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--simulated-only", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ndtwin-report-") as tmp:
        work = Path(tmp)
        if (args.shared / "5g-cork").exists() and not args.simulated_only:
            cork(args.shared, args.sessions, work)
        if (args.shared / "uci-occupancy").exists() and not args.simulated_only:
            occupancy(args.shared, work)
        campus(args.devices, args.minutes, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
