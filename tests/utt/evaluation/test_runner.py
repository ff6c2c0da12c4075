"""utt.evaluation: a miniature evaluation, its report, plots and checks."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from utt.data.generator import GeneratorConfig
from utt.data.splits import WindowConfig
from utt.evaluation.config import FULL, QUICK, EvalConfig, preset
from utt.evaluation.plots import write_plots
from utt.evaluation.report import markdown, write_json
from utt.evaluation.runner import run_evaluation, time_to_target
from utt.federated.strategy import History, RoundRecord
from utt.functions import DEFAULT_FUNCTIONS
from utt.nets.config import NetConfig
from utt.progress import ProgressEvent


@pytest.fixture(scope="module")
def results(
    root: Path,
    tiny_net: NetConfig,
    tiny_window: WindowConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    cfg = EvalConfig(
        name="micro",
        generator=GeneratorConfig(areas=3, sequences_per_area=3, duration_s=12.0),
        window=tiny_window,
        net=tiny_net,
        fusors=("add", "gating"),
        base_rounds=1,
        sweep_rounds=1,
        rounds=2,
        sweep_max_batches=2,
        specific_functions=("transfer:vision->wireless",),
        strategies=("fedavg", "fedyogi"),
        threads=1,
    )
    events: list[ProgressEvent] = []
    out = run_evaluation(cfg, tmp_path_factory.mktemp("eval"), root, progress=events.append)
    out["_events"] = events
    return out


def test_every_part_of_the_comparison_is_there(results: dict[str, Any]) -> None:
    assert set(results["fusors"]) == {"add", "gating"}
    assert set(results["fusors"]["add"]["functions"]) == {f.name for f in DEFAULT_FUNCTIONS}
    assert set(results["specific"]) == {
        "transfer:vision->wireless",
        "merge:vision+sensory->wireless",
        "split:vision->wireless+sensory",
    }
    assert set(results["comparison"]) == {"merge", "split"}
    for c in results["comparison"].values():
        assert set(c) >= {"direct", "centralized", "utt", "ratio_wall", "ratio_critical"}
        assert c["centralized"]["bytes"] == c["direct"]["bytes"] > 0
        assert c["utt"]["bytes"] > 0
    assert set(results["strategies"]) == {"fedavg", "fedyogi"}
    assert results["mean_baseline_nmse"] == pytest.approx(1.0)
    assert set(results["base_twins"]) == {"vision", "wireless", "sensory"}
    stages = {e.stage for e in results["_events"]}
    assert {"base twin vision", "unified, add fusor", "centralized merge"} <= stages


def test_downstream_tasks_score_model_sensor_and_mean(results: dict[str, Any]) -> None:
    tasks = results["downstream"]
    assert set(tasks) == {
        "trajectory reconstruction",
        "positioning (range to the access point)",
        "inertial data generation",
    }
    pos = tasks["positioning (range to the access point)"]["transfer:vision->wireless"]
    assert set(pos) == {"model", "sensor", "mean"}
    assert pos["sensor"]["range_mae_m"] < pos["mean"]["range_mae_m"]
    traj = tasks["trajectory reconstruction"]["transfer:wireless->vision"]
    assert traj["sensor"]["position_m"] < traj["mean"]["position_m"]


def test_checks_cover_every_trained_model(results: dict[str, Any]) -> None:
    names = [c["name"] for c in results["checks"]]
    assert sum(n.startswith("beats predict-the-mean") for n in names) == 3 + 2 + 3 + 6 + 2
    assert any(n.startswith("federated training converges: merge with fedyogi") for n in names)
    assert results["passed"] == all(c["passed"] for c in results["checks"])


def test_report_json_and_plots(results: dict[str, Any], tmp_path: Path) -> None:
    clean = {k: v for k, v in results.items() if k != "_events"}
    path = write_json({**clean, "nan": math.nan}, tmp_path / "r.json")
    loaded = json.loads(path.read_text())
    assert loaded["nan"] is None and loaded["fusors"]["gating"]["rounds"] == 1
    md = markdown(clean)
    for heading in (
        "Test NMSE per fusor",
        "Unified vs function-specific",
        "Cost: direct",
        "Server strategies",
        "Downstream tasks",
        "Checks",
    ):
        assert f"## {heading}" in md
    assert "| transfer:vision->wireless |" in md
    pngs = write_plots(clean, tmp_path / "fig")
    assert {p.name for p in pngs} == {
        "nmse_per_fusor.png",
        "unified_vs_specific.png",
        "cost.png",
        "convergence.png",
        "downstream.png",
    }
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_time_to_target() -> None:
    h = History(
        rounds=[
            RoundRecord(0, math.nan, 1.0, 1.0, 0.5, 10, 20),
            RoundRecord(1, 0.5, 0.8, 2.0, 1.0, 10, 20),
            RoundRecord(2, 0.4, 0.6, 2.0, 1.0, 10, 20),
        ]
    )
    assert time_to_target(h, 0.7) == {
        "round": 2,
        "val_nmse": 0.6,
        "wall_s": 5.0,
        "critical_s": 2.5,
        "cpu_s": 0.0,
        "bytes": 90,
    }
    assert time_to_target(h, 0.5) is None


def test_presets() -> None:
    assert preset("quick") == QUICK and preset("full") == FULL
    assert preset("quick", seed=5).seed == 5
    assert FULL.specific_functions is None and FULL.net.window == 30
    with pytest.raises(ValueError):
        preset("medium")


def test_equal_nmse_times_both_runs_to_the_level_both_reached() -> None:
    from utt.baselines import CentralFit
    from utt.evaluation.runner import equal_nmse

    central = CentralFit({}, {}, [1.0, 0.5, 0.4], 3.0, 10, 2, [0.5, 1.5, 3.0])
    utt = History(
        rounds=[
            RoundRecord(0, math.nan, 1.0, 0.2, 0.1, 1, 1),
            RoundRecord(1, 0.5, 0.6, 1.0, 0.4, 1, 1),
            RoundRecord(2, 0.4, 0.45, 1.0, 0.4, 1, 1),
        ]
    )
    # UTT's best (0.45) is the worse of the two: centralized got there after epoch 2 (3.0 s),
    # UTT in round 2 (2.2 s, 0.9 s in parallel).
    out = equal_nmse(central, utt)
    assert out["equal_nmse"] == 0.45 and out["utt_round_to_equal"] == 2
    assert out["centralized_s_to_equal"] == 3.0
    assert out["ratio_wall"] == pytest.approx(2.2 / 3.0)
    assert out["ratio_critical"] == pytest.approx(0.9 / 3.0)
    assert not out["utt_matched_centralized"]
