"""schemathesis against a live ``ndtwin serve``: every check, Ditto routes, bounded run.

All of schemathesis' checks run (no 5xx, responses and status codes as documented,
schema-valid requests accepted, schema-violating ones refused, 405 with ``Allow``, auth
enforced...). ``schemathesis.toml`` beside this file only adds 412 to the answers
expected for valid data, since a valid conditional request may meet a false condition.
The run is deterministic and small (``--max-examples``), so it fits CI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Served

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.slow
def test_schemathesis_finds_nothing(served: Served, tmp_path: Path) -> None:
    assert served.key is not None
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{served.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "6",
        "--generation-deterministic",
        "--include-path-regex",
        "^/api/2/",
        "--suppress-health-check",
        "filter_too_much",
        "--workers",
        "1",
        "-H",
        f"Authorization: Bearer {served.key}",
        "--no-color",
    ]
    # schemathesis keeps a '.schemathesis' folder in its working directory: not the repo.
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
