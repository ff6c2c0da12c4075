"""Throughput of the gRPC face, measured from a separate client process.

The script starts a server process (embedded store: SQLite and pyoxigraph on disk in a
temporary directory, the server's default validation, gRPC only) or uses a running one
(``--target``/``--key``, e.g. ``make run``), and drives it from this process with
``grpc.aio``:

- baseline in the same run: ``grpc.health.v1.Health/Check`` calls/s (transport, no core);
- unary ``TwinService.GetTwin`` calls/s, with p50/p99 latency;
- validated ``TwinService.UpdateTwin`` calls/s (one attribute of an EnvironmentSensor twin,
  checked against its model on every write), with p50/p99 latency;
- watch events/s to 10 ``WatchTwins`` streams: events delivered per second summed over the
  watchers, live (while a writer commits batches) and replaying a backlog from position 0.

When it started the server itself, it also reads the CPU time each process spent per call
(``/proc/<pid>/stat`` for the server, ``getrusage`` for this client). Those figures change
little with the machine's load, and they bound the throughput any run can reach: on N
cores, calls/s <= N / (server + client CPU per call); and since the server's Python work
holds one interpreter lock, calls/s <= 1 / (server CPU per call) for one server process.

    .venv/bin/python bench/grpc.py [--seconds 5] [--concurrency 32] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path, where its own name would
# hide the grpc package: put the repository root there instead.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

import grpc  # noqa: E402
from google.protobuf import field_mask_pb2  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from server.grpc.gen.ndtwin.v1 import twins_pb2, twins_pb2_grpc  # noqa: E402

ENV_MODEL = "https://w3id.org/ndtwin/tm/environment/EnvironmentSensor.tm.jsonld"
TENANT = "bench"
TWINS = 200
WATCHERS = 10


# --- the server process -------------------------------------------------------------------


async def _serve(data_dir: Path) -> None:
    from server.core.bootstrap import build_core
    from server.grpc.server import bound_port, start_grpc_server, stop_grpc_server
    from server.settings import Settings

    core = build_core("sqlite", "embedded", data_dir)
    core.open()
    _, key = core.tenants.create(TENANT)
    server = await start_grpc_server(core, 0, settings=Settings(data_dir=data_dir))
    validation = type(core.validator).__name__
    print(
        json.dumps({"port": bound_port(server), "key": key, "validation": validation}), flush=True
    )
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await stop_grpc_server(server, 1.0)
    core.close()


def start_server() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    data_dir = Path(tempfile.mkdtemp(prefix="ndtwin-bench-grpc-"))
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the server process did not start")
    return proc, json.loads(line)


# --- the client -------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used; this process's when ``pid`` is None."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _closed_loop(
    call: Callable[[int], Awaitable[Any]],
    seconds: float,
    concurrency: int,
    server_pid: int | None,
) -> dict[str, float]:
    """Run ``call`` from ``concurrency`` tasks for ``seconds``; calls/s, latencies, CPU
    (the server's too when ``server_pid``, a process this script started, is known)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        i = k
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)
            i += concurrency

    server0, client0 = _process_cpu(server_pid), _process_cpu(None)
    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - began
    server1, client1 = _process_cpu(server_pid), _process_cpu(None)
    calls = max(1, len(latencies))
    out = {
        "per_s": len(latencies) / elapsed,
        "calls": len(latencies),
        "p50_ms": 1000 * _percentile(latencies, 0.5),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
        "client_cpu_us": 1e6 * (client1 - client0) / calls,
    }
    if server_pid is not None:
        out["server_cpu_us"] = 1e6 * (server1 - server0) / calls
    return out


async def _setup(stub: twins_pb2_grpc.TwinServiceStub, md: Any) -> list[str]:
    names = [f"tenants/{TENANT}/twins/org.bench:env-{i}" for i in range(TWINS)]
    request = twins_pb2.BatchUpsertTwinsRequest(parent=f"tenants/{TENANT}")
    for i, name in enumerate(names):
        request.twins.add(name=name).patch.update(
            {"definition": ENV_MODEL, "attributes": {"co2": 400 + i, "motionCount": 0}}
        )
    await stub.BatchUpsertTwins(request, metadata=md)
    return names


async def _watch(
    target: str, md: Any, seconds: float, stub: twins_pb2_grpc.TwinServiceStub, names: list[str]
) -> dict[str, float]:
    """Events/s delivered to WATCHERS streams: live while a writer runs, then a replay."""

    async def count(
        channel: grpc.aio.Channel,
        start_after: int | None,
        until: int,
        counts: list[int],
        k: int,
        first: asyncio.Event,
    ) -> None:
        request = twins_pb2.WatchTwinsRequest(parent=f"tenants/{TENANT}")
        if start_after is not None:
            request.start_after = start_after
        call = twins_pb2_grpc.TwinServiceStub(channel).WatchTwins(request, metadata=md)
        first.set()
        async for event in call:
            counts[k] += 1
            if event.position >= until:
                break
        call.cancel()

    async def writer(deadline: float) -> int:
        batches = 0
        while time.perf_counter() < deadline:
            request = twins_pb2.BatchUpsertTwinsRequest(parent=f"tenants/{TENANT}")
            for name in names[:100]:
                request.twins.add(name=name).patch.update(
                    {"attributes": {"motionCount": batches + 1}}
                )
            await stub.BatchUpsertTwins(request, metadata=md)
            batches += 1
        return batches

    async with grpc.aio.insecure_channel(target) as channel:
        results: dict[str, float] = {}
        # Live: the watchers start "from now"; the writer commits batches of 100 events.
        counts = [0] * WATCHERS
        ready = [asyncio.Event() for _ in range(WATCHERS)]
        tasks = [
            asyncio.ensure_future(count(channel, None, 1 << 62, counts, k, ready[k]))
            for k in range(WATCHERS)
        ]
        await asyncio.gather(*(e.wait() for e in ready))
        await asyncio.sleep(0.5)
        began = time.perf_counter()
        batches = await writer(began + seconds)
        # Let the watchers drain what was written, then stop them.
        target_total = batches * 100 * WATCHERS
        while sum(counts) < target_total and time.perf_counter() < began + seconds + 10:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - began
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        results["live_events_per_s"] = sum(counts) / elapsed
        results["live_written_per_s"] = batches * 100 / elapsed
        results["live_complete"] = float(sum(counts) == target_total)
        # Replay: every watcher reads the whole retained log from position 0.
        last = (
            await stub.BatchUpsertTwins(
                twins_pb2.BatchUpsertTwinsRequest(parent=f"tenants/{TENANT}"), metadata=md
            )
        ).last_position
        if not last:
            probe = twins_pb2.BatchUpsertTwinsRequest(parent=f"tenants/{TENANT}")
            probe.twins.add(name=names[0]).patch.update({"attributes": {"co2": 1}})
            last = (await stub.BatchUpsertTwins(probe, metadata=md)).last_position
        counts = [0] * WATCHERS
        ready = [asyncio.Event() for _ in range(WATCHERS)]
        began = time.perf_counter()
        await asyncio.gather(
            *(count(channel, 0, last, counts, k, ready[k]) for k in range(WATCHERS))
        )
        elapsed = time.perf_counter() - began
        results["replay_events_per_s"] = sum(counts) / elapsed
        results["replay_events"] = float(sum(counts))
        return results


async def run(
    target: str, key: str, seconds: float, concurrency: int, server_pid: int | None = None
) -> dict[str, Any]:
    md = (("authorization", f"Bearer {key}"),)
    out: dict[str, Any] = {
        "target": target,
        "seconds": seconds,
        "concurrency": concurrency,
        "cpus": os.cpu_count(),
    }
    async with grpc.aio.insecure_channel(target) as channel:
        stub = twins_pb2_grpc.TwinServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        names = await _setup(stub, md)
        out["baseline_health_check"] = await _closed_loop(
            lambda i: health.Check(health_pb2.HealthCheckRequest()),
            seconds,
            concurrency,
            server_pid,
        )
        out["get"] = await _closed_loop(
            lambda i: stub.GetTwin(twins_pb2.GetTwinRequest(name=names[i % TWINS]), metadata=md),
            seconds,
            concurrency,
            server_pid,
        )
        mask = field_mask_pb2.FieldMask(paths=["attributes.co2"])
        rng = random.Random(7)

        def update(i: int) -> Awaitable[Any]:
            twin = twins_pb2.Twin(name=names[i % TWINS])
            twin.attributes.update({"co2": rng.randint(300, 5000)})
            return stub.UpdateTwin(
                twins_pb2.UpdateTwinRequest(twin=twin, update_mask=mask), metadata=md
            )

        out["validated_update"] = await _closed_loop(update, seconds, concurrency, server_pid)
        out["watch"] = await _watch(target, md, seconds, stub, names)
    return out


def _report(result: dict[str, Any]) -> None:
    print(
        f"gRPC face, {result['target']}, {result['cpus']} CPUs, "
        f"validation {result.get('validation', '?')}, {result['concurrency']} in flight, "
        f"{result['seconds']:g} s per figure"
    )
    for label, key in (
        ("baseline Health/Check", "baseline_health_check"),
        ("GetTwin", "get"),
        ("validated UpdateTwin", "validated_update"),
    ):
        r = result[key]
        print(
            f"  {label:22} {r['per_s']:>8,.0f} /s   p50 {r['p50_ms']:6.2f} ms   "
            f"p99 {r['p99_ms']:6.2f} ms"
        )
        if "server_cpu_us" in r:
            server, client = r["server_cpu_us"], r["client_cpu_us"]
            print(
                f"  {'':22} CPU per call: server {server:,.0f} us, client {client:,.0f} us; "
                f"ceiling {result['cpus']} cores {1e6 * result['cpus'] / (server + client):,.0f}"
                f"/s, one server process {1e6 / server:,.0f}/s"
            )
    w = result["watch"]
    print(
        f"  watch, {WATCHERS} watchers, live   {w['live_events_per_s']:>8,.0f} events/s "
        f"delivered (writer {w['live_written_per_s']:,.0f} events/s, "
        f"{'all' if w['live_complete'] else 'NOT all'} delivered)"
    )
    print(
        f"  watch, {WATCHERS} watchers, replay {w['replay_events_per_s']:>8,.0f} events/s "
        f"delivered ({w['replay_events']:,.0f} events)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", metavar="DATA_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--target", help="a running server (default: start one)")
    parser.add_argument("--key", help="an API key of the running server's tenant 'bench'")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(Path(args.serve)))
        return 0
    proc = None
    server_pid = None
    info: dict[str, Any] = {}
    if args.target:
        if not args.key:
            parser.error("--target needs --key")
        target, key = args.target, args.key
    else:
        proc, info = start_server()
        server_pid = proc.pid
        target, key = f"127.0.0.1:{info['port']}", info["key"]
    try:
        result = asyncio.run(run(target, key, args.seconds, args.concurrency, server_pid))
    finally:
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(30)
    result["validation"] = info.get("validation", "server's")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
