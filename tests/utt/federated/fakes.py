"""Small in-process clients with hand-checkable behaviour, for strategy and transport tests.

Importable by spawned gloo processes (they unpickle the factory by module name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from utt.federated.client import Client
from utt.federated.messages import Reply
from utt.metrics import ErrorSums


class ShiftClient(Client):
    """Client ``i`` "trains" by adding ``i + 1`` to every weight; it holds ``i + 1`` examples.

    Its validation error is (w - 10)^2 summed over weights, against a target energy of 100
    per weight, so NMSE falls as the weights approach 10.
    """

    def __init__(self, index: int, fail: bool = False) -> None:
        self.index = index
        self.fail = fail

    def template(self) -> dict[str, torch.Tensor]:
        return {"w": torch.zeros(2), "steps": torch.tensor(0)}

    def fit(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        if self.fail:
            raise RuntimeError("disk full")
        new = {"w": state["w"] + (self.index + 1), "steps": state["steps"] + 1}
        return Reply(self.index + 1, {"loss": float(self.index), "seconds": 0.0}, new)

    def evaluate(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        sse = float(((state["w"] - 10.0) ** 2).sum())
        return Reply(1, payload={"f|t": ErrorSums(sse, 100.0 * state["w"].numel(), 2)})

    def moments(self) -> Reply:
        return Reply(self.index + 1, payload={"index": self.index})


@dataclass(frozen=True)
class ShiftFactory:
    """Picklable factory of :class:`ShiftClient`; ``fail`` makes client 1 fail to fit."""

    fail: bool = False

    def __call__(self, index: int) -> ShiftClient:
        return ShiftClient(index, fail=self.fail and index == 1)
