"""Console: the device page and a 24-hour chart with 1,000 devices and a week of 1 Hz history.

The script builds a SQLite store with ``--devices`` devices, each hearing three cells,
three Wi-Fi access points and two BLE beacons (``observes`` relationships written through
the core's batch upsert), and gives one device ``--days`` of history at ``--rate`` Hz on
its four strongest links (RSRP, RSRQ, SINR of the serving cell, RSRP of the NR leg, RSSI
of the best AP and beacon, and each link's ``lastSeen``), written as history points
through the store's batch commit. It then starts ``ndtwin serve`` on that store and
measures, from a separate process:

- through the API (the calls the console makes, in the same order and parallelism):
  the device page (twin, its relationships, its sources' names, then the four 15-minute
  chart series at once) and the 24-hour chart (four bucketed series at once), p50/p95
  over ``--repeat`` runs; the devices list page as a baseline;
- in headless Chromium (Debian's, via Playwright; skipped without it): from navigation
  to the device page until its network view and chart are drawn, and from a click on
  "24 h" until the 24-hour chart is drawn.

Only the measured device carries the week of history; the other devices carry their
current state (the history table is indexed by twin and path, so their history would
not be read by these queries). Sizes are flags: ``python -m bench.console --devices 1000
--days 7 --rate 1`` (the defaults); ``--days 1`` loads in a fraction of the time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

import httpx  # noqa: E402

from server.core.batch import RelationshipUpsert, TwinUpsert  # noqa: E402
from server.core.bootstrap import build_core  # noqa: E402
from server.core.context import Caller  # noqa: E402
from server.core.ids import TenantId, ThingId  # noqa: E402
from server.core.stores.records import HistoryPoint, WriteBatch  # noqa: E402

TENANT = "bench"
DEVICE = "device:bench-0000"
CELLS = [
    ("cell:lte-00101-1000", "lteCell"),
    ("cell:lte-00101-1001", "lteCell"),
    ("cell:nr-00101-2000", "nrCell"),
]
APS = [f"wifi:02000000{i:04x}" for i in range(8)]
BEACONS = [f"ble:0a000000{i:04x}" for i in range(10)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(data_dir: Path, devices: int, days: float, rate: float) -> str:
    """Build the store; returns the tenant's API key."""
    core = build_core("sqlite", "memory", data_dir)
    core.open()
    try:
        _, key = core.tenants.create(TENANT)
        caller = Caller(TenantId(TENANT))
        catalog = core.catalog
        assert catalog is not None

        def skeleton(model: str, attributes: dict[str, Any]) -> dict[str, Any]:
            entry = catalog.by_name(model)
            assert entry is not None
            body = entry.skeleton()
            body["attributes"] = {**body.get("attributes", {}), **attributes}
            return body

        now = time.time()
        sources = [
            TwinUpsert(
                tid,
                skeleton(
                    "LteCell" if kind == "lteCell" else "NrCell",
                    {"mcc": "001", "mnc": "01", "lastSeen": now},
                ),
            )
            for tid, kind in CELLS
        ]
        sources += [
            TwinUpsert(
                ap,
                skeleton(
                    "WifiAccessPoint",
                    {
                        "bssid": ":".join(ap[5:][i : i + 2] for i in range(0, 12, 2)),
                        "ssid": "bench",
                        "lastSeen": now,
                    },
                ),
            )
            for ap in APS
        ]
        sources += [
            TwinUpsert(
                b,
                skeleton(
                    "BleBeacon",
                    {
                        "address": ":".join(b[4:][i : i + 2] for i in range(0, 12, 2)),
                        "lastSeen": now,
                    },
                ),
            )
            for b in BEACONS
        ]
        core.batch.upsert(caller, sources)
        started = time.perf_counter()
        for first in range(0, devices, 50):
            twins, rels = [], []
            for n in range(first, min(devices, first + 50)):
                device = f"device:bench-{n:04d}"
                twins.append(
                    TwinUpsert(
                        device,
                        skeleton(
                            "EndDevice",
                            {
                                "model": "Bench 1",
                                "manufacturer": "ndtwin",
                                "online": True,
                                "lastSeen": now,
                                "batteryLevel": 50 + n % 50,
                                "location": {"lat": 60.2 + n * 1e-6, "lon": 24.96, "floor": 0},
                            },
                        ),
                    )
                )
                heard = [(CELLS[0], "primary"), (CELLS[1], "neighbour"), (CELLS[2], "secondary")]
                for i, (source, role) in enumerate(heard):
                    rels.append(
                        RelationshipUpsert(
                            f"{device}~{source[0]}",
                            device,
                            source[0],
                            "observes",
                            {
                                "deviceId": device,
                                "sourceId": source[0],
                                "sourceType": source[1],
                                "rsrp": -90 - 5 * i,
                                "rsrq": -10,
                                "sinr": 12 - 4 * i,
                                "level": 3,
                                "connectionStatus": role,
                                "firstSeen": now,
                                "lastSeen": now,
                                "sampleCount": 1,
                            },
                        )
                    )
                for j, source_id in enumerate(APS[n % 5 : n % 5 + 3] + BEACONS[n % 8 : n % 8 + 2]):
                    kind = "wifiAccessPoint" if source_id.startswith("wifi") else "bleBeacon"
                    rels.append(
                        RelationshipUpsert(
                            f"{device}~{source_id}",
                            device,
                            source_id,
                            "observes",
                            {
                                "deviceId": device,
                                "sourceId": source_id,
                                "sourceType": kind,
                                "rssi": -55 - 6 * j,
                                "level": 3,
                                "firstSeen": now,
                                "lastSeen": now,
                                "sampleCount": 1,
                            },
                        )
                    )
            core.batch.upsert(caller, twins, rels)
        print(
            f"loaded {devices} devices, {devices * 8} relationships in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        # A week of 1 Hz samples on the measured device's four strongest links.
        series = [
            (CELLS[0][0], {"rsrp": (-95, 6), "rsrq": (-11, 2), "sinr": (10, 4)}),
            (CELLS[2][0], {"rsrp": (-100, 6)}),
            (APS[0], {"rssi": (-60, 5)}),
            (BEACONS[0], {"rssi": (-75, 5)}),
        ]
        samples = int(days * 86400 * rate)
        step = 1.0 / rate
        t0 = now - samples * step
        tenant = TenantId(TENANT)
        tid = ThingId(DEVICE)
        started = time.perf_counter()
        rows = 0
        chunk: list[HistoryPoint] = []
        for source, metrics in series:
            prefix = f"/relationships/{DEVICE}~{source}/properties"
            for k in range(samples):
                ts = t0 + k * step
                when = datetime.fromtimestamp(ts, UTC)
                revision = k + 2
                chunk.append(HistoryPoint(tenant, tid, f"{prefix}/lastSeen", when, ts, revision))
                for metric, (mean, swing) in metrics.items():
                    # A daily cycle plus a slower drift: integer dBm as phones report.
                    value = round(mean + swing * _wave(ts, metric))
                    chunk.append(
                        HistoryPoint(tenant, tid, f"{prefix}/{metric}", when, value, revision)
                    )
                if len(chunk) >= 200_000:
                    core.store.commit(tenant, WriteBatch(history=chunk))
                    rows += len(chunk)
                    chunk = []
        if chunk:
            core.store.commit(tenant, WriteBatch(history=chunk))
            rows += len(chunk)
        print(
            f"loaded {rows:,} history points ({days:g} days at {rate:g} Hz) in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
    finally:
        core.close()
    return key


def _wave(ts: float, metric: str) -> float:
    import math

    phase = {"rsrp": 0.0, "rsrq": 1.0, "sinr": 2.0, "rssi": 3.0}[metric]
    return math.sin(ts / 86400 * 2 * math.pi + phase) * 0.7 + math.sin(ts / 977 + phase) * 0.3


def serve(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NDTWIN_CONFIG", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--grpc-port",
            str(free_port()),
            "--data-dir",
            str(data_dir),
            "--graph",
            "memory",
            "--mqtt",
            "off",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/console/", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("ndtwin serve did not start")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def api_figures(url: str, key: str, repeat: int) -> dict[str, list[float]]:
    """Wall-clock seconds of the console's API calls, as the console makes them."""
    headers = {"Authorization": f"Bearer {key}"}
    client = httpx.Client(base_url=url, headers=headers, timeout=60)
    pool = concurrent.futures.ThreadPoolExecutor(4)
    parent = f"tenants/{TENANT}"

    def chart(start: float, end: float, bucket: int) -> None:
        paths = [
            f"/relationships/{DEVICE}~{CELLS[0][0]}/properties/rsrp",
            f"/relationships/{DEVICE}~{CELLS[2][0]}/properties/rsrp",
            f"/relationships/{DEVICE}~{CELLS[1][0]}/properties/rsrp",
            f"/relationships/{DEVICE}~{CELLS[0][0]}/properties/rsrq",
        ]

        def one(path: str) -> int:
            response = client.get(
                f"/v1/{parent}/twins/{DEVICE}:history",
                params={
                    "path": path,
                    "bucket": f"{bucket}s",
                    "start_time": datetime.fromtimestamp(start, UTC).isoformat(),
                    "end_time": datetime.fromtimestamp(end, UTC).isoformat(),
                },
            )
            response.raise_for_status()
            return len(response.json().get("buckets", []))

        counts = list(pool.map(one, paths))
        assert counts[0] > 0, "no buckets: the history did not load"

    out: dict[str, list[float]] = {
        "device page (API)": [],
        "24-hour chart (API)": [],
        "devices list page (API)": [],
        "device anomalies, 1 h (API)": [],
    }
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(f"/api/2/things/{DEVICE}").raise_for_status()
        rels = client.get(
            f"/v1/{parent}/relationships",
            params={
                "filter": f'source = "{parent}/twins/{DEVICE}" AND type = "observes"',
                "page_size": 1000,
            },
        ).json()["relationships"]
        ids = ",".join(r["properties"]["sourceId"] for r in rels)
        client.get(
            "/api/2/things", params={"ids": ids, "fields": "thingId,attributes/ssid"}
        ).raise_for_status()
        now = time.time()
        chart(now - 900, now, 3)
        out["device page (API)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        now = time.time()
        chart(now - 86400, now, 288)
        out["24-hour chart (API)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        client.get(
            "/api/2/search/things",
            params={
                "namespaces": "device",
                "option": "size(100),sort(+thingId)",
                "fields": "thingId,attributes/online,attributes/lastSeen",
            },
        ).raise_for_status()
        client.get("/api/2/search/things/count", params={"namespaces": "device"})
        out["devices list page (API)"].append(time.perf_counter() - started)
        if len(out["device anomalies, 1 h (API)"]) < 3:
            started = time.perf_counter()
            client.get(
                "/v1/analytics/anomalies", params={"twin": DEVICE, "window": 3600}
            ).raise_for_status()
            out["device anomalies, 1 h (API)"].append(time.perf_counter() - started)
    pool.shutdown()
    client.close()
    return out


def browser_figures(url: str, key: str, repeat: int) -> dict[str, list[float]]:
    """Seconds from navigation to a drawn device page, and from "24 h" to its chart."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("browser: skipped (no chromium or playwright)")
        return {}
    out: dict[str, list[float]] = {"device page (browser)": [], "24-hour chart (browser)": []}
    profile = tempfile.mkdtemp(prefix="ndtwin-bench-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            viewport={"width": 1366, "height": 800},
        )
        page = context.new_page()
        page.goto(url + "/console/")
        page.fill("#key", key)
        page.keyboard.press("Enter")
        page.wait_for_selector("#devices tbody tr a")
        for _ in range(repeat):
            page.goto(url + "/console/#/devices")
            page.wait_for_selector("#devices tbody tr a")
            started = time.perf_counter()
            page.evaluate(f"location.hash = '#/twin/{DEVICE.replace(':', '%3A')}'")
            page.wait_for_selector("#network-view .source-row")
            page.wait_for_selector("#signal-chart[data-loaded] svg path.line")
            out["device page (browser)"].append(time.perf_counter() - started)
            before = page.get_attribute("#signal-chart", "data-loaded")
            started = time.perf_counter()
            page.click("#signal-chart >> xpath=.. >> button:has-text('24 h')")
            page.wait_for_function(
                "b => document.getElementById('signal-chart').dataset.loaded !== b", arg=before
            )
            out["24-hour chart (browser)"].append(time.perf_counter() - started)
            # Let the page's analytics finish before the next run (they share the server).
            page.wait_for_selector("#insights h3, #insights p", timeout=180_000)
            page.wait_for_selector("#recommendation p", timeout=180_000)
        status = page.inner_text("section[aria-label='Signal history'] .toolbar")
        print(f"browser chart status: {' '.join(status.split())}", flush=True)
        context.close()
    shutil.rmtree(profile, ignore_errors=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--rate", type=float, default=1.0, help="samples per second")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="reuse a store built by an earlier run (skips loading)",
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ndtwin-console-bench-"))
    marker = data_dir / "bench-key"
    if marker.exists():
        key = marker.read_text().strip()
        # The views measured are "the last 15 minutes" and "the last 24 hours" by the
        # clock: a store loaded long ago no longer has its history in those windows.
        age = time.time() - marker.stat().st_mtime
        if age > 600:
            raise SystemExit(
                f"{data_dir} was loaded {age / 60:.0f} minutes ago; its history has left the "
                "15-minute window. Load a fresh store (no --data-dir, or an empty one)."
            )
    else:
        key = load(data_dir, args.devices, args.days, args.rate)
        marker.write_text(key)
    size = sum(f.stat().st_size for f in data_dir.rglob("*") if f.is_file())
    print(f"store: {data_dir} ({size / 2**20:.0f} MiB)")
    process, url = serve(data_dir)
    try:
        figures = api_figures(url, key, args.repeat)
        report(figures)
        figures = browser_figures(url, key, max(3, args.repeat // 2))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    report(figures)
    return 0


def report(figures: dict[str, list[float]]) -> None:
    print(f"{'measure':30} {'p50 ms':>8} {'p95 ms':>8} {'runs':>5}", flush=True)
    for name, values in figures.items():
        if values:
            print(
                f"{name:30} {statistics.median(values) * 1000:8.1f} "
                f"{_pct(values, 95) * 1000:8.1f} {len(values):5d}",
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
