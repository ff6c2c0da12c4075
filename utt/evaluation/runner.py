"""The evaluation: every model the paper compares, trained and scored in one run.

Steps, each with a progress bar:

1. data: generate the synthetic local areas (or read a dataset in the dfv4p4 layout);
2. base twins: one federated auto-encoder per modality, the existing twins UTT reuses;
3. fusor sweep: one unified model (all six transfers, the merge and the split) per fusor;
4. function-specific models with the default fusor (the merge and the split always);
5. baselines for the merge and the split: centralized and direct mapping, with the same
   number of passes over the data; UTT's time to reach the centralized validation NMSE is
   read off its function-specific run (time to equal NMSE);
6. server strategies compared on the merge;
7. downstream tasks against ground truth (synthetic data only), with the unified model.

All test NMSEs are computed on the pooled test windows of every area with the global
normalization, so numbers compare across models (NMSE 1 = predicting the training mean).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from utt.baselines import CentralFit, fit_centralized, fit_direct
from utt.data.generator import generate
from utt.data.splits import AreaData, build_areas
from utt.data.windows import EncodedWindows, Normalizer, WindowSet
from utt.evaluation.config import EvalConfig
from utt.evaluation.downstream import score
from utt.federated.client import AreaClient, ModelSpec
from utt.federated.fit import federated_normalizer, fit_federated, reuse_start
from utt.federated.strategies import make_strategy
from utt.federated.strategy import History
from utt.federated.transport import InProcessTransport
from utt.functions import DEFAULT_FUNCTIONS, MERGE, SPLIT, Function
from utt.metrics import ErrorSums, total
from utt.modalities import MODALITY_NAMES, modality
from utt.nets.model import TwinNet, warm_start
from utt.progress import CancelToken, ProgressCallback, ProgressEvent
from utt.reuse import full_state, uses_frozen_encoders
from utt.runtime import configure
from utt.training import TrainConfig, evaluate, mean_predictor, predict

__all__ = ["NMSE_DEFINITION", "equal_nmse", "run_evaluation", "time_to_target"]

NMSE_DEFINITION = (
    "NMSE = sum of squared errors / sum of squared targets over all seen frames and "
    "features, in normalized units (each feature z-scored with the training mean and "
    "standard deviation), so predicting the training mean scores exactly 1."
)


@dataclass
class _FedRun:
    spec: ModelSpec
    history: History
    wall_s: float
    test: dict[str, ErrorSums]
    state: dict[str, torch.Tensor]  # the whole best model, frozen encoders included
    frozen: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        h = self.history
        return {
            "test_nmse": total(self.test).nmse,
            "val_curve": h.val_curve,
            "best_round": h.best_round,
            "rounds": len(h.rounds) - 1,
            "stopped_early": h.stopped_early,
            "wall_s": self.wall_s,
            "critical_s": h.critical_s,
            "bytes": h.bytes_total,
            "params": sum(v.numel() for v in self.state.values()),
            "frozen_encoders": list(self.frozen),
            "setup_s": h.rounds[0].seconds if h.rounds else 0.0,
        }


class _Context:
    def __init__(
        self,
        cfg: EvalConfig,
        areas: Sequence[AreaData],
        normalizer: Normalizer,
        test: EncodedWindows,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        self.cfg, self.areas, self.normalizer, self.test = cfg, areas, normalizer, test
        self.progress, self.cancel = progress, cancel
        self.train_cfg = TrainConfig(cfg.local_epochs, cfg.batch_size, cfg.lr, seed=cfg.seed)

    def model(self, spec: ModelSpec, warm: Mapping[str, torch.Tensor] | None) -> TwinNet:
        torch.manual_seed(self.cfg.seed)
        model = spec.build()
        if warm is not None:
            warm_start(model, warm)
        return model

    def federated(
        self,
        spec: ModelSpec,
        rounds: int,
        stage: str,
        warm: Mapping[str, torch.Tensor] | None = None,
        strategy: str = "fedavg",
        stop_at: float | None = None,
        max_batches: int | None = None,
        reuse: bool = False,
    ) -> _FedRun:
        """One federated run. With ``reuse``, where the config's reuse mode freezes encoders
        for the functions, the sources' encoders (from ``warm``) are frozen and the run uses
        the config's reuse settings (:mod:`utt.reuse`)."""
        model = self.model(spec, warm)
        options = {} if strategy == "fedavg" else {"eta": self.cfg.adaptive_eta}
        fit_config: dict[str, Any] = {
            "epochs": self.cfg.local_epochs,
            "lr": self.cfg.lr,
            "batch_size": self.cfg.batch_size,
        }
        if max_batches is not None:
            fit_config["max_batches"] = max_batches
        frozen: tuple[str, ...] = ()
        drift = False
        if (
            reuse
            and warm is not None
            and all(uses_frozen_encoders(f, self.cfg.reuse) for f in spec.functions)
        ):
            frozen = model.sources
            drift = self.cfg.drift_correction
            fit_config["lr_decay"] = self.cfg.lr_decay
            fit_config["keep_optimizer"] = self.cfg.keep_optimizer
        strat = make_strategy(strategy, fit_config, **options)
        clients = [
            AreaClient(a, spec, None, self.train_cfg, None, frozen, drift) for a in self.areas
        ]
        with InProcessTransport(clients) as transport:
            federated_normalizer(transport)
            start, setup = reuse_start(model, frozen, drift)
            fit = fit_federated(
                transport,
                strat,
                start,
                rounds,
                stop_at=stop_at,
                progress=self.progress,
                cancel=self.cancel,
                stage=stage,
                setup=setup,
            )
        state = full_state(model, fit.state)  # already a copy: loading leaves it apart
        model.load_state_dict(state)
        test = evaluate(model, self.test, spec.functions)
        return _FedRun(spec, fit.history, fit.wall_s, test, state, frozen)

    def test_sums(self, spec: ModelSpec, state: Mapping[str, torch.Tensor]) -> dict[str, ErrorSums]:
        model = spec.build()
        model.load_state_dict(state)
        return evaluate(model, self.test, spec.functions)


def _per_function(sums: Mapping[str, ErrorSums], functions: Sequence[Function]) -> dict[str, float]:
    return {f.name: total(sums, f.name + "|").nmse for f in functions}


def _central_summary(fit: CentralFit, ctx: _Context) -> dict[str, Any]:
    sums: dict[str, ErrorSums] = {}
    params = 0
    for key, spec in fit.specs.items():
        sums.update(ctx.test_sums(spec, fit.states[key]))
        params += sum(v.numel() for v in fit.states[key].values())
    return {
        "test_nmse": total(sums).nmse,
        "val_curve": fit.val_curve,
        "best_round": fit.best_epoch,
        "rounds": len(fit.val_curve) - 1,
        "wall_s": fit.wall_s,
        "critical_s": fit.wall_s,
        "bytes": fit.bytes,
        "params": params,
        "models": len(fit.specs),
    }


def time_to_target(history: History, target: float) -> dict[str, Any] | None:
    """Wall time, parallel time and bytes until validation NMSE first reached ``target``."""
    for i, r in enumerate(history.rounds):
        if r.val_nmse <= target:
            done = history.rounds[: i + 1]
            return {
                "round": r.round,
                "val_nmse": r.val_nmse,
                "wall_s": sum(x.seconds for x in done),
                "cpu_s": sum(x.cpu_s for x in done),
                "critical_s": sum(x.critical_s for x in done),
                "bytes": sum(x.bytes_down + x.bytes_up for x in done),
            }
    return None


def equal_nmse(central: CentralFit, utt: History) -> dict[str, Any]:
    """Times of UTT and centralized training to the same validation NMSE.

    The common target is the worse of the two best validation NMSEs, the level both runs
    reached; each time runs from the start of its run to the first evaluation at or below
    it. ``utt_matched_centralized`` says whether UTT got as low as centralized did.
    """
    target = max(min(central.val_curve), min(utt.val_curve))
    t_central = central.time_to(target)
    c_central = central.cpu_to(target)
    hit = time_to_target(utt, target)
    assert t_central is not None and hit is not None  # both reach the worse best value
    return {
        "equal_nmse": target,
        "centralized_s_to_equal": t_central,
        "utt_s_to_equal": hit["wall_s"],
        "utt_parallel_s_to_equal": hit["critical_s"],
        "utt_round_to_equal": hit["round"],
        "utt_matched_centralized": min(utt.val_curve) <= min(central.val_curve),
        "ratio_wall": hit["wall_s"] / t_central,
        "ratio_critical": hit["critical_s"] / t_central,
        # Load-independent check (in-process runs, one torch thread): CPU seconds.
        "ratio_cpu": (hit["cpu_s"] / c_central if c_central and hit["cpu_s"] > 0 else float("nan")),
    }


def _downstream(ctx: _Context, run: _FedRun, test_raw: WindowSet) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    model = run.spec.build()
    model.load_state_dict(run.state)
    for fn_name, outputs in predict(model, ctx.test).items():
        for t, z in outputs.items():
            if t not in test_raw.truth:
                continue
            pred = ctx.normalizer.decode(t, z.numpy())
            task = modality(t).task
            out.setdefault(task, {})[fn_name] = score(
                t, pred, test_raw.truth[t], test_raw.data[t], ctx.normalizer.mean[t]
            )
    return out


def _converged(curve: Sequence[float]) -> bool:
    """Improved on the starting model and did not drift off its best by more than 10 %."""
    best = min(curve[1:]) if len(curve) > 1 else float("inf")
    return best < curve[0] and curve[-1] <= 1.1 * best


def _checks(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks = []

    def beat(name: str, nmse: float) -> None:
        checks.append(
            {
                "name": f"beats predict-the-mean: {name}",
                "passed": bool(nmse < results["mean_baseline_nmse"]),
                "detail": f"test NMSE {nmse:.4f} vs mean {results['mean_baseline_nmse']:.4f}",
            }
        )

    def conv(name: str, curve: Sequence[float]) -> None:
        checks.append(
            {
                "name": f"federated training converges: {name}",
                "passed": _converged(curve),
                "detail": "val NMSE " + " -> ".join(f"{v:.3f}" for v in curve),
            }
        )

    for m, r in results["base_twins"].items():
        beat(f"base twin {m}", r["test_nmse"])
        conv(f"base twin {m}", r["val_curve"])
    for fu, r in results["fusors"].items():
        beat(f"unified model, {fu} fusor", r["test_nmse"])
        conv(f"unified model, {fu} fusor", r["val_curve"])
    for fn, r in results["specific"].items():
        beat(f"function-specific {fn}", r["test_nmse"])
        conv(f"function-specific {fn}", r["val_curve"])
    for op, cmp in results["comparison"].items():
        for kind in ("centralized", "direct", "utt"):
            beat(f"{op} {kind}", cmp[kind]["test_nmse"])
    for s, r in results["strategies"].items():
        beat(f"merge with {s}", r["test_nmse"])
        conv(f"merge with {s}", r["val_curve"])
    return checks


def run_evaluation(
    cfg: EvalConfig,
    out_dir: Path,
    data: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Run the evaluation ``cfg`` and return its results (see :mod:`utt.evaluation.report`)."""
    started = time.perf_counter()
    threads = configure(cfg.threads, cfg.seed)
    out_dir = Path(out_dir)
    generated = data is None
    if data is None:
        data = out_dir / "data"
        generate(data, cfg.generator, progress)
    areas = build_areas(data, MODALITY_NAMES, cfg.window, cfg.areas)
    normalizer = Normalizer.from_moments(a.moments() for a in areas)
    test_raw = WindowSet.concat([a.test for a in areas])
    ctx = _Context(cfg, areas, normalizer, normalizer.encode(test_raw), progress, cancel)
    net, fusor = cfg.net, cfg.default_fusor
    results: dict[str, Any] = {
        "config": cfg.to_dict(),
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": threads,
            "cpus": os.cpu_count(),
        },
        "data": {
            "root": str(data),
            "generated": generated,
            "areas": [
                {
                    "index": a.index,
                    "name": a.name,
                    "train": len(a.train),
                    "val": len(a.val),
                    "test": len(a.test),
                }
                for a in areas
            ],
        },
        "nmse_definition": NMSE_DEFINITION,
    }
    mean_sums = evaluate(mean_predictor(DEFAULT_FUNCTIONS), ctx.test, DEFAULT_FUNCTIONS)
    results["mean_baseline_nmse"] = total(mean_sums).nmse

    base: dict[str, _FedRun] = {}
    for m in MODALITY_NAMES:
        spec = ModelSpec(net, (Function("identity", (m,), (m,)),), None)
        base[m] = ctx.federated(spec, cfg.base_rounds, f"base twin {m}")
    warm = {k: v for run in base.values() for k, v in run.state.items()}
    results["base_twins"] = {m: r.summary() for m, r in base.items()}

    sweep = {}
    unified_runs = {}
    for fu in cfg.fusors:
        spec = ModelSpec(net, DEFAULT_FUNCTIONS, fu)
        run = ctx.federated(
            spec, cfg.sweep_rounds, f"unified, {fu} fusor", warm, max_batches=cfg.sweep_max_batches
        )
        unified_runs[fu] = run
        sweep[fu] = {**run.summary(), "functions": _per_function(run.test, DEFAULT_FUNCTIONS)}
    results["fusors"] = sweep

    wanted = cfg.specific_functions
    chosen = [
        f for f in DEFAULT_FUNCTIONS if wanted is None or f.name in wanted or f in (MERGE, SPLIT)
    ]
    specific: dict[str, _FedRun] = {}
    for f in chosen:
        spec = ModelSpec(net, (f,), fusor)
        specific[f.name] = ctx.federated(spec, cfg.rounds, f"specific {f.name}", warm, reuse=True)
    results["specific"] = {
        name: {
            **r.summary(),
            "targets": {k.split("|")[1]: v.nmse for k, v in r.test.items()},
        }
        for name, r in specific.items()
    }
    if fusor not in sweep:
        raise ValueError(f"default fusor {fusor!r} is not among the fusors evaluated")
    unified = sweep[fusor]
    results["unified_vs_specific"] = {
        f.name: {
            "unified": unified["functions"][f.name],
            "specific": results["specific"][f.name]["test_nmse"],
        }
        for f in chosen
    }

    epochs = cfg.rounds * cfg.local_epochs
    train_cfg = TrainConfig(1, cfg.batch_size, cfg.lr, seed=cfg.seed)
    comparison = {}
    for op, f in (("merge", MERGE), ("split", SPLIT)):
        spec = ModelSpec(net, (f,), fusor)
        central = fit_centralized(
            areas,
            spec,
            normalizer,
            epochs,
            train_cfg,
            progress=progress,
            cancel=cancel,
            stage=f"centralized {op}",
        )
        direct = fit_direct(
            areas,
            f,
            net,
            normalizer,
            epochs,
            train_cfg,
            progress=progress,
            cancel=cancel,
            stage=f"direct {op}",
        )
        utt = specific[f.name]
        comparison[op] = {
            "function": f.name,
            "centralized": _central_summary(central, ctx),
            "direct": _central_summary(direct, ctx),
            "utt": utt.summary(),
            **equal_nmse(central, utt.history),
        }
    results["comparison"] = comparison

    strategies = {}
    merge_spec = ModelSpec(net, (MERGE,), fusor)
    for s in cfg.strategies:
        run = (
            specific[MERGE.name]
            if s == "fedavg"
            else ctx.federated(
                merge_spec, cfg.rounds, f"merge with {s}", warm, strategy=s, reuse=True
            )
        )
        strategies[s] = run.summary()
        strategies[s]["converged"] = _converged(run.history.val_curve)
    results["strategies"] = strategies

    if test_raw.truth:
        results["downstream"] = _downstream(ctx, unified_runs[fusor], test_raw)
    results["checks"] = _checks(results)
    results["passed"] = all(c["passed"] for c in results["checks"])
    results["wall_s"] = time.perf_counter() - started
    if progress is not None:
        progress(ProgressEvent("evaluation", 1, 1, f"{results['wall_s']:.0f}s"))
    return results
