"""MQTT ingest: records/s from publish to committed twin state, with p50/p99 latency.

For 100 and 1,000 simulated devices and 1 and 2 adapter processes, the script publishes
cell records (QoS 1) to a broker, runs the adapter(s) as ``ndtwin adapter mqtt``
processes over one SQLite store, and measures

- throughput: records committed / (last commit - first publish);
- latency: commit time (the relationship's ``_modified``) minus publish time carried in
  the record, p50 and p99 over all records;
- the ceiling: a bare paho subscriber receiving the same stream in the same run.

Usage: ``python bench/ingest.py [--broker mqtt://127.0.0.1:1883] [--records 2000]
[--validation compiled|shacl]``. Needs a Mosquitto on the broker URL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as paho

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder leads sys.path, where bench/http.py and bench/grpc.py would
# shadow the standard library's http and the grpc package: put the repository first instead.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

from adapters.mqtt.client import open_link  # noqa: E402
from adapters.mqtt.config import parse_broker_url  # noqa: E402
from adapters.mqtt.topics import TopicScheme  # noqa: E402
from server.core.bootstrap import build_core  # noqa: E402
from server.core.ids import TenantId  # noqa: E402


def record(device: str, i: int, ts_ms: int) -> bytes:
    return orjson.dumps(
        {
            "schema": "ndtwin/1",
            "deviceId": device,
            "seq": i,
            "ts": ts_ms,
            "cells": [
                {
                    "rat": "lte",
                    "mcc": "001",
                    "mnc": "01",
                    "eci": 1000 + i % 3,
                    "pci": 7,
                    "rsrp": -80 - i % 30,
                    "connectionStatus": "primary",
                }
            ],
        }
    )


def paho_ceiling(url: str, prefix: str, records: list[tuple[str, bytes]]) -> float:
    """Messages/s a bare paho subscriber receives of the same stream (orjson parse)."""
    address = parse_broker_url(url)
    got = [0, 0.0, 0.0]
    done = threading.Event()

    def on_message(client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        orjson.loads(msg.payload)
        if got[0] == 0:
            got[1] = time.perf_counter()
        got[0] += 1
        got[2] = time.perf_counter()  # last arrival: the broker may drop what overflows
        if got[0] == len(records):
            done.set()

    sub = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    sub.on_message = on_message
    sub.connect(address.host, address.port)
    sub.loop_start()
    sub.subscribe(f"{prefix}/#", qos=1)
    time.sleep(0.5)
    link = open_link(address, f"bench-{uuid.uuid4().hex[:6]}", status_topic=None)
    infos = [link.publish(t, p) for t, p in records]
    link.wait_published(infos, 120)
    link.close(clean=False)
    done.wait(10)
    sub.disconnect()
    sub.loop_stop()
    # Rate over the span of what arrived (Mosquitto drops messages past a slow QoS 1
    # subscriber's queue limit, so waiting for all of them would time the timeout).
    span = got[2] - got[1]
    return got[0] / span if span > 0 else 0.0


def run(
    url: str, devices: int, processes: int, total: int, validation: str, rate: float
) -> dict[str, object]:
    prefix = f"bench{uuid.uuid4().hex[:6]}/v1"
    topics = TopicScheme(prefix)
    data = Path(tempfile.mkdtemp(prefix="ndtwin-bench-"))
    core = build_core("sqlite", "memory", data, validation=validation)
    core.open()
    core.tenants.create("demo")
    core.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    config = data / "adapter.toml"
    config.write_text(
        f'[adapters.mqtt]\ntopic_prefix = "{prefix}"\nbatch_max = 400\nbatch_wait_ms = 20\n'
    )
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
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(processes)
    ]
    time.sleep(4)  # let the adapters start and subscribe
    per_device = max(1, total // devices)
    link = open_link(
        parse_broker_url(url), f"bench-pub-{uuid.uuid4().hex[:6]}", status_topic=None, inflight=200
    )
    started = time.time()
    infos = []
    count = 0
    for i in range(per_device):
        for d in range(devices):
            ts = int(time.time() * 1000)
            infos.append(
                link.publish(topics.telemetry("demo", f"d{d}", "cell"), record(f"d{d}", i, ts))
            )
            count += 1
        if rate > 0:
            ahead = started + (i + 1) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
    link.wait_published(infos, 300)
    link.close(clean=False)
    core = build_core("sqlite", "memory", data, validation=validation)
    core.open()
    tenant = TenantId("demo")
    deadline = time.time() + 600
    latencies: list[float] = []
    while time.time() < deadline:
        history_points = 0
        latencies = []
        last_commit = started
        for d in range(devices):
            for point in core.store.history(
                tenant,
                f"device:d{d}",  # type: ignore[arg-type]
                "/attributes/lastSeen",
                _dt(0),
                _dt(4e9),
                100_000,
            ):
                history_points += 1
                latencies.append(point.time.timestamp() - float(point.value))
                last_commit = max(last_commit, point.time.timestamp())
        if history_points >= count:
            break
        time.sleep(1)
    for proc in procs:
        proc.terminate()
        proc.wait(30)
    core.close()
    latencies.sort()
    span = last_commit - started
    return {
        "devices": devices,
        "processes": processes,
        "records": count,
        "committed": len(latencies),
        "validation": validation,
        "recordsPerSecond": round(len(latencies) / span, 1) if span > 0 else None,
        "p50ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1)
        if latencies
        else None,
    }


def _dt(seconds: float) -> object:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--validation", default="shacl", choices=("shacl", "compiled"))
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="scans per device per second (0: as fast as possible)",
    )
    parser.add_argument("--devices", default="100,1000")
    parser.add_argument("--processes", default="1,2")
    args = parser.parse_args()
    prefix = f"ceil{uuid.uuid4().hex[:6]}/v1"
    stream = [
        (
            TopicScheme(prefix).telemetry("demo", f"d{i % 1000}", "cell"),
            record(f"d{i % 1000}", i, int(time.time() * 1000)),
        )
        for i in range(args.records)
    ]
    results = {
        "pahoCeilingPerSecond": round(paho_ceiling(args.broker, prefix, stream), 1),
        "runs": [],
    }
    for devices in (int(d) for d in args.devices.split(",")):
        for processes in (int(p) for p in args.processes.split(",")):
            results["runs"].append(
                run(
                    args.broker,
                    devices,
                    processes,  # type: ignore[union-attr]
                    args.records,
                    args.validation,
                    args.rate,
                )
            )
            print(json.dumps(results["runs"][-1]), flush=True)  # type: ignore[index]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
