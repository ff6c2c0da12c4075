"""One federated training run over any transport, from normalization to the best model."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from utt.data.windows import Normalizer
from utt.federated.messages import Instruction
from utt.federated.strategy import History, Strategy
from utt.federated.transport.base import Transport
from utt.nets.model import TwinNet
from utt.progress import CancelToken, ProgressCallback
from utt.reuse import encoder_state, initial_controls, trainable_state

__all__ = ["FederatedFit", "federated_normalizer", "fit_federated", "reuse_start"]


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
    setup: Instruction | None = None,
) -> FederatedFit:
    """Run ``strategy`` for up to ``rounds`` rounds; clients must already be configured.

    ``setup`` (see :meth:`Strategy.run`) is sent first and timed as part of the run.
    """
    started = time.perf_counter()
    history = strategy.run(
        transport,
        initial,
        rounds,
        stop_at=stop_at,
        progress=progress,
        cancel=cancel,
        stage=stage,
        setup=setup,
    )
    return FederatedFit(history, time.perf_counter() - started)


def reuse_start(
    model: TwinNet, frozen: Sequence[str], drift_correction: bool
) -> tuple[dict[str, torch.Tensor], Instruction | None]:
    """The global state a federated run starts from, and the setup instruction to send.

    With ``frozen`` encoders the state holds only the trainable entries, and the setup
    hands every area the frozen encoders once (``configure`` with ``encoders``). With
    ``drift_correction`` the state also carries zero controls.
    """
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    start = trainable_state(state, frozen)
    if drift_correction:
        start.update(initial_controls(model, frozen))
    setup = None
    if frozen:
        setup = Instruction("configure", {"encoders": encoder_state(state, frozen)})
    return start, setup
