"""FedAdagrad, FedAdam and FedYogi: a server optimizer on the pseudo-gradient.

Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2; the maths lives in
:mod:`utt.federated.aggregate`, these classes only keep the moments between rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from utt.federated.aggregate import (
    Moments,
    fedadagrad_step,
    fedadam_step,
    fedyogi_step,
    initial_moments,
    pseudo_gradient,
    weighted_average,
)
from utt.federated.messages import Reply
from utt.federated.strategies.fedavg import client_results
from utt.federated.strategy import Strategy

__all__ = ["AdaptiveStrategy", "FedAdagrad", "FedAdam", "FedYogi"]

Step = Callable[..., tuple[dict[str, torch.Tensor], Moments]]


class AdaptiveStrategy(Strategy):
    """Common part of the adaptive strategies.

    Parameters:
        eta: server learning rate.
        beta1, beta2: moment decay rates.
        tau: adaptivity (the smallest denominator).
        fit_config: sent to clients with each ``fit``.
    """

    step: Step

    def __init__(
        self,
        eta: float = 1e-2,
        beta1: float = 0.9,
        beta2: float = 0.99,
        tau: float = 1e-3,
        fit_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(fit_config)
        self.eta, self.beta1, self.beta2, self.tau = eta, beta1, beta2, tau
        self.moments: Moments | None = None

    def _kwargs(self) -> dict[str, float]:
        return {"eta": self.eta, "beta1": self.beta1, "beta2": self.beta2, "tau": self.tau}

    def aggregate_fit(
        self, rnd: int, current: dict[str, torch.Tensor], replies: Sequence[Reply]
    ) -> dict[str, torch.Tensor]:
        if self.moments is None:
            self.moments = initial_moments(current, self.tau)
        delta = pseudo_gradient(current, weighted_average(client_results(replies)))
        new, self.moments = type(self).step(current, delta, self.moments, **self._kwargs())
        return new


class FedAdagrad(AdaptiveStrategy):
    """Adagrad on the server (no second-moment decay)."""

    name = "fedadagrad"
    step = staticmethod(fedadagrad_step)

    def _kwargs(self) -> dict[str, float]:
        return {"eta": self.eta, "beta1": self.beta1, "tau": self.tau}


class FedAdam(AdaptiveStrategy):
    """Adam on the server."""

    name = "fedadam"
    step = staticmethod(fedadam_step)


class FedYogi(AdaptiveStrategy):
    """Yogi on the server: the second moment moves additively, by sign."""

    name = "fedyogi"
    step = staticmethod(fedyogi_step)
