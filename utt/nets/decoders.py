"""Per-modality decoders: Transformer layers, then transposed convolutions back to frames."""

from __future__ import annotations

import torch
from torch import nn

from utt.nets.config import NetConfig
from utt.nets.layers import transformer_stack

__all__ = ["ModalityDecoder"]


class ModalityDecoder(nn.Module):
    """Decode a latent ``(batch, window // 2, D)`` into ``(batch, window, features)``."""

    def __init__(self, features: int, cfg: NetConfig) -> None:
        super().__init__()
        d, k = cfg.d_model, cfg.kernel
        self.transformer = transformer_stack(cfg)
        self.up = nn.Sequential(
            nn.ConvTranspose1d(d, d, 2, stride=2),
            nn.GELU(),
            nn.Conv1d(d, d, k, padding=k // 2),
            nn.GELU(),
            nn.Conv1d(d, features, 1),
        )
        # Start at the training mean (0 in normalized units): an untrained twin scores an
        # NMSE of exactly 1 and training can only improve on predicting the mean.
        with torch.no_grad():
            for p in self.up[-1].parameters():
                p.zero_()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Frames of the modality, in normalized units."""
        h = self.transformer(z)
        out: torch.Tensor = self.up(h.transpose(1, 2)).transpose(1, 2)
        return out
