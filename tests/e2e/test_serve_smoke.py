"""``ndtwin serve`` and ``ndtwin tenant`` as a user meets them: a real process on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from server.cli import main
from tests.e2e.conftest import ROOT, Served, ndtwin, start_server


def test_first_start_prints_urls_and_the_demo_key(served: Served) -> None:
    text = "\n".join(served.banner)
    assert f"{served.url}/api/2/things" in text
    assert f"{served.url}/openapi.json" in text
    assert "gRPC:" in text
    assert served.key is not None and served.key.startswith("demo.")
    who = httpx.get(f"{served.url}/api/2/whoami", auth=("demo", served.key))
    assert who.status_code == 200
    assert who.json()["defaultSubject"] == "ndtwin:demo"
    bearer = httpx.get(
        f"{served.url}/api/2/things", headers={"Authorization": f"Bearer {served.key}"}
    )
    assert (bearer.status_code, bearer.json()) == (200, [])
    assert httpx.get(f"{served.url}/api/2/things").status_code == 401


def test_openapi_is_served_and_valid(served: Served) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    validate(document)
    assert "/api/2/things/{thingId}" in document["paths"]


def test_tenant_commands_work_beside_a_running_server(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    created = subprocess.run(
        ndtwin("tenant", "create", "acme", "--data-dir", str(served.data_dir)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("acme.")
    who = httpx.get(f"{served.url}/api/2/whoami", headers={"Authorization": f"Bearer {key}"})
    assert who.json()["defaultSubject"] == "ndtwin:acme"
    # The other commands in-process (same parser and handlers, no interpreter start-up).
    data = ["--data-dir", str(served.data_dir)]
    capsys.readouterr()
    assert main(["tenant", "create", "acme", *data]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["tenant", "create", "Bad_Name", *data]) == 1
    assert "not valid" in capsys.readouterr().err
    assert main(["tenant", "list", *data]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["acme", "demo"]
    assert main(["tenant", "delete", "acme", *data]) == 0
    assert main(["tenant", "delete", "acme", *data]) == 1


@pytest.mark.slow
def test_a_second_start_keeps_the_tenant_and_prints_no_key(tmp_path: Path) -> None:
    first = start_server(tmp_path)
    assert first.key is not None
    httpx.put(
        f"{first.url}/api/2/things/org.x:kept",
        json={"attributes": {"a": 1}},
        auth=("demo", first.key),
    ).raise_for_status()
    assert first.stop() == 0
    second = start_server(tmp_path)
    try:
        assert second.key is None
        assert not any("API key" in line for line in second.banner)
        got = httpx.get(f"{second.url}/api/2/things/org.x:kept", auth=("demo", first.key))
        assert got.json()["attributes"] == {"a": 1}
    finally:
        assert second.stop() == 0


def test_bad_settings_exit_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--store", "mysql://x", "--data-dir", str(tmp_path)]) == 1
    assert "store" in capsys.readouterr().err
