"""Training and evaluation of twin networks on encoded windows.

Loss: the masked mean squared error of every (function, target) output in normalized
units. A model serving several functions (the unified model) minimises the sum of the
transfer, merge and split losses; the transfer loss is the mean over its directions, so six
transfers weigh as much as one merge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from utt.data.windows import EncodedWindows
from utt.functions import Function
from utt.metrics import ErrorSums, combine
from utt.nets.model import Outputs, TwinNet
from utt.progress import CancelToken, ProgressCallback, ProgressEvent

__all__ = [
    "Predictor",
    "TrainConfig",
    "TrainStats",
    "evaluate",
    "function_weights",
    "loss",
    "mean_predictor",
    "outputs",
    "predict",
    "train",
]

Predictor = Callable[[Mapping[str, torch.Tensor], Mapping[str, torch.Tensor]], Outputs]


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings (Adam) for local or centralized training.

    ``max_batches`` caps the mini-batches per epoch (a fixed number of local steps per
    round, as FedAvg is often run); ``None`` makes every epoch a full pass.
    """

    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-3
    clip: float = 1.0
    seed: int = 0
    max_batches: int | None = None


@dataclass(frozen=True)
class TrainStats:
    """What one call of :func:`train` did."""

    windows: int
    steps: int
    seconds: float
    loss: float

    @property
    def windows_per_s(self) -> float:
        """Training throughput."""
        return self.windows / self.seconds if self.seconds > 0 else float("nan")


def function_weights(functions: Sequence[Function]) -> dict[str, float]:
    """Loss weight of each function: transfers share one unit, merges and splits one each."""
    n_transfer = sum(f.kind == "transfer" for f in functions)
    return {f.name: 1.0 / n_transfer if f.kind == "transfer" else 1.0 for f in functions}


def loss(out: Outputs, data: EncodedWindows, functions: Sequence[Function]) -> torch.Tensor:
    """Weighted sum over functions of the masked MSE of each target."""
    weights = function_weights(functions)
    total = torch.zeros(())
    for f in functions:
        for t in f.targets:
            m = data.mask[t].unsqueeze(-1).to(torch.float32)
            err = ((out[f.name][t] - data.x[t]) ** 2 * m).sum()
            total = total + weights[f.name] * err / (m.sum() * data.x[t].shape[-1]).clamp_min(1)
    return total


def outputs(model: TwinNet, data: EncodedWindows, functions: Sequence[Function]) -> Outputs:
    """``model``'s outputs on ``data``, taking precomputed latents where ``data`` has them.

    A source with a latent in ``data.latents`` skips its encoder (a frozen, reused encoder
    whose outputs were computed once); the other sources are encoded live.
    """
    needed = {m for f in functions for m in f.sources}
    latents = {m: data.latents[m] for m in needed if m in data.latents}
    latents.update(model.encode(data.x, data.mask, sorted(needed - latents.keys())))
    return model.decode(latents, functions)


def train(
    model: TwinNet,
    data: EncodedWindows,
    cfg: TrainConfig,
    functions: Sequence[Function] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    stage: str = "train",
    correction: Mapping[str, torch.Tensor] | None = None,
    mean_grad: dict[str, torch.Tensor] | None = None,
) -> TrainStats:
    """Train ``model`` for ``cfg.epochs`` epochs over ``data`` in shuffled mini-batches.

    Batches are drawn from a generator seeded by ``cfg.seed``, so a run is repeatable.

    For drift-corrected federated training (SCAFFOLD, :mod:`utt.federated.client`):
    ``correction`` (by parameter name) is added to each clipped gradient before the
    optimiser step, and ``mean_grad``, when given, is filled with the mean clipped
    gradient of every trainable parameter over the steps taken.
    """
    functions = model.functions if functions is None else tuple(functions)
    # Frozen parameters (reused encoders) are left out of the optimiser.
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    if mean_grad is not None:
        mean_grad.clear()
        mean_grad.update({k: torch.zeros_like(p) for k, p in named})
    opt = optimizer or torch.optim.Adam(params, lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    n = len(data)
    per_epoch = max(1, -(-n // cfg.batch_size))
    if cfg.max_batches is not None:
        per_epoch = min(per_epoch, cfg.max_batches)
    steps = 0
    last = float("nan")
    model.train()
    started = time.perf_counter()
    for epoch in range(cfg.epochs):
        order = torch.from_numpy(rng.permutation(n))
        running = 0.0
        for b in range(per_epoch):
            if cancel is not None:
                cancel.raise_if_cancelled()
            batch = data.take(order[b * cfg.batch_size : (b + 1) * cfg.batch_size])
            value = loss(outputs(model, batch, functions), batch, functions)
            opt.zero_grad(set_to_none=True)
            value.backward()
            if cfg.clip > 0:
                torch.nn.utils.clip_grad_norm_(params, cfg.clip)
            if mean_grad is not None or correction is not None:
                with torch.no_grad():
                    has = [(k, p.grad) for k, p in named if p.grad is not None]
                    grads = [g for _, g in has]
                    if mean_grad is not None:
                        torch._foreach_add_([mean_grad[k] for k, _ in has], grads)
                    if correction is not None:
                        torch._foreach_add_(grads, [correction[k] for k, _ in has])
            opt.step()
            running += value.item()
            steps += 1
        last = running / per_epoch
        if progress is not None:
            progress(ProgressEvent(stage, epoch + 1, cfg.epochs, f"loss {last:.4f}"))
    if mean_grad is not None and steps:
        for v in mean_grad.values():
            v /= steps
    windows = min(n, per_epoch * cfg.batch_size) * cfg.epochs
    return TrainStats(windows, steps, time.perf_counter() - started, last)


def predict(model: TwinNet, data: EncodedWindows, batch_size: int = 256) -> Outputs:
    """Outputs of ``model`` on all of ``data``, batched, without gradients."""
    model.eval()
    parts: list[Outputs] = []
    with torch.no_grad():
        for b in data.batches(batch_size):
            parts.append(outputs(model, b, model.functions))
    return {fn: {t: torch.cat([p[fn][t] for p in parts]) for t in parts[0][fn]} for fn in parts[0]}


def mean_predictor(functions: Sequence[Function]) -> Predictor:
    """The predict-the-training-mean baseline: zeros in normalized units."""

    def run(x: Mapping[str, torch.Tensor], mask: Mapping[str, torch.Tensor]) -> Outputs:
        n, length = next(iter(x.values())).shape[:2]
        from utt.modalities import modality

        return {
            f.name: {t: torch.zeros(n, length, modality(t).size) for t in f.targets}
            for f in functions
        }

    return run


def evaluate(
    model: TwinNet | Predictor,
    data: EncodedWindows,
    functions: Sequence[Function],
    batch_size: int = 256,
) -> dict[str, ErrorSums]:
    """Error sums keyed ``"<function>|<target>"`` over ``data``."""
    if isinstance(model, TwinNet):
        model.eval()
    parts = []
    with torch.no_grad():
        for b in data.batches(batch_size):
            out = outputs(model, b, functions) if isinstance(model, TwinNet) else model(b.x, b.mask)
            parts.append(
                {
                    f"{f.name}|{t}": ErrorSums.of(out[f.name][t], b.x[t], b.mask[t])
                    for f in functions
                    for t in f.targets
                }
            )
    return combine(parts)
