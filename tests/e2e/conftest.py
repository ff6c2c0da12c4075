"""A real ``ndtwin serve`` process on free loopback ports, shared by the e2e tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from server.serve import BANNER_END

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running server: its base URL, data dir, the demo key and the banner it printed."""

    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    key: str | None
    banner: list[str]
    log: list[str] = field(default_factory=list)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(5)
        return int(self.process.returncode)


def ndtwin(*args: str) -> list[str]:
    """The command line of ``ndtwin`` from this checkout's interpreter."""
    return [sys.executable, "-m", "server.cli", *args]


def start_server(data_dir: Path, *extra: str, timeout: float = 60) -> Served:
    """Start ``ndtwin serve`` and wait until its API answers."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NDTWIN_CONFIG", None)
    process = subprocess.Popen(
        ndtwin(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--grpc-port",
            str(free_port()),
            "--data-dir",
            str(data_dir),
            "--mqtt",
            "off",
            "--log-level",
            "warning",
            *extra,
        ),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + timeout
    while not banner or banner[-1] != BANNER_END:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("ndtwin serve exited:\n" + "\n".join(banner))
        banner.append(line.rstrip("\n"))
        assert time.monotonic() < deadline, "no banner"
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError("server did not become ready")
    keys = [m.group(1) for line in banner if (m := re.fullmatch(r"\s+(demo\.\S+)", line))]
    served = Served(process, url, data_dir, keys[0] if keys else None, banner)
    # Keep reading the server's output so a full pipe never blocks it.
    threading.Thread(target=_drain, args=(process, served.log), daemon=True).start()
    return served


def _drain(process: subprocess.Popen[str], log: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        log.append(line.rstrip("\n"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server with embedded stores; ``served.key`` is the demo tenant's key."""
    server = start_server(tmp_path_factory.mktemp("ndtwin"))
    assert server.key is not None, "\n".join(server.banner)
    try:
        yield server
    finally:
        server.stop()
