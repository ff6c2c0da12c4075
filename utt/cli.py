"""Command-line entry points of ``utt``: ``ndtwin utt eval`` and ``python -m utt eval``.

The main ``ndtwin`` CLI wires these in with :func:`register`; ``python -m utt`` uses
:func:`main` directly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["main", "register", "run_eval"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``utt`` command (with its ``eval`` subcommand) to ``subparsers``."""
    utt = subparsers.add_parser("utt", help="unified twin transformation: evaluation")
    sub = utt.add_subparsers(dest="utt_command", required=True)
    ev = sub.add_parser("eval", help="train and score every UTT model; write JSON, Markdown, PNG")
    ev.add_argument("--quick", action="store_true", help="small CI-sized run (minutes)")
    ev.add_argument("--out", type=Path, required=True, help="output folder")
    ev.add_argument(
        "--data",
        type=Path,
        default=None,
        help="dataset root in the Vi-Fi/ViTag dfv4p4 layout (default: generate synthetic data)",
    )
    ev.add_argument("--areas", type=int, default=None, help="number of local areas")
    ev.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    ev.add_argument("--threads", default=None, help="torch threads, or auto (default)")
    ev.set_defaults(func=run_eval)
    return utt


def run_eval(args: argparse.Namespace) -> int:
    """Run the evaluation described by ``args``; 0 when every check passed, else 1."""
    from utt.evaluation.config import preset
    from utt.evaluation.plots import write_plots
    from utt.evaluation.report import write_json, write_markdown
    from utt.evaluation.runner import run_evaluation
    from utt.progress import ProgressPrinter

    overrides: dict[str, Any] = {}
    if args.areas is not None:
        overrides["areas"] = args.areas
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.threads is not None:
        overrides["threads"] = args.threads if args.threads == "auto" else int(args.threads)
    cfg = preset("quick" if args.quick else "full", **overrides)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = run_evaluation(cfg, out, args.data, progress=ProgressPrinter())
    write_json(results, out / "results.json")
    write_markdown(results, out / "results.md")
    write_plots(results, out / "figures")
    failed = [c for c in results["checks"] if not c["passed"]]
    print(
        f"utt eval ({cfg.name}): {len(results['checks']) - len(failed)}/{len(results['checks'])} "
        f"checks passed in {results['wall_s']:.0f} s; results in {out}",
        file=sys.stderr,
    )
    for c in failed:
        print(f"  FAILED {c['name']}: {c['detail']}", file=sys.stderr)
    return 0 if not failed else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m utt ...``."""
    parser = argparse.ArgumentParser(prog="python -m utt")
    sub = parser.add_subparsers(dest="command", required=True)
    utt = register(sub)
    # ``python -m utt eval`` reads better than ``python -m utt utt eval``: accept both.
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] != "utt" and argv[0] not in ("-h", "--help"):
        argv = ["utt", *argv]
    del utt
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
