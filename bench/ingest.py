"""MQTT ingest: records/s from publish to committed twin state, with p50/p99 latency.

For each number of simulated devices (100, 1,000) and adapter processes (1, 2), the
script starts the adapter(s) as ``ndtwin adapter mqtt`` processes over one SQLite store
(MQTT 5 shared subscription), waits until each has its subscriptions acknowledged, and
publishes cell records with QoS 1 in two phases:

- burst: ``--records`` records as fast as one publisher can, round robin over the
  devices; throughput = records committed / (last commit - first publish);
- paced: every device publishes once a second for ``--paced-seconds``; p50/p99 latency
  at that offered load (1,000 devices: 1,000 records/s).

Latency of a record = its commit time (the time of its relationship ``lastSeen`` history
point) - its publish time (carried in the record). The ceiling: a bare paho subscriber
receiving a stream of the same size in the same run (QoS 1, orjson parse).

By default the script runs its own Mosquitto on a free port with unlimited queues
(``max_queued_messages 0``): a stock Mosquitto drops QoS 1 messages beyond 1,000 queued
for a subscriber, and a burst larger than that would then never complete. Every wait is
bounded: a phase that does not complete reports what was committed.

``NDTWIN_BENCH_ADAPTER_ROOT=/path/to/checkout`` runs the adapters from another checkout
(an A/B against an earlier commit, measured in the same conditions; 1 process only for
adapters that under-count ``sampleCount``, since completion is read from it).

Usage: ``python -m bench.ingest [--broker own|mqtt://host:port] [--records 5000]
[--devices 100,1000] [--processes 1,2] [--paced-seconds 10] [--validation compiled]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho

from adapters.mqtt.broker import free_port
from adapters.mqtt.client import DeviceLink, open_link
from adapters.mqtt.config import parse_broker_url
from adapters.mqtt.topics import TopicScheme
from server.core.bootstrap import build_core
from server.core.ids import TenantId, ThingId

ROOT = Path(__file__).resolve().parent.parent
TENANT = TenantId("demo")
CELLS = 3


def record(device: str, seq: int, ts_ms: int, index: int) -> bytes:
    return orjson.dumps(
        {
            "schema": "ndtwin/1",
            "deviceId": device,
            "seq": seq,
            "ts": ts_ms,
            "cells": [
                {
                    "rat": "lte",
                    "mcc": "001",
                    "mnc": "01",
                    "eci": 1000 + index % CELLS,
                    "pci": 7,
                    "rsrp": -80 - seq % 30,
                    "connectionStatus": "primary",
                }
            ],
        }
    )


class Publisher:
    """One QoS 1 publisher; time stamps strictly increase per device (the adapter drops
    a second record of a device with the same time as a duplicate)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.topics = TopicScheme(prefix)
        self.link: DeviceLink = open_link(
            parse_broker_url(url),
            f"bench-pub-{uuid.uuid4().hex[:6]}",
            status_topic=None,
            inflight=1000,
        )
        self.last: dict[int, int] = {}
        self.seq: dict[int, int] = {}
        self.infos: list[paho.MQTTMessageInfo] = []

    def publish(self, index: int) -> None:
        ts = max(int(time.time() * 1000), self.last.get(index, 0) + 1)
        self.last[index] = ts
        seq = self.seq[index] = self.seq.get(index, -1) + 1
        device = f"d{index}"
        topic = self.topics.telemetry("demo", device, "cell")
        self.infos.append(self.link.publish(topic, record(device, seq, ts, index)))

    def close(self) -> int:
        acked = self.link.wait_published(self.infos, 120)
        self.link.close(clean=False)
        return acked


class OwnMosquitto:
    """A throw-away Mosquitto with unlimited queues, no persistence."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ndtwin-bench-mosquitto-"))
        self.port = free_port()
        config = self.dir / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            "max_queued_messages 0\nmax_inflight_messages 0\n"
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        address = parse_broker_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                link = open_link(address, f"probe-{uuid.uuid4().hex[:6]}", status_topic=None)
                link.close(clean=False)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def paho_ceiling(url: str, total: int) -> float:
    """Messages/s a bare paho subscriber receives of a burst like the benchmark's."""
    prefix = f"ceil{uuid.uuid4().hex[:6]}/v1"
    address = parse_broker_url(url)
    got = [0, 0.0, 0.0]
    done = threading.Event()

    def on_message(client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        orjson.loads(msg.payload)
        now = time.perf_counter()
        if got[0] == 0:
            got[1] = now
        got[0] += 1
        got[2] = now
        if got[0] == total:
            done.set()

    subscribed = threading.Event()
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(address.host, address.port)
    sub.loop_start()
    sub.subscribe(f"{prefix}/#", qos=1)
    subscribed.wait(10)
    publisher = Publisher(url, prefix)
    for i in range(total):
        publisher.publish(i % 1000)
    publisher.close()
    done.wait(60)
    sub.disconnect()
    sub.loop_stop()
    span = got[2] - got[1]
    return got[0] / span if span > 0 else 0.0


def start_adapters(
    url: str,
    data: Path,
    prefix: str,
    processes: int,
    validation: str,
    options: list[str],
    store: str = "sqlite",
) -> list[subprocess.Popen[str]]:
    config = data / "adapter.toml"
    config.write_text(
        f'[adapters.mqtt]\ntopic_prefix = "{prefix}"\n' + "".join(f"{o}\n" for o in options)
    )
    root = Path(os.environ.get("NDTWIN_BENCH_ADAPTER_ROOT", ROOT))
    env = dict(os.environ, PYTHONPATH=str(root))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "adapter",
                "mqtt",
                "--mqtt",
                url,
                "--store",
                store,
                "--data-dir",
                str(data),
                "--graph",
                "memory",
                "--validation",
                validation,
                "--config",
                str(config),
                "--client-id",
                f"bench-{prefix[:11]}-{n}",
            ],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    # The adapter prints its "consuming" line once the broker acknowledged its
    # subscriptions; publishing earlier would publish into the void.
    for proc in procs:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        while line and "consuming from" not in line:
            line = proc.stderr.readline()
        if not line:
            raise RuntimeError(f"an adapter exited with {proc.wait()} before subscribing")
    # Drain stderr from now on so that a chatty adapter never blocks on a full pipe.
    for proc in procs:
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return procs


#: The summary line each adapter prints when it stops, by process id.
SUMMARIES: dict[int, dict[str, Any]] = {}


def _drain(proc: subprocess.Popen[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Traceback" in line or "ERROR" in line:
            print(f"adapter: {line.rstrip()}", file=sys.stderr)
        if "ndtwin adapter mqtt: stopped " in line:
            SUMMARIES[proc.pid] = json.loads(line.split("stopped ", 1)[1])


def _profile(
    procs: list[subprocess.Popen[str]], folder: Path, name: str
) -> list[subprocess.Popen[bytes]]:
    """Sample every adapter thread with py-spy for 10 s (collapsed stacks per thread)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            [
                *(spy, "record", "-r", "200", "-f", "raw", "--threads", "-d", "10"),
                *("-o", str(folder / f"adapter-{name}-{n}.txt"), "--pid", str(proc.pid)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, proc in enumerate(procs)
    ]
    time.sleep(0.5)
    return spies


def committed_count(core: Any) -> int:
    """Records committed: the sum of the relationships' sample counts."""
    total = 0
    cursor: str | None = None
    while True:
        page, cursor = core.store.list_relationships(
            TENANT, type="observes", size=500, cursor=cursor
        )
        total += sum(int(r.properties.get("sampleCount", 0)) for r in page)
        if cursor is None:
            return total


def wait_committed(core: Any, want: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    count = committed_count(core)
    while count < want and time.monotonic() < deadline:
        time.sleep(0.25)
        count = committed_count(core)
    return count


def latencies(core: Any, devices: int, since_ms: float) -> tuple[list[float], float]:
    """Commit - publish time of every record published after ``since_ms``, and the
    time of the last commit."""
    out: list[float] = []
    last = 0.0
    # Records carry whole milliseconds: one published in the phase's first millisecond
    # has a time stamp below the fractional ``since_ms`` and would be left out.
    floor = int(since_ms)
    start, end = datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(4e9, UTC)
    for d in range(devices):
        device = f"device:d{d}"
        rid = f"{device}~cell:lte-00101-{1000 + d % CELLS}"
        path = f"/relationships/{rid}/properties/lastSeen"
        for point in core.store.history(TENANT, ThingId(device), path, start, end, 1_000_000):
            if point.value is None or round(float(point.value) * 1000) < floor:
                continue
            committed = point.time.timestamp()
            out.append(committed - float(point.value))
            last = max(last, committed)
    return out, last


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def run(
    url: str,
    devices: int,
    processes: int,
    total: int,
    paced_s: float,
    validation: str,
    timeout: float,
    profile: Path | None = None,
    options: list[str] | None = None,
    store: str = "sqlite",
) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:6]}/v1"
    data = Path(tempfile.mkdtemp(prefix="ndtwin-bench-"))
    database = _create_database() if store == "postgres" else None
    store_url = database or "sqlite"
    core = build_core(store_url, "memory", data, validation=validation)
    core.open()
    core.tenants.create("demo")
    procs = start_adapters(url, data, prefix, processes, validation, options or [], store_url)
    result: dict[str, Any] = {"devices": devices, "processes": processes, "store": store}
    if options:
        result["options"] = options
    try:
        # Warm-up: one record per device creates the twins and relationships, so the
        # burst measures steady ingest rather than first-time creation.
        publisher = Publisher(url, prefix)
        for d in range(devices):
            publisher.publish(d)
        warm = wait_committed(core, devices, timeout)
        if warm < devices:
            result["error"] = f"warm-up: {warm} of {devices} committed within {timeout:g} s"
            return result
        spies = _profile(procs, profile, f"{devices}x{processes}") if profile else []
        # Burst.
        started = time.time()
        for i in range(total):
            publisher.publish(i % devices)
        published_s = time.time() - started
        acked = publisher.close()
        count = wait_committed(core, devices + total, timeout) - devices
        lat, last_commit = latencies(core, devices, started * 1000)
        span = last_commit - started
        result["burst"] = {
            "records": total,
            "brokerAcked": acked,
            "committed": count,
            "publishSeconds": round(published_s, 2),
            "recordsPerSecond": round(len(lat) / span, 1) if span > 0 else None,
            "p50ms": pct(lat, 0.5),
            "p99ms": pct(lat, 0.99),
        }
        for spy in spies:
            spy.wait(60)
        # Paced: every device once a second.
        time.sleep(1.0)
        base = committed_count(core)
        publisher = Publisher(url, prefix)
        paced_start = time.time()
        ticks = max(1, int(paced_s))
        for tick in range(ticks):
            for d in range(devices):
                publisher.publish(d)
            ahead = paced_start + tick + 1 - time.time()
            if ahead > 0:
                time.sleep(ahead)
        publisher.close()
        want = ticks * devices
        count = wait_committed(core, base + want, timeout) - base
        lat, _ = latencies(core, devices, paced_start * 1000)
        result["paced"] = {
            "offeredPerSecond": devices,
            "records": want,
            "committed": count,
            "p50ms": pct(lat, 0.5),
            "p99ms": pct(lat, 0.99),
            "meanMs": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        }
        return result
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        time.sleep(0.2)  # let the drain threads read the summaries
        # Transactions and conflicts (plans redone because the other process committed
        # first) of each adapter over the whole run.
        result["adapters"] = [SUMMARIES.get(proc.pid) for proc in procs]
        core.close()
        shutil.rmtree(data, ignore_errors=True)
        if database is not None:
            _drop_database(database)


PG_MAINTENANCE = "postgresql://postgres@127.0.0.1:5432/postgres"


def _create_database() -> str:
    """A fresh PostgreSQL database of this run (local server, trust auth)."""
    import psycopg

    name = f"ndtwin_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_MAINTENANCE, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_MAINTENANCE.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_MAINTENANCE, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--broker", default="own", help="'own' (default) or mqtt://host:port")
    parser.add_argument("--records", type=int, default=5000, help="records in the burst")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--validation", default="compiled", choices=("shacl", "compiled"))
    parser.add_argument("--devices", default="100,1000")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument(
        "--store",
        default="sqlite",
        help="sqlite, postgres (a fresh database on 127.0.0.1:5432 per run) or both",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per phase, seconds")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an [adapters.mqtt] option in TOML syntax, e.g. batch_wait_ms=20 (repeatable)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy the adapters' burst into this folder"
    )
    args = parser.parse_args()
    broker: OwnMosquitto | None = None
    url = args.broker
    if url == "own":
        if shutil.which("mosquitto") is None:
            print("bench.ingest: mosquitto is not installed; pass --broker", file=sys.stderr)
            return 2
        broker = OwnMosquitto()
        url = broker.url
    try:
        load = os.getloadavg()
        results: dict[str, Any] = {
            "broker": "own mosquitto (unlimited queues)" if broker else url,
            "loadAverage": [round(x, 2) for x in load],
            "pahoCeilingPerSecond": round(paho_ceiling(url, args.records), 1),
            "runs": [],
        }
        print(json.dumps({"pahoCeilingPerSecond": results["pahoCeilingPerSecond"]}), flush=True)
        stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
        configs = [
            (store, int(d), int(p))
            for store in stores
            for d in args.devices.split(",")
            for p in args.processes.split(",")
        ]
        for store, devices, processes in configs:
            outcome = run(
                url,
                devices,
                processes,
                args.records,
                args.paced_seconds,
                args.validation,
                args.timeout,
                args.profile,
                args.set,
                store,
            )
            results["runs"].append(outcome)
            print(json.dumps(outcome), flush=True)
        results["loadAverageAfter"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(results, indent=2))
    finally:
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
