"""Hyper-parameters shared by every network of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["NetConfig"]


@dataclass(frozen=True)
class NetConfig:
    """Sizes of the encoders, decoders and fusor.

    ``window`` frames come in; the encoder's pooling halves them, so latents are
    ``(window // 2, d_model)``. ``window`` must therefore be even.
    """

    window: int = 30
    d_model: int = 64
    layers: int = 2
    heads: int = 4
    ff_mult: int = 2
    kernel: int = 3
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.window % 2:
            raise ValueError("window must be even (the encoder pools by 2)")
        if self.d_model % self.heads:
            raise ValueError("d_model must be a multiple of heads")

    @property
    def latent_length(self) -> int:
        """Time steps of a latent sequence."""
        return self.window // 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in model artifacts."""
        return asdict(self)
