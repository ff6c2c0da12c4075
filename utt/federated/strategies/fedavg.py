"""FedAvg: the example-weighted mean of the client models (McMahan et al. 2017).

FedAvgM adds momentum on the server (Hsu et al. 2019): on non-IID areas each round's
average moves less than a centralized epoch, and the momentum carries the direction the
rounds agree on forward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from utt.federated.aggregate import fedavgm_step, pseudo_gradient, weighted_average
from utt.federated.messages import Reply
from utt.federated.strategy import Strategy

__all__ = ["FedAvg", "FedAvgM", "client_results"]


def client_results(replies: Sequence[Reply]) -> list[tuple[dict[str, torch.Tensor], int]]:
    """``(state, examples)`` pairs of replies that carry a model."""
    out = [(r.state, r.num_examples) for r in replies if r.state is not None]
    if not out:
        raise ValueError("no client returned a model")
    return out


class FedAvg(Strategy):
    """Replace the global model with the weighted mean of the client models."""

    name = "fedavg"

    def aggregate_fit(
        self, rnd: int, current: dict[str, torch.Tensor], replies: Sequence[Reply]
    ) -> dict[str, torch.Tensor]:
        return weighted_average(client_results(replies))


class FedAvgM(Strategy):
    """FedAvg with server momentum: ``m = beta m + delta``, ``x = x + eta m``.

    Parameters:
        eta: server learning rate (1: the average itself when ``beta = 0``).
        beta: server momentum.
        fit_config: sent to clients with each ``fit``.
    """

    name = "fedavgm"

    def __init__(
        self, eta: float = 1.0, beta: float = 0.9, fit_config: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(fit_config)
        self.eta, self.beta = eta, beta
        self.momentum: dict[str, torch.Tensor] | None = None

    def aggregate_fit(
        self, rnd: int, current: dict[str, torch.Tensor], replies: Sequence[Reply]
    ) -> dict[str, torch.Tensor]:
        delta = pseudo_gradient(current, weighted_average(client_results(replies)))
        new, self.momentum = fedavgm_step(
            current, delta, self.momentum, eta=self.eta, beta=self.beta
        )
        return new
