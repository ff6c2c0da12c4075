"""The server strategy: hooks for configuring and aggregating, and the one round loop.

As in Flower's ``Strategy``, a concrete strategy only overrides hooks (``aggregate_fit``
above all); :meth:`Strategy.run` is the single loop every strategy shares. A strategy talks
to clients only through a :class:`~utt.federated.transport.base.Transport`, so it never
knows whether they are in this process or across the network.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from utt.federated.messages import Instruction, Reply
from utt.federated.transport.base import Transport
from utt.metrics import ErrorSums, combine, total
from utt.progress import CancelToken, ProgressCallback, ProgressEvent

__all__ = ["History", "RoundRecord", "Strategy"]


@dataclass(frozen=True)
class RoundRecord:
    """One federated round (round 0 is the starting model, evaluated before training).

    ``seconds`` is the wall time of the round on the server; ``critical_s`` the slowest
    client's local work plus the server's own time, i.e. the round's duration when clients
    run in parallel on their own machines.
    """

    round: int
    train_loss: float
    val_nmse: float
    seconds: float
    critical_s: float
    bytes_down: int
    bytes_up: int
    #: CPU seconds of this process in the round: with in-process clients and one torch
    #: thread, the work itself, whatever else the machine is running.
    cpu_s: float = 0.0


@dataclass
class History:
    """All rounds of a run and the final global model."""

    rounds: list[RoundRecord] = field(default_factory=list)
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    stopped_early: bool = False
    best_round: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def best_val(self) -> float:
        """Lowest validation NMSE seen (round 0 included)."""
        return self.rounds[self.best_round].val_nmse

    @property
    def val_curve(self) -> list[float]:
        """Validation NMSE after each round, round 0 first."""
        return [r.val_nmse for r in self.rounds]

    @property
    def bytes_total(self) -> int:
        """Bytes sent both ways over all rounds."""
        return sum(r.bytes_down + r.bytes_up for r in self.rounds)

    @property
    def seconds(self) -> float:
        """Server wall time over all rounds."""
        return sum(r.seconds for r in self.rounds)

    @property
    def critical_s(self) -> float:
        """Time over all rounds with clients in parallel."""
        return sum(r.critical_s for r in self.rounds)


class Strategy(ABC):
    """Base class of server strategies.

    Parameters:
        fit_config: sent to every client with each ``fit`` (epochs, lr, batch size...).
    """

    name = "strategy"

    def __init__(self, fit_config: Mapping[str, Any] | None = None) -> None:
        self.fit_config = dict(fit_config or {})

    def configure_fit(self, rnd: int) -> dict[str, Any]:
        """Config for round ``rnd``'s ``fit`` instruction."""
        return {**self.fit_config, "round": rnd}

    @abstractmethod
    def aggregate_fit(
        self, rnd: int, current: dict[str, torch.Tensor], replies: Sequence[Reply]
    ) -> dict[str, torch.Tensor]:
        """The next global model from the current one and the clients' trained models.

        Parameters:
            rnd: round number, from 1.
            current: the global model the clients started from.
            replies: one per client, each with its model and example count.

        Returns:
            The new global model.
        """

    def aggregate_evaluate(self, rnd: int, replies: Sequence[Reply]) -> dict[str, ErrorSums]:
        """Add up the clients' error sums (exact: NMSE is a ratio of sums)."""
        return combine(r.payload for r in replies)

    def evaluate(
        self, transport: Transport, state: dict[str, torch.Tensor], split: str = "val"
    ) -> dict[str, ErrorSums]:
        """Error sums of ``state`` on every client's ``split``."""
        replies = transport.send(Instruction("evaluate", {"split": split}, state))
        return self.aggregate_evaluate(0, replies)

    def run(
        self,
        transport: Transport,
        initial: dict[str, torch.Tensor],
        rounds: int,
        *,
        stop_at: float | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        stage: str = "federated",
        setup: Instruction | None = None,
    ) -> History:
        """Run up to ``rounds`` rounds from ``initial``.

        Each round sends ``fit``, aggregates, then evaluates the new model on the clients'
        validation windows. With ``stop_at``, the run ends as soon as the validation NMSE
        is at or below it. ``setup`` is sent once before round 0 (e.g. the frozen encoders
        of reused twins, :mod:`utt.reuse`); its time and bytes count in round 0.
        """
        history = History(state=initial, best_state=initial)
        before = transport.traffic.snapshot()
        t0, c0 = time.perf_counter(), time.process_time()
        setup_slowest = setup_sum = 0.0
        if setup is not None:
            replies = transport.send(setup)
            setup_slowest = max(r.metrics.get("seconds", 0.0) for r in replies)
            setup_sum = sum(r.metrics.get("seconds", 0.0) for r in replies)
        t_setup = time.perf_counter() - t0
        val = total(self.evaluate(transport, initial)).nmse
        spent = time.perf_counter() - t0
        local = setup_sum if transport.sequential else t_setup
        critical = setup_slowest + max(0.0, spent - local)
        down, up = (a - b for a, b in zip(transport.traffic.snapshot(), before, strict=True))
        cpu = time.process_time() - c0
        history.rounds.append(RoundRecord(0, float("nan"), val, spent, critical, down, up, cpu))
        state = initial
        for rnd in range(1, rounds + 1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            before = transport.traffic.snapshot()
            t0, c0 = time.perf_counter(), time.process_time()
            replies = transport.send(Instruction("fit", self.configure_fit(rnd), state))
            t_fit = time.perf_counter() - t0
            state = self.aggregate_fit(rnd, state, replies)
            sums = self.evaluate(transport, state)
            seconds = time.perf_counter() - t0
            after = transport.traffic.snapshot()
            n = sum(r.num_examples for r in replies)
            loss = sum(r.metrics.get("loss", 0.0) * r.num_examples for r in replies) / max(n, 1)
            slowest = max(r.metrics.get("seconds", 0.0) for r in replies)
            client_sum = sum(r.metrics.get("seconds", 0.0) for r in replies)
            # Server time = everything but the clients' local training.
            server_s = max(0.0, seconds - (client_sum if transport.sequential else t_fit))
            record = RoundRecord(
                rnd,
                loss,
                total(sums).nmse,
                seconds,
                slowest + server_s,
                after[0] - before[0],
                after[1] - before[1],
                time.process_time() - c0,
            )
            history.rounds.append(record)
            history.state = state
            # Keep the model that validated best: selection on validation data, never test.
            if record.val_nmse < history.best_val:
                history.best_round, history.best_state = rnd, state
            if progress is not None:
                progress(ProgressEvent(stage, rnd, rounds, f"val NMSE {record.val_nmse:.4f}"))
            if stop_at is not None and record.val_nmse <= stop_at:
                history.stopped_early = rnd < rounds
                break
        return history
