"""A real ``ndtwin serve`` (embedded broker) fed by the campus simulator, and a real
headless Chromium (Debian's package, driven by Playwright without a browser download)."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Where the screenshots of the main views go: a temporary folder, so test runs leave the
#: work tree alone; ``NDTWIN_SCREENSHOT_DIR=docs/console`` refreshes the ones
#: docs/console.md shows.
SHOTS = Path(
    os.environ.get("NDTWIN_SCREENSHOT_DIR")
    or Path(tempfile.gettempdir()) / "ndtwin-console-screenshots"
)
#: Playwright adds --headless itself; the rest keep Chromium off the network and quiet.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Console:
    """A running server: URL, demo key, broker URL, data dir and its log."""

    process: subprocess.Popen[str]
    url: str
    key: str
    broker: str
    data_dir: Path
    log: list[str] = field(default_factory=list)
    simulator: subprocess.Popen[str] | None = None

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.url + path,
            params=params,
            timeout=30,
            headers={"Authorization": f"Bearer {self.key}"},
        )
        response.raise_for_status()
        return response.json()

    def simulate(
        self, devices: int, duration: float, seed: int = 1, background: bool = False
    ) -> subprocess.Popen[str]:
        command = [
            sys.executable,
            "-m",
            "server.cli",
            "simulate",
            "campus",
            "--devices",
            str(devices),
            "--duration",
            str(duration),
            "--mqtt",
            self.broker,
            "--tenant",
            "demo",
            "--seed",
            str(seed),
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        if not background:
            out, _ = process.communicate(timeout=duration + 60)
            assert process.returncode == 0, out
        return process

    def stop(self) -> None:
        for proc in (self.simulator, self.process):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def start_console(data_dir: Path) -> Console:
    """``ndtwin serve`` with its embedded broker on free ports; waits for the API."""
    port, grpc_port, mqtt_port = free_port(), free_port(), free_port()
    config = data_dir.parent / f"{data_dir.name}.toml"
    config.write_text(
        f'[adapters.mqtt]\nembedded_port = {mqtt_port}\nclient_id = "console-test-adapter"\n',
        encoding="utf-8",
    )
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
            str(grpc_port),
            "--data-dir",
            str(data_dir),
            "--mqtt",
            "embedded",
            "--config",
            str(config),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + 90
    while not banner or banner[-1] != "Press Ctrl+C to stop.":
        line = process.stdout.readline()
        if not line:
            raise AssertionError("ndtwin serve exited:\n" + "\n".join(banner))
        banner.append(line.rstrip("\n"))
        assert time.monotonic() < deadline, "no banner"
    keys = [m.group(1) for line in banner if (m := re.fullmatch(r"\s+(demo\.\S+)", line))]
    assert keys, "\n".join(banner)
    console = Console(
        process, f"http://127.0.0.1:{port}", keys[0], f"mqtt://127.0.0.1:{mqtt_port}", data_dir
    )
    threading.Thread(target=_drain, args=(process, console.log), daemon=True).start()
    while time.monotonic() < deadline:
        try:
            if httpx.get(console.url + "/console/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    # The adapter subscribes after the HTTP face is up: wait until its broker answers.
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", mqtt_port)) == 0:
                break
        time.sleep(0.1)
    return console


def _drain(process: subprocess.Popen[str], log: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        log.append(line.rstrip("\n"))


def wait_for(check: Any, timeout: float = 30.0, every: float = 0.2) -> Any:
    """Poll ``check()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        time.sleep(every)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A server with phones walking the simulated campus while the module runs."""
    server = start_console(tmp_path_factory.mktemp("console") / "data")
    try:
        server.simulator = server.simulate(devices=6, duration=600, seed=7, background=True)
        wait_for(
            lambda: (
                len(
                    server.api("/api/2/search/things", namespaces="device", option="size(50)")[
                        "items"
                    ]
                )
                >= 12
            ),
            timeout=60,
        )
        # A few scans so that charts have history.
        time.sleep(4)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    """A fresh headless Chromium profile (Debian's chromium; nothing is downloaded)."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tempfile.mkdtemp(prefix="ndtwin-chromium-")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1366, "height": 800},
            color_scheme="light",
            reduced_motion="reduce",
        )
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A new tab that fails the test on any console error or failed request."""
    tab = browser_context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    tab.problems = problems
    yield tab
    tab.close()


def screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    """Save a screenshot as a small palette PNG under `SHOTS`."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    raw = page.screenshot(full_page=full_page, animations="disabled")
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    # 64 colours keep text crisp on a flat UI and the file a fraction of the RGB size.
    small = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = SHOTS / f"{name}.png"
    small.save(path, optimize=True)
    return path


def sign_in(page: Any, console: Console) -> None:
    page.goto(console.url + "/console/")
    page.wait_for_selector("#key")
    page.fill("#key", console.key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#devices tbody tr a")
