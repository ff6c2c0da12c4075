"""HTTP benchmark of the Ditto face: req/s and p50/p99 latency from a separate process.

By default the script prepares a data directory (N plain twins plus a few twins with an
ndtwin model definition, loaded through the core's batch API), starts ``ndtwin serve`` on
it as a child process, and drives it with an async httpx client from this process::

    .venv/bin/python bench/http.py --twins 10000 --seconds 10 --concurrency 32

Against a server that is already running, give its URL and an API key instead; the
twins must then be loaded with ``--load`` (through the REST API, much slower)::

    .venv/bin/python bench/http.py --url http://127.0.0.1:8080 --key demo.... --load

Scenarios (issue 4 targets on a 2-core machine: 3,000 GET/s, 1,000 validated PUT/s,
500 searches/s):

* ``get``: ``GET /api/2/things/{id}`` of a random twin;
* ``put-validated``: ``PUT .../attributes/frequency`` of a twin whose definition is the
  Wi-Fi access point model, so every write is validated against its shapes;
* ``search-id``: ``GET /api/2/search/things?filter=eq(thingId,"…")`` (as Ditto's
  published search benchmark);
* ``search-attr``: ``filter=eq(attributes/serial,"…")&option=size(10)``, an attribute
  filter over all N twins.

Clients: ``--client wrk`` (Debian's ``wrk``, a C load generator that costs far less CPU
per request, driven by a generated Lua script; the default when ``wrk`` is on PATH) or
``--client httpx`` (an asyncio httpx client in this process; it needs about as much CPU
per request as the server, so on a small machine it measures mostly itself). The client
and the server share the machine, so the figures are lower bounds of what the server
alone could do; the script prints the machine's CPU count next to them.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and the file itself would
# shadow the standard library's ``http`` package (which httpx imports): drop the folder.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

ROOT = Path(__file__).resolve().parent.parent
WIFI = "https://w3id.org/ndtwin/tm/wifi/WifiAccessPoint.tm.jsonld"
TENANT = "bench"
VALIDATED = 64

RequestFactory = Callable[[random.Random], tuple[str, str, bytes | None, dict[str, str]]]


@dataclass
class Result:
    name: str
    count: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def line(self) -> str:
        ordered = sorted(self.latencies_ms) or [0.0]
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        rate = self.count / self.seconds if self.seconds else 0.0
        return (
            f"{self.name:<14} {rate:9.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"
            f"   ({self.count} requests, {self.errors} errors)"
        )


def _thing(i: int) -> str:
    return f"bench:t{i:07d}"


def _ap(i: int) -> str:
    return f"bench:ap{i:03d}"


def scenarios(n: int) -> dict[str, RequestFactory]:
    json_type = {"content-type": "application/json"}

    def get(rng: random.Random) -> tuple[str, str, bytes | None, dict[str, str]]:
        return "GET", f"/api/2/things/{_thing(rng.randrange(n))}", None, {}

    def put_validated(rng: random.Random) -> tuple[str, str, bytes | None, dict[str, str]]:
        value = str(rng.randrange(2412, 70200)).encode()
        path = f"/api/2/things/{_ap(rng.randrange(VALIDATED))}/attributes/frequency"
        return "PUT", path, value, json_type

    def search_id(rng: random.Random) -> tuple[str, str, bytes | None, dict[str, str]]:
        return (
            "GET",
            f'/api/2/search/things?filter=eq(thingId,"{_thing(rng.randrange(n))}")',
            None,
            {},
        )

    def search_attr(rng: random.Random) -> tuple[str, str, bytes | None, dict[str, str]]:
        serial = f"s-{rng.randrange(n)}"
        return (
            "GET",
            f'/api/2/search/things?filter=eq(attributes/serial,"{serial}")&option=size(10)',
            None,
            {},
        )

    return {
        "get": get,
        "put-validated": put_validated,
        "search-id": search_id,
        "search-attr": search_attr,
    }


async def drive(
    base: str,
    key: str,
    name: str,
    factory: RequestFactory,
    seconds: float,
    concurrency: int,
    warmup: float,
) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        latencies: list[float] = []
        counts = [0, 0]
        start = time.perf_counter()
        measure_from = start + warmup
        stop = measure_from + seconds

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while True:
                now = time.perf_counter()
                if now >= stop:
                    return
                method, path, body, headers = factory(rng)
                began = time.perf_counter()
                response = await client.request(method, path, content=body, headers=headers)
                ended = time.perf_counter()
                if began >= measure_from and ended <= stop:
                    latencies.append((ended - began) * 1000)
                    counts[0] += 1
                    if response.status_code >= 400:
                        counts[1] += 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return Result(name, counts[0], counts[1], seconds, latencies)


_WRK_REQUESTS = {
    "get": 'return wrk.format("GET", string.format("/api/2/things/bench:t%07d", '
    "math.random(0, N - 1)))",
    "put-validated": 'return wrk.format("PUT", string.format('
    '"/api/2/things/bench:ap%03d/attributes/frequency", '
    'math.random(0, V - 1)), {["Authorization"] = '
    'wrk.headers["Authorization"], '
    '["Content-Type"] = "application/json"}, '
    "tostring(math.random(2412, 70199)))",
    "search-id": 'return wrk.format("GET", string.format('
    '"/api/2/search/things?filter=eq(thingId,%%22bench:t%07d%%22)", '
    "math.random(0, N - 1)))",
    "search-attr": 'return wrk.format("GET", string.format('
    '"/api/2/search/things?filter=eq(attributes/serial,%%22s-%d%%22)'
    '&option=size(10)", math.random(0, N - 1)))',
}


def drive_wrk(base: str, key: str, name: str, n: int, seconds: float, concurrency: int) -> str:
    """One scenario with ``wrk``; returns the summary line."""
    script = (
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        f"N = {n}\nV = {VALIDATED}\n"
        f"math.randomseed({random.randrange(1 << 30)})\n"
        f"request = function()\n  {_WRK_REQUESTS[name]}\nend\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{int(seconds)}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                handle.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    rate = _grab(r"Requests/sec:\s+([\d.]+)", out)
    p50 = _grab(r"\s50%\s+([\d.]+\w+)", out)
    p99 = _grab(r"\s99%\s+([\d.]+\w+)", out)
    total = _grab(r"(\d+) requests in", out)
    bad = _grab(r"Non-2xx or 3xx responses:\s+(\d+)", out) or "0"
    return (
        f"{name:<14} {float(rate or 0):9.0f} req/s   p50 {p50:>9}   p99 {p99:>9}"
        f"   ({total} requests, {bad} errors; wrk)"
    )


def _grab(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


def prepare(data_dir: Path, n: int) -> str:
    """Load N plain and VALIDATED modelled twins through the core; returns the API key."""
    sys.path.insert(0, str(ROOT))
    from server.core.batch import TwinUpsert
    from server.core.bootstrap import build_core

    core = build_core("sqlite", "embedded", data_dir)
    core.open()
    try:
        _, key = core.tenants.create(TENANT)
        caller = core.tenants.authenticate(key)
        for start in range(0, n, 1000):
            core.batch.upsert(
                caller,
                [
                    TwinUpsert(
                        _thing(i),
                        {"attributes": {"n": i, "serial": f"s-{i}", "kind": f"k{i % 10}"}},
                    )
                    for i in range(start, min(n, start + 1000))
                ],
            )
        for i in range(VALIDATED):
            core.twins.put(
                caller,
                _ap(i),
                "/",
                {
                    "definition": WIFI,
                    "attributes": {"bssid": f"02:00:00:00:00:{i:02x}", "frequency": 2412},
                },
            )
    finally:
        core.close()
    return key


async def load_over_http(base: str, key: str, n: int) -> None:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        semaphore = asyncio.Semaphore(32)

        async def put(path: str, body: dict[str, object]) -> None:
            async with semaphore:
                (await client.put(path, json=body)).raise_for_status()

        await asyncio.gather(
            *(
                put(
                    f"/api/2/things/{_thing(i)}",
                    {"attributes": {"n": i, "serial": f"s-{i}", "kind": f"k{i % 10}"}},
                )
                for i in range(n)
            )
        )
        await asyncio.gather(
            *(
                put(
                    f"/api/2/things/{_ap(i)}",
                    {
                        "definition": WIFI,
                        "attributes": {"bssid": f"02:00:00:00:00:{i:02x}", "frequency": 2412},
                    },
                )
                for i in range(VALIDATED)
            )
        )


def spawn(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        grpc_port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
            "--mqtt",
            "off",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument(
        "--load", action="store_true", help="with --url: load the twins through the REST API first"
    )
    parser.add_argument("--twins", type=int, default=10_000, help="N twins (default 10000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--only", action="append", help="run only these scenarios")
    parser.add_argument(
        "--client",
        choices=("auto", "httpx", "wrk"),
        default="auto",
        help="load generator; auto: wrk when on PATH, else httpx",
    )
    args = parser.parse_args(argv)
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "httpx"

    process = None
    workdir = None
    if args.url:
        if not args.key:
            parser.error("--url needs --key")
        base, key = args.url.rstrip("/"), args.key
        if args.load:
            began = time.perf_counter()
            asyncio.run(load_over_http(base, key, args.twins))
            print(f"loaded {args.twins} twins over HTTP in {time.perf_counter() - began:.1f} s")
    else:
        workdir = Path(tempfile.mkdtemp(prefix="ndtwin-bench-"))
        began = time.perf_counter()
        key = prepare(workdir, args.twins)
        print(
            f"loaded {args.twins} twins (+{VALIDATED} validated) through the core in "
            f"{time.perf_counter() - began:.1f} s"
        )
        process, base = spawn(workdir)
    print(
        f"N = {args.twins} twins; {args.concurrency} concurrent connections; "
        f"{args.seconds:.0f} s per scenario; client {args.client}; {os.cpu_count()} CPUs "
        "shared by client and server"
    )
    try:
        for name, factory in scenarios(args.twins).items():
            if args.only and name not in args.only:
                continue
            if args.client == "wrk":
                print(
                    drive_wrk(base, key, name, args.twins, args.seconds, args.concurrency),
                    flush=True,
                )
                continue
            result = asyncio.run(
                drive(base, key, name, factory, args.seconds, args.concurrency, args.warmup)
            )
            print(result.line(), flush=True)
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
