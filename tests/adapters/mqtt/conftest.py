"""Fixtures for the MQTT adapter: a real core, real brokers, unique topic prefixes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from adapters.mqtt.broker import free_port
from server.core.bootstrap import build_core
from server.core.catalog import DEFAULT_MODEL_DIR
from server.core.context import Caller
from server.core.ids import TenantId
from server.core.service import Core

SHARED = Path(__file__).resolve().parents[4] / "shared" / "datasets"
CALLER = Caller(TenantId("demo"))
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def make_core(data_dir: Path, model_dirs: list[Path] | None = None) -> Core:
    core = build_core("sqlite", "memory", data_dir, model_dirs or [DEFAULT_MODEL_DIR])
    core.open()
    if core.store.get_tenant(TenantId("demo")) is None:
        core.tenants.create("demo")
    return core


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = make_core(tmp_path / "data")
    yield core
    core.close()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test alone (parallel runs share the system broker)."""
    return f"t{uuid.uuid4().hex[:10]}/v1"


def broker_up(host: str = "127.0.0.1", port: int = 1883) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture
def system_mosquitto() -> str:
    if not broker_up():
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    return "mqtt://127.0.0.1:1883"


class OwnMosquitto:
    """A Mosquitto of the test's own, with persistence, that the test may restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.config = directory / "mosquitto.conf"
        directory.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {directory}/\nautosave_interval 1\n"
            "max_queued_messages 0\nmax_inflight_messages 0\nuser root\n"
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not broker_up(port=self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: Mosquitto saves its database and exits
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[OwnMosquitto]:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto is not installed")
    broker = OwnMosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


def forget_session(url: str, client_id: str) -> None:
    """Remove a persistent session the test left on a shared broker."""
    host, port = url.removeprefix("mqtt://").split(":")
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5
    )
    try:
        client.connect(host, int(port), clean_start=True)
        client.loop_start()
        time.sleep(0.2)
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass


def wait_until(
    condition: Callable[[], Any],
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll ``condition()`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout:g} s")
        time.sleep(interval)


class Collector:
    """Subscribes to a filter on a broker and keeps what arrives (dead letters, curated)."""

    def __init__(self, url: str, topic_filter: str, mqtt5: bool = True) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.messages: list[tuple[str, dict[str, Any]]] = []
        protocol = paho.MQTTv5 if mqtt5 else paho.MQTTv311
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"collector-{uuid.uuid4().hex[:8]}",
            protocol=protocol,
        )
        self.client.on_message = lambda c, u, m: self.messages.append(
            (m.topic, json.loads(m.payload))
        )
        subscribed: list[int] = []
        self.client.on_subscribe = lambda *a: subscribed.append(1)
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.client.subscribe(topic_filter, qos=1)
        wait_until(lambda: subscribed, 10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
