"""utt.federated.node under ``torchrun``: one server and three local twins on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from utt.artifacts import load_model, sha256_file

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_torchrun_job_trains_and_writes_the_twin(root: Path, tmp_path: Path) -> None:
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun is not None
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            torchrun,
            "--standalone",
            "--nnodes",
            "1",
            "--nproc-per-node",
            "4",
            "-m",
            "utt.federated.node",
            "--data",
            str(root),
            "--function",
            "merge:vision+sensory->wireless",
            "--rounds",
            "2",
            "--window",
            "10",
            "--d-model",
            "16",
            "--layers",
            "1",
            "--heads",
            "2",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["clients"] == 3 and len(summary["val_curve"]) == 3 and summary["bytes"] > 0
    artifact = Path(summary["artifact"])
    assert sha256_file(artifact) == summary["sha256"]
    assert load_model(artifact).model.targets == ("wireless",)
