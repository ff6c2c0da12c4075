"""utt.cli and ``python -m utt``: the ``eval`` command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from utt.cli import main, register, run_eval

REPO = Path(__file__).resolve().parents[2]


def test_register_adds_utt_eval_to_a_parent_cli() -> None:
    parser = argparse.ArgumentParser(prog="ndtwin")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["utt", "eval", "--quick", "--out", "x", "--seed", "3"])
    assert args.func is run_eval and args.quick and args.out == Path("x") and args.seed == 3
    assert args.data is None and args.threads is None


def test_main_accepts_eval_without_the_utt_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--help"])
    assert exc.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_python_dash_m_utt_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "utt", "eval", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "--out" in done.stdout


@pytest.mark.slow
def test_quick_evaluation_end_to_end(tmp_path: Path) -> None:
    """``python -m utt eval --quick`` passes its own checks within the 5-minute budget."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "utt", "eval", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["passed"] and all(c["passed"] for c in results["checks"])
    assert (tmp_path / "results.md").read_text().startswith("# UTT evaluation (quick)")
    assert len(list((tmp_path / "figures").glob("*.png"))) == 5
    assert "[" in done.stderr and "val NMSE" in done.stderr  # progress bars were drawn
    assert elapsed < 300
