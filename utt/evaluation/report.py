"""Evaluation results as JSON and Markdown tables."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["markdown", "write_json", "write_markdown"]


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(results: Mapping[str, Any], path: Path) -> Path:
    """Write ``results`` as indented JSON (NaN becomes null)."""
    path.write_text(json.dumps(_json_safe(results), indent=1, sort_keys=False) + "\n")
    return path


def _f(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f}"


def markdown(results: Mapping[str, Any]) -> str:
    """The results as a Markdown report."""
    cfg = results["config"]
    env = results["environment"]
    lines = [
        f"# UTT evaluation ({cfg['name']})",
        "",
        f"Wall time {results['wall_s']:.0f} s; torch {env['torch']}, {env['threads']} thread(s), "
        f"{env['cpus']} CPUs; seed {cfg['seed']}.",
        "",
        f"{results['nmse_definition']}",
        "",
        "## Data",
        "",
    ]
    lines += _table(
        ["area", "scene(s)", "train windows", "val windows", "test windows"],
        [
            [a["index"], a["name"], a["train"], a["val"], a["test"]]
            for a in results["data"]["areas"]
        ],
    )
    fusors = results["fusors"]
    names = list(next(iter(fusors.values()))["functions"])
    lines += ["## Test NMSE per fusor (unified models)", ""]
    rows = [[fn] + [fusors[fu]["functions"][fn] for fu in fusors] for fn in names]
    rows.append(["**all functions**"] + [fusors[fu]["test_nmse"] for fu in fusors])
    lines += _table(["function", *list(fusors)], rows)
    lines += ["## Unified vs function-specific (default fusor)", ""]
    uvs = results["unified_vs_specific"]
    lines += _table(
        ["function", "unified", "function-specific"],
        [[fn, v["unified"], v["specific"]] for fn, v in uvs.items()],
    )
    lines += ["## Cost: direct, centralized and UTT", ""]
    rows = []
    for op, c in results["comparison"].items():
        for kind in ("direct", "centralized", "utt"):
            r = c[kind]
            rows.append(
                [
                    op,
                    kind,
                    r["test_nmse"],
                    min(r["val_curve"]),
                    r["rounds"],
                    r["wall_s"],
                    r["critical_s"],
                    _mb(r["bytes"]),
                ]
            )
    lines += _table(
        [
            "function",
            "method",
            "test NMSE",
            "best val NMSE",
            "epochs/rounds",
            "wall s",
            "parallel s",
            "MB sent",
        ],
        rows,
    )
    for op, c in results["comparison"].items():
        matched = (
            "UTT matched the centralized validation NMSE"
            if c["utt_matched_centralized"]
            else f"UTT's best validation NMSE ({min(c['utt']['val_curve']):.3f}) stayed above "
            f"centralized's ({min(c['centralized']['val_curve']):.3f})"
        )
        lines.append(
            f"- {op}: to validation NMSE {c['equal_nmse']:.3f} (reached by both), UTT took "
            f"{c['utt_s_to_equal']:.1f} s (round {c['utt_round_to_equal']}; "
            f"{c['utt_parallel_s_to_equal']:.1f} s with clients in parallel) and centralized "
            f"{c['centralized_s_to_equal']:.1f} s: UTT/centralized {c['ratio_wall']:.2f}x "
            f"measured, {c['ratio_critical']:.2f}x with clients in parallel; {matched}."
        )
    lines += ["", "## Server strategies on the merge", ""]
    lines += _table(
        ["strategy", "test NMSE", "best val NMSE", "rounds", "converged", "val curve"],
        [
            [
                s,
                r["test_nmse"],
                min(r["val_curve"]),
                r["rounds"],
                r["converged"],
                " ".join(f"{v:.3f}" for v in r["val_curve"]),
            ]
            for s, r in results["strategies"].items()
        ],
    )
    lines += ["## Base twins (auto-encoders of each modality)", ""]
    lines += _table(
        ["modality", "test NMSE", "rounds", "params", "wall s"],
        [
            [m, r["test_nmse"], r["rounds"], r["params"], r["wall_s"]]
            for m, r in results["base_twins"].items()
        ],
    )
    if "downstream" in results:
        lines += ["## Downstream tasks against ground truth", ""]
        for task, per_fn in results["downstream"].items():
            lines += [f"### {task}", ""]
            metrics = [k for k in next(iter(per_fn.values()))["model"] if k != "frames"]
            rows = []
            for fn, scores in per_fn.items():
                for who in ("model", "sensor", "mean"):
                    label = {"model": fn, "sensor": "raw measurement", "mean": "training mean"}
                    rows.append([label[who]] + [scores[who][m] for m in metrics])
            # Sensor and mean rows repeat per function; keep one of each.
            seen: set[str] = set()
            unique = []
            for row in rows:
                if row[0] in seen:
                    continue
                seen.add(row[0])
                unique.append(row)
            lines += _table(["source", *metrics], unique)
    lines += ["## Checks", ""]
    for c in results["checks"]:
        mark = "pass" if c["passed"] else "**FAIL**"
        lines.append(f"- {mark}: {c['name']} ({c['detail']})")
    lines.append("")
    return "\n".join(lines)


def write_markdown(results: Mapping[str, Any], path: Path) -> Path:
    """Write :func:`markdown` to ``path``."""
    path.write_text(markdown(results))
    return path
