"""The issue's done-when check, for real: ``ndtwin serve`` (embedded broker) plus
``ndtwin simulate campus``; devices, sources and relationships appear through the REST
API, then relationships expire and the orphaned sources go (short TTLs in the config)."""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.mqtt.broker import free_port
from server.serve import BANNER_END

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow  # a server and a simulator process: about 20 s


def _ndtwin(*args: str) -> list[str]:
    return [sys.executable, "-m", "server.cli", *args]


def _until(what: str, check: Callable[[], Any], timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.25)


class _Server:
    def __init__(self, tmp: Path) -> None:
        self.mqtt_port = free_port()
        self.port = free_port()
        config = tmp / "ndtwin.toml"
        config.write_text(
            "[adapters.mqtt]\n"
            f"embedded_port = {self.mqtt_port}\n"
            f'client_id = "rest-test-{uuid.uuid4().hex[:8]}"\n'
            "relationship_ttl_s = 3\norphan_grace_s = 2\nsweep_interval_s = 0.5\n"
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("NDTWIN_CONFIG", None)
        self.process = subprocess.Popen(
            _ndtwin(
                *("serve", "--config", str(config), "--data-dir", str(tmp / "data")),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--grpc-port", str(free_port()), "--mqtt", "embedded"),
                *("--log-level", "warning"),
            ),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        banner: list[str] = []
        while not banner or banner[-1] != BANNER_END:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError("ndtwin serve exited:\n" + "\n".join(banner))
            banner.append(line.rstrip("\n"))
        keys = [m.group(1) for line in banner if (m := re.fullmatch(r"\s+(demo\.\S+)", line))]
        assert keys, "\n".join(banner)
        self.key = keys[0]
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", auth=("demo", self.key), timeout=10
        )
        _until("the REST API answers", self._ready, 60)

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip("\n"))

    def _ready(self) -> bool:
        try:
            return self.http.get("/api/2/things").status_code == 200
        except httpx.HTTPError:
            return False

    def namespaces(self) -> collections.Counter[str]:
        response = self.http.get("/api/2/search/things", params={"option": "size(200)"})
        response.raise_for_status()
        return collections.Counter(t["thingId"].split(":")[0] for t in response.json()["items"])

    def relationships(self) -> list[dict[str, Any]]:
        response = self.http.get("/v1/tenants/demo/relationships", params={"pageSize": 500})
        response.raise_for_status()
        return list(response.json()["relationships"])

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    served = _Server(tmp_path)
    try:
        yield served
    finally:
        served.stop()


def test_simulated_campus_appears_then_expires_through_rest(server: _Server) -> None:
    simulated = subprocess.run(
        _ndtwin(
            *("simulate", "campus", "--devices", "3", "--duration", "3", "--rate", "2"),
            *("--mqtt", f"mqtt://127.0.0.1:{server.mqtt_port}", "--tenant", "demo"),
            *("--seed", "3"),
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert simulated.returncode == 0, simulated.stderr
    summary = json.loads(simulated.stdout.strip().splitlines()[-1])
    assert summary["published"] == summary["acknowledged"] > 0

    # Appearing: phones and sensors, the sources they hear, the observes relationships.
    seen = _until(
        "devices, sources and relationships through REST",
        lambda: (
            (n := server.namespaces())["device"] >= 3
            and all(n[kind] for kind in ("cell", "wifi", "ble", "sensor"))
            and (rels := server.relationships())
            and (n, rels)
        ),
    )
    counts, relationships = seen
    rel = relationships[0]
    assert rel["type"] == "observes"
    # The v1 face names twins by resource name: tenants/demo/twins/{thingId}.
    assert rel["source"].rsplit("/", 1)[-1].startswith("device:")
    assert rel["target"].rsplit("/", 1)[-1].split(":")[0] in ("cell", "wifi", "ble")
    assert rel["properties"]["sampleCount"] >= 1
    assert rel["properties"]["lastSeen"] >= rel["properties"]["firstSeen"]

    # Expiring: nothing is heard any more, so every relationship goes after the TTL and
    # every source after the grace period; devices and sensors stay.
    _until("relationships expired", lambda: not server.relationships())
    after = _until(
        "orphaned sources removed",
        lambda: (n := server.namespaces()) and not (n["cell"] or n["wifi"] or n["ble"]) and n,
    )
    assert after["device"] == counts["device"] and after["sensor"] == counts["sensor"]
