"""Operations on task twins: create, transfer, merge and split. The public entry points.

Each operation takes existing twins (:class:`TwinRef`: a modality and, when the twin has
one, its model artifact), the dataset root of the local areas' streams, and an output
folder; it trains the new twin(s) by federated learning across the local areas (raw data
never leaves an area), and returns an :class:`OperationResult` with each new twin's artifact
path, SHA-256 and metrics, and the source twins for provenance. Encoders and decoders of
the source twins' models are reused as the starting point (UTT builds new twins from
existing ones rather than from scratch); a merge by default keeps the source encoders
frozen and trains only the fusor, queries and decoder (``OperationConfig.reuse``).

Long runs report through ``progress`` and stop at the next step once ``cancel`` is
cancelled (raising :class:`~utt.progress.OperationCancelled`). Nothing here knows about
REST or gRPC; a service wraps these calls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from utt.artifacts import load_model, save_model, submodel_state
from utt.data.loader import area_dirs
from utt.data.splits import WindowConfig, build_areas
from utt.data.windows import WindowSet
from utt.federated.client import AreaClient, AreaClientFactory, ModelSpec
from utt.federated.fit import federated_normalizer, fit_federated, reuse_start
from utt.federated.strategies import make_strategy
from utt.federated.transport import GlooTransport, InProcessTransport, Transport
from utt.functions import Function
from utt.functions import merge as merge_fn
from utt.functions import split as split_fn
from utt.functions import transfer as transfer_fn
from utt.metrics import total
from utt.modalities import MODALITY_NAMES, modality
from utt.nets.config import NetConfig
from utt.nets.model import warm_start
from utt.progress import CancelToken, ProgressCallback
from utt.reuse import ReuseMode, full_state, uses_frozen_encoders
from utt.runtime import configure
from utt.training import TrainConfig
from utt.training import predict as predict_outputs

__all__ = [
    "NewTwin",
    "OperationConfig",
    "OperationResult",
    "TwinRef",
    "create_twin",
    "merge",
    "predict",
    "split",
    "transfer",
]

TransportKind = Literal["inproc", "gloo"]


@dataclass(frozen=True)
class TwinRef:
    """An existing task twin as an operation sees it.

    Attributes:
        modality: the modality the twin mirrors (``vision``, ``wireless``, ``sensory``).
        model: the twin's model artifact, if it has one; its encoder (as a source) or
            decoder (as a target) seeds the new twin.
        twin_id: the caller's identifier, echoed back for provenance.
    """

    modality: str
    model: Path | None = None
    twin_id: str | None = None

    def __post_init__(self) -> None:
        modality(self.modality)  # raises on an unknown modality


@dataclass(frozen=True)
class OperationConfig:
    """How an operation trains; the defaults suit a full run on two cores.

    ``reuse`` says what happens to the encoders of source twins that come with a model:
    ``"frozen"`` keeps them as they are, each area encodes its windows once and rounds
    train and send only the fusor, queries and decoders (:mod:`utt.reuse`), with
    ``drift_correction`` (SCAFFOLD controls), ``lr_decay`` (local learning-rate factor per
    round) and ``keep_optimizer`` (each area keeps its Adam state between rounds);
    ``"finetune"`` trains the whole warm-started network by plain FedAvg as before;
    ``"auto"`` is frozen for merges and fine-tuning otherwise (see
    :data:`utt.reuse.REUSE_MODES`). ``target_nmse`` ends the run at the first round whose
    validation NMSE reaches it.
    """

    areas: int | None = None
    window: WindowConfig = field(default_factory=WindowConfig)
    net: NetConfig = field(default_factory=NetConfig)
    fusor: str = "gating"
    strategy: str = "fedavg"
    strategy_options: Mapping[str, float] = field(default_factory=dict)
    rounds: int = 10
    local_epochs: int = 1
    lr: float = 2e-3
    batch_size: int = 32
    transport: TransportKind = "inproc"
    seed: int = 0
    threads: int | str = "auto"
    reuse: ReuseMode = "auto"
    drift_correction: bool = False
    lr_decay: float = 0.9
    keep_optimizer: bool = True
    target_nmse: float | None = None


@dataclass(frozen=True)
class NewTwin:
    """A twin an operation created: its model artifact and how well it does."""

    modality: str
    twin: str
    artifact: Path
    sha256: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class OperationResult:
    """What an operation produced, with provenance (``sources``) and run metrics."""

    operation: str
    function: str
    twins: tuple[NewTwin, ...]
    sources: tuple[TwinRef, ...]
    metrics: dict[str, Any]


def _as_ref(t: str | TwinRef) -> TwinRef:
    return t if isinstance(t, TwinRef) else TwinRef(t)


def _open_transport(
    data: Path, spec: ModelSpec, cfg: OperationConfig, frozen: tuple[str, ...], drift: bool
) -> Transport:
    used = {m for f in spec.functions for m in (*f.sources, *f.targets)}
    modalities = tuple(m for m in MODALITY_NAMES if m in used)
    train_cfg = TrainConfig(cfg.local_epochs, cfg.batch_size, cfg.lr, seed=cfg.seed)
    if cfg.transport == "gloo":
        factory = AreaClientFactory(
            data, spec, None, cfg.window, train_cfg, cfg.areas, None, frozen, drift
        )
        return GlooTransport(factory, len(area_dirs(data, cfg.areas)))
    if cfg.transport != "inproc":
        raise ValueError(f"unknown transport {cfg.transport!r}; expected inproc or gloo")
    areas = build_areas(data, modalities, cfg.window, cfg.areas)
    clients = [AreaClient(a, spec, None, train_cfg, None, frozen, drift) for a in areas]
    return InProcessTransport(clients)


def _run(
    operation: str,
    function: Function,
    sources: Sequence[TwinRef],
    targets: Sequence[TwinRef],
    data: Path,
    out_dir: Path,
    config: OperationConfig | None,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> OperationResult:
    cfg = config or OperationConfig()
    threads_before = torch.get_num_threads()
    try:
        configure(cfg.threads, cfg.seed)
        return _train_and_save(
            operation, function, sources, targets, data, out_dir, cfg, progress, cancel
        )
    finally:
        # The caller may be a long-lived service: leave its thread setting as it was.
        torch.set_num_threads(threads_before)


def _train_and_save(
    operation: str,
    function: Function,
    sources: Sequence[TwinRef],
    targets: Sequence[TwinRef],
    data: Path,
    out_dir: Path,
    cfg: OperationConfig,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> OperationResult:
    spec = ModelSpec(cfg.net, (function,), None if function.kind == "identity" else cfg.fusor)
    started = time.perf_counter()
    model = spec.build()
    reused: list[str] = []
    for ref in (*sources, *targets):
        if ref.model is not None:
            reused += warm_start(model, load_model(ref.model).model.state_dict())
    # Only encoders that come from an existing twin are frozen; one without a model trains,
    # and with none to freeze the run is a plain fine-tune (and says so in its metrics).
    frozen = (
        tuple(s.modality for s in sources if s.model is not None)
        if uses_frozen_encoders(function, cfg.reuse)
        else ()
    )
    use_frozen = bool(frozen)
    drift = use_frozen and cfg.drift_correction
    fit_config: dict[str, Any] = {
        "epochs": cfg.local_epochs,
        "lr": cfg.lr,
        "batch_size": cfg.batch_size,
    }
    if use_frozen:
        fit_config.update(lr_decay=cfg.lr_decay, keep_optimizer=cfg.keep_optimizer)
    strategy = make_strategy(cfg.strategy, fit_config, **dict(cfg.strategy_options))
    with _open_transport(Path(data), spec, cfg, frozen, drift) as transport:
        normalizer = federated_normalizer(transport)
        start, setup = reuse_start(model, frozen, drift)
        fit = fit_federated(
            transport,
            strategy,
            start,
            cfg.rounds,
            stop_at=cfg.target_nmse,
            progress=progress,
            cancel=cancel,
            stage=operation,
            setup=setup,
        )
        test = strategy.evaluate(transport, fit.state, "test")
    history = fit.history
    # The whole network: the frozen encoders as received plus everything trained.
    final = full_state(model, fit.state)
    run_metrics: dict[str, Any] = {
        "test_nmse": total(test).nmse,
        "val_nmse": history.best_val,
        "val_curve": history.val_curve,
        "best_round": history.best_round,
        "rounds": len(history.rounds) - 1,
        "bytes": history.bytes_total,
        "wall_s": time.perf_counter() - started,
        "reused_parameters": len(reused),
        "strategy": cfg.strategy,
        "transport": cfg.transport,
        "reuse": "frozen" if use_frozen else "finetune",
        # A string: run metrics stay scalars or lists of numbers for the services.
        "frozen_encoders": ",".join(frozen),
        "setup_s": history.rounds[0].seconds,
    }
    out_dir = Path(out_dir)
    twins = []
    for ref in targets:
        t = ref.modality
        if len(function.targets) == 1:
            twin_spec = spec
        else:
            # One twin per target: the shared encoder, fusor and this target's decoder.
            twin_spec = ModelSpec(cfg.net, (transfer_fn(function.sources[0], t),), cfg.fusor)
        metrics = {"test_nmse": total(test, f"{function.name}|{t}").nmse}
        stem = f"{operation}_{'+'.join(function.sources)}_to_{t}"
        artifact = save_model(
            out_dir / f"{stem}.pt",
            twin_spec,
            submodel_state(final, twin_spec),
            normalizer,
            {
                "operation": operation,
                "function": function.name,
                "sources": [
                    {
                        "modality": s.modality,
                        "twin_id": s.twin_id,
                        "model": None if s.model is None else str(s.model),
                    }
                    for s in sources
                ],
                "metrics": metrics,
            },
        )
        twins.append(NewTwin(t, modality(t).twin, artifact.path, artifact.sha256, metrics))
    return OperationResult(operation, function.name, tuple(twins), tuple(sources), run_metrics)


def create_twin(
    data: Path,
    twin: str | TwinRef,
    out_dir: Path,
    config: OperationConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> OperationResult:
    """Train the model of a modality twin on its own stream (an auto-encoder)."""
    ref = _as_ref(twin)
    fn = Function("identity", (ref.modality,), (ref.modality,))
    return _run("create", fn, [ref], [ref], data, out_dir, config, progress, cancel)


def transfer(
    data: Path,
    source: str | TwinRef,
    target: str | TwinRef,
    out_dir: Path,
    config: OperationConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> OperationResult:
    """Transfer twin A into a new twin B (A to B)."""
    a, b = _as_ref(source), _as_ref(target)
    fn = transfer_fn(a.modality, b.modality)
    return _run("transfer", fn, [a], [b], data, out_dir, config, progress, cancel)


def merge(
    data: Path,
    a: str | TwinRef,
    b: str | TwinRef,
    target: str | TwinRef,
    out_dir: Path,
    config: OperationConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> OperationResult:
    """Merge twins A and B into a new twin C (A + B to C)."""
    ra, rb, rc = _as_ref(a), _as_ref(b), _as_ref(target)
    fn = merge_fn(ra.modality, rb.modality, rc.modality)
    return _run("merge", fn, [ra, rb], [rc], data, out_dir, config, progress, cancel)


def split(
    data: Path,
    source: str | TwinRef,
    b: str | TwinRef,
    c: str | TwinRef,
    out_dir: Path,
    config: OperationConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> OperationResult:
    """Split twin A into new twins B and C (A to B + C)."""
    ra, rb, rc = _as_ref(source), _as_ref(b), _as_ref(c)
    fn = split_fn(ra.modality, rb.modality, rc.modality)
    return _run("split", fn, [ra], [rb, rc], data, out_dir, config, progress, cancel)


def predict(artifact: Path, windows: WindowSet) -> dict[str, np.ndarray]:
    """Run a twin model on raw windows; returns each target in physical units.

    ``windows`` must hold the model's source modalities (``(n, window, features)``, NaN
    where unseen), e.g. from :func:`utt.data.windows.make_windows`.
    """
    loaded = load_model(artifact)
    needed = loaded.model.sources
    missing = [m for m in needed if m not in windows.data]
    if missing:
        raise ValueError(f"windows lack modalities {missing}")
    data = WindowSet({m: windows.data[m] for m in needed})
    out = predict_outputs(loaded.model, loaded.normalizer.encode(data))
    result = {}
    for fn_out in out.values():
        for t, z in fn_out.items():
            result[t] = loaded.normalizer.decode(t, z.numpy())
    return result
