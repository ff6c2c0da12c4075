"""FedAvg: the example-weighted mean of the client models (McMahan et al. 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from utt.federated.aggregate import weighted_average
from utt.federated.messages import Reply
from utt.federated.strategy import Strategy

__all__ = ["FedAvg", "client_results"]


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
