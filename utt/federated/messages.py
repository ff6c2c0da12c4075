"""What the server and the local twins say to each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch

__all__ = ["Instruction", "InstructionKind", "Reply"]

InstructionKind = Literal["fit", "evaluate", "moments", "configure"]


@dataclass(frozen=True)
class Instruction:
    """A request from the server to every client.

    ``fit`` carries the global model and asks for local training; ``evaluate`` carries it
    and asks for error sums on a split (``config["split"]``); ``moments`` asks for the
    per-feature statistics normalization needs; ``configure`` hands out settings decided
    by the server (``config["normalizer"]``).
    """

    kind: InstructionKind
    config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, torch.Tensor] | None = None

    @property
    def returns_state(self) -> bool:
        """Whether replies carry a model (only ``fit`` does)."""
        return self.kind == "fit"


@dataclass(frozen=True)
class Reply:
    """A client's answer: its example count, scalar metrics, and a model or payload."""

    num_examples: int
    metrics: dict[str, float] = field(default_factory=dict)
    state: dict[str, torch.Tensor] | None = None
    payload: Any = None

    def without_state(self) -> Reply:
        """The reply minus its model, as sent apart from the tensors."""
        return Reply(self.num_examples, self.metrics, None, self.payload)
