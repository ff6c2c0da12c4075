"""The two baselines UTT is compared with, trained on pooled raw data.

* **Centralized**: every local area sends its raw windows to the server, which trains the
  same fused network as UTT from scratch.
* **Direct mapping**: each new twin is learned from scratch from one source modality, with
  no fusion and no reuse of existing twins: one model per (source, target) pair. A split
  therefore trains two models; a merge trains one per source and keeps the one that
  validates best (both count towards its time).

Both count as communication the raw windows every area uploads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from utt.data.splits import AreaData
from utt.data.windows import EncodedWindows, Normalizer, WindowSet
from utt.federated.client import ModelSpec
from utt.functions import Function, transfer
from utt.metrics import total
from utt.nets.config import NetConfig
from utt.progress import CancelToken, ProgressCallback, ProgressEvent
from utt.training import TrainConfig, evaluate, train

__all__ = ["CentralFit", "direct_specs", "fit_centralized", "fit_direct", "upload_bytes"]


def upload_bytes(areas: Sequence[AreaData]) -> int:
    """Bytes of raw windows all areas send to a central server (train, val and test)."""
    return sum(a.train.nbytes + a.val.nbytes + a.test.nbytes for a in areas)


@dataclass
class CentralFit:
    """Models trained on pooled data, keyed by a name (``model`` or the target)."""

    specs: dict[str, ModelSpec]
    states: dict[str, dict[str, torch.Tensor]]
    val_curve: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    bytes: int = 0
    best_epoch: int = 0
    elapsed_s: list[float] = field(default_factory=list)
    #: CPU seconds of this process from the start to each evaluation (see RoundRecord).
    elapsed_cpu_s: list[float] = field(default_factory=list)

    def time_to(self, target: float) -> float | None:
        """Seconds from the start until validation NMSE first reached ``target``."""
        return _first_reaching(self.val_curve, self.elapsed_s, target)

    def cpu_to(self, target: float) -> float | None:
        """CPU seconds from the start until validation NMSE first reached ``target``."""
        if not self.elapsed_cpu_s:
            return None  # a fit that does not record CPU time (fit_direct)
        return _first_reaching(self.val_curve, self.elapsed_cpu_s, target)


def _first_reaching(curve: Sequence[float], times: Sequence[float], target: float) -> float | None:
    """The time of the first evaluation at or below ``target``."""
    for value, t in zip(curve, times, strict=True):
        if value <= target:
            return t
    return None


@dataclass
class _Pooled:
    train: EncodedWindows
    val: EncodedWindows


def _pool(areas: Sequence[AreaData], normalizer: Normalizer) -> _Pooled:
    return _Pooled(
        normalizer.encode(WindowSet.concat([a.train for a in areas])),
        normalizer.encode(WindowSet.concat([a.val for a in areas])),
    )


def _train_one(
    spec: ModelSpec,
    pooled: _Pooled,
    epochs: int,
    cfg: TrainConfig,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    stage: str,
    seed: int,
    started: float,
    cpu_started: float,
) -> tuple[dict[str, torch.Tensor], list[float], int, list[float], list[float]]:
    """Best state, validation curve, best epoch, and wall and CPU seconds at each evaluation
    (from ``started`` and ``cpu_started``)."""
    torch.manual_seed(seed)
    model = spec.build()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    curve = [total(evaluate(model, pooled.val, spec.functions)).nmse]
    elapsed = [time.perf_counter() - started]
    cpu = [time.process_time() - cpu_started]
    best, best_epoch = {k: v.clone() for k, v in model.state_dict().items()}, 0
    for epoch in range(1, epochs + 1):
        step = TrainConfig(1, cfg.batch_size, cfg.lr, cfg.clip, cfg.seed + 1000 * epoch)
        train(model, pooled.train, step, optimizer=opt, cancel=cancel)
        curve.append(total(evaluate(model, pooled.val, spec.functions)).nmse)
        elapsed.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        # Keep the epoch that validated best, as the federated runs keep their best round.
        if curve[-1] < curve[best_epoch]:
            best, best_epoch = {k: v.clone() for k, v in model.state_dict().items()}, epoch
        if progress is not None:
            progress(ProgressEvent(stage, epoch, epochs, f"val NMSE {curve[-1]:.4f}"))
    return best, curve, best_epoch, elapsed, cpu


def fit_centralized(
    areas: Sequence[AreaData],
    spec: ModelSpec,
    normalizer: Normalizer,
    epochs: int,
    cfg: TrainConfig,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    stage: str = "centralized",
) -> CentralFit:
    """Train ``spec`` from scratch on all areas' windows pooled at the server."""
    started, cpu_started = time.perf_counter(), time.process_time()
    pooled = _pool(areas, normalizer)
    state, curve, best, elapsed, cpu = _train_one(
        spec, pooled, epochs, cfg, progress, cancel, stage, cfg.seed, started, cpu_started
    )
    return CentralFit(
        {"model": spec},
        {"model": state},
        curve,
        time.perf_counter() - started,
        upload_bytes(areas),
        best,
        elapsed,
        cpu,
    )


def direct_specs(function: Function, net: NetConfig) -> dict[str, ModelSpec]:
    """One fusion-free single-source model per (source, target) pair of ``function``.

    Keys are ``"<source>-><target>"``.
    """
    return {
        f"{s}->{t}": ModelSpec(net, (transfer(s, t),), None)
        for s in function.sources
        for t in function.targets
    }


def fit_direct(
    areas: Sequence[AreaData],
    function: Function,
    net: NetConfig,
    normalizer: Normalizer,
    epochs: int,
    cfg: TrainConfig,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    stage: str = "direct",
) -> CentralFit:
    """Train the direct-mapping models of ``function`` on pooled windows."""
    started, cpu_started = time.perf_counter(), time.process_time()
    pooled = _pool(areas, normalizer)
    specs = direct_specs(function, net)
    states, curves = {}, {}
    for i, (key, spec) in enumerate(specs.items()):
        stage_i, seed_i = f"{stage} {key}", cfg.seed + i
        states[key], curves[key], *_ = _train_one(
            spec, pooled, epochs, cfg, progress, cancel, stage_i, seed_i, started, cpu_started
        )
    # Per target, keep the source whose model validated best.
    keep = {}
    for t in function.targets:
        options = [k for k in specs if k.endswith(f"->{t}")]
        keep[t] = min(options, key=lambda k: min(curves[k]))
    kept = list(keep.values())
    # One curve for the function: the mean over its targets, epoch by epoch.
    mean_curve = [sum(curves[k][e] for k in kept) / len(kept) for e in range(epochs + 1)]
    return CentralFit(
        {k: specs[k] for k in kept},
        {k: states[k] for k in kept},
        mean_curve,
        time.perf_counter() - started,
        upload_bytes(areas),
        int(min(range(len(mean_curve)), key=mean_curve.__getitem__)),
    )
