"""PNG figures of an evaluation, in the spirit of the UTT paper's plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["write_plots"]


def _short(fn: str) -> str:
    kind, _, body = fn.partition(":")
    abbrev = {"vision": "V", "wireless": "W", "sensory": "S"}
    for k, v in abbrev.items():
        body = body.replace(k, v)
    return f"{kind[0].upper()} {body}"


def _bars(ax: Any, groups: list[str], series: Mapping[str, list[float]]) -> None:
    n = len(series)
    width = 0.8 / max(n, 1)
    x = np.arange(len(groups))
    for i, (label, values) in enumerate(series.items()):
        ax.bar(x + (i - (n - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(x, groups, rotation=30, ha="right")


def write_plots(results: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write the figures into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []

    fusors = results["fusors"]
    fns = list(next(iter(fusors.values()))["functions"])
    fig, ax = plt.subplots(figsize=(11, 5))
    _bars(
        ax,
        [_short(f) for f in fns],
        {fu: [fusors[fu]["functions"][f] for f in fns] for fu in fusors},
    )
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="predict the mean")
    ax.set_ylabel("test NMSE")
    ax.set_title("Test NMSE per fusor (unified models)")
    ax.legend(ncol=9, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.tight_layout()
    paths.append(out_dir / "nmse_per_fusor.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    uvs = results["unified_vs_specific"]
    fig, ax = plt.subplots(figsize=(9, 4))
    _bars(
        ax,
        [_short(f) for f in uvs],
        {
            "unified": [v["unified"] for v in uvs.values()],
            "function-specific": [v["specific"] for v in uvs.values()],
        },
    )
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_ylabel("test NMSE")
    ax.set_title("Unified vs function-specific models")
    ax.legend()
    fig.tight_layout()
    paths.append(out_dir / "unified_vs_specific.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    comp = results["comparison"]
    methods = ("direct", "centralized", "utt")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, key, label in zip(
        axes,
        ("wall_s", "bytes", "test_nmse"),
        ("wall time (s)", "bytes sent", "test NMSE"),
        strict=True,
    ):
        _bars(ax, list(comp), {m: [comp[op][m][key] for op in comp] for m in methods})
        ax.set_title(label)
        if key == "bytes":
            ax.set_yscale("log")
    axes[0].legend()
    fig.tight_layout()
    paths.append(out_dir / "cost.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for s, r in results["strategies"].items():
        ax.plot(range(len(r["val_curve"])), r["val_curve"], marker="o", label=s)
    for op, c in comp.items():
        ax.plot(
            range(len(c["centralized"]["val_curve"])),
            c["centralized"]["val_curve"],
            ls=":",
            label=f"centralized {op} (per epoch)",
        )
    ax.set_xlabel("round")
    ax.set_ylabel("validation NMSE")
    ax.set_title("Federated convergence on the merge")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "convergence.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    if "downstream" in results:
        tasks = results["downstream"]
        fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4))
        axes = np.atleast_1d(axes)
        for ax, (task, per_fn) in zip(axes, tasks.items(), strict=True):
            metric = {"vision": "position_m", "wireless": "range_mae_m"}.get(
                "vision" if "trajectory" in task else "wireless" if "position" in task else "",
                "mag_rmse",
            )
            labels = [_short(f) for f in per_fn] + ["raw sensor", "mean"]
            first = next(iter(per_fn.values()))
            values = [s["model"][metric] for s in per_fn.values()] + [
                first["sensor"][metric],
                first["mean"][metric],
            ]
            ax.bar(range(len(values)), values, color=["C0"] * len(per_fn) + ["C2", "C7"])
            ax.set_xticks(range(len(values)), labels, rotation=30, ha="right")
            ax.set_title(f"{task}\n({metric})", fontsize=9)
        fig.tight_layout()
        paths.append(out_dir / "downstream.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths
