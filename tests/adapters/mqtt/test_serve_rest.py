"""The issue's done-when check, for real: ``ndtwin serve`` (embedded broker) plus
``ndtwin simulate campus``; devices, sources and relationships appear through the REST
API, then relationships expire and the orphaned sources go (short TTLs in the config)."""

from __future__ import annotations

import collections
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.mqtt.broker import free_port
from tests.adapters.mqtt.conftest import wait_until
from tests.e2e.conftest import ROOT, ndtwin, start_server

pytestmark = pytest.mark.slow  # a server and a simulator process: about 20 s


#: REST polls of the server: often enough, without loading it.
POLL_S = 0.25


class _Server:
    """``ndtwin serve`` with its embedded broker on a free port and short expiry times."""

    def __init__(self, tmp: Path) -> None:
        self.mqtt_port = free_port()
        config = tmp / "ndtwin.toml"
        config.write_text(
            "[adapters.mqtt]\n"
            f"embedded_port = {self.mqtt_port}\n"
            f'client_id = "rest-test-{uuid.uuid4().hex[:8]}"\n'
            "relationship_ttl_s = 3\norphan_grace_s = 2\nsweep_interval_s = 0.5\n"
        )
        # The later --mqtt wins over start_server's "off".
        self.served = start_server(tmp / "data", "--mqtt", "embedded", "--config", str(config))
        assert self.served.key, "\n".join(self.served.banner)
        self.http = httpx.Client(
            base_url=self.served.url, auth=("demo", self.served.key), timeout=10
        )
        wait_until(self._ready, 60, POLL_S, what="the REST API answers")

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
        self.served.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    served = _Server(tmp_path)
    try:
        yield served
    finally:
        served.stop()


def test_simulated_campus_appears_then_expires_through_rest(server: _Server) -> None:
    simulated = subprocess.run(
        ndtwin(
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
    seen = wait_until(
        lambda: (
            (n := server.namespaces())["device"] >= 3
            and all(n[kind] for kind in ("cell", "wifi", "ble", "sensor"))
            and (rels := server.relationships())
            and (n, rels)
        ),
        40,
        POLL_S,
        what="devices, sources and relationships through REST",
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
    wait_until(lambda: not server.relationships(), 40, POLL_S, what="relationships expired")
    after = wait_until(
        lambda: (n := server.namespaces()) and not (n["cell"] or n["wifi"] or n["ble"]) and n,
        40,
        POLL_S,
        what="orphaned sources removed",
    )
    assert after["device"] == counts["device"] and after["sensor"] == counts["sensor"]
