"""One federated training run over any transport, from normalization to the best model."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from utt.data.windows import Normalizer
from utt.federated.messages import Instruction
from utt.federated.strategy import History, Strategy
from utt.federated.transport.base import Transport
from utt.progress import CancelToken, ProgressCallback

__all__ = ["FederatedFit", "federated_normalizer", "fit_federated"]


def federated_normalizer(transport: Transport) -> Normalizer:
    """Global normalization from every client's moments, then handed back to them.

    Only per-feature counts, sums and sums of squares travel; no window leaves an area.
    """
    replies = transport.send(Instruction("moments"))
    normalizer = Normalizer.from_moments(r.payload for r in replies)
    transport.send(Instruction("configure", {"normalizer": normalizer.to_dict()}))
    return normalizer


@dataclass
class FederatedFit:
    """Outcome of :func:`fit_federated`."""

    history: History
    wall_s: float

    @property
    def state(self) -> dict[str, torch.Tensor]:
        """The model that validated best."""
        return self.history.best_state


def fit_federated(
    transport: Transport,
    strategy: Strategy,
    initial: dict[str, torch.Tensor],
    rounds: int,
    *,
    stop_at: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    stage: str = "federated",
) -> FederatedFit:
    """Run ``strategy`` for up to ``rounds`` rounds; clients must already be configured."""
    started = time.perf_counter()
    history = strategy.run(
        transport, initial, rounds, stop_at=stop_at, progress=progress, cancel=cancel, stage=stage
    )
    return FederatedFit(history, time.perf_counter() - started)
