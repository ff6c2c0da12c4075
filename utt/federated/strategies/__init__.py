"""Concrete server strategies, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from utt.federated.strategies.adaptive import AdaptiveStrategy, FedAdagrad, FedAdam, FedYogi
from utt.federated.strategies.fedavg import FedAvg, FedAvgM
from utt.federated.strategy import Strategy

__all__ = [
    "STRATEGIES",
    "AdaptiveStrategy",
    "FedAdagrad",
    "FedAdam",
    "FedAvg",
    "FedAvgM",
    "FedYogi",
    "make_strategy",
]

STRATEGIES: dict[str, type[Strategy]] = {
    "fedavg": FedAvg,
    "fedavgm": FedAvgM,
    "fedadam": FedAdam,
    "fedyogi": FedYogi,
    "fedadagrad": FedAdagrad,
}


def make_strategy(
    name: str, fit_config: Mapping[str, Any] | None = None, **options: float
) -> Strategy:
    """The strategy called ``name``; ``options`` (eta, beta1, beta2, tau; eta, beta for FedAvgM)."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        known = sorted(STRATEGIES)
        raise ValueError(f"unknown strategy {name!r}; expected one of {known}") from None
    if issubclass(cls, (AdaptiveStrategy, FedAvgM)):
        return cls(fit_config=fit_config, **options)
    if options:
        raise ValueError(f"{name} takes no options")
    return cls(fit_config)
