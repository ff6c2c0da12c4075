"""Per-modality encoders: 1-D convolutions with pooling, then Transformer layers, to size D."""

from __future__ import annotations

import torch
from torch import nn

from utt.nets.config import NetConfig
from utt.nets.layers import transformer_stack

__all__ = ["ModalityEncoder"]


class ModalityEncoder(nn.Module):
    """Encode ``(batch, window, features)`` into a latent ``(batch, window // 2, D)``.

    Inputs per frame: the features, their change since the previous frame (velocity is what
    links a trajectory to inertial signals, and a first difference is cheaper to hand over
    than to learn), and the frame mask, so the encoder knows which frames were unseen (their
    values are 0 after normalization, indistinguishable from the mean). A difference
    touching an unseen frame is 0. Two convolutions extract local motion patterns;
    max-pooling halves the time axis; a learned position embedding and the Transformer
    layers then mix the whole window.
    """

    def __init__(self, features: int, cfg: NetConfig) -> None:
        super().__init__()
        d, k = cfg.d_model, cfg.kernel
        self.conv = nn.Sequential(
            nn.Conv1d(2 * features + 1, d, k, padding=k // 2),
            nn.GELU(),
            nn.Conv1d(d, d, k, padding=k // 2),
            nn.GELU(),
            nn.MaxPool1d(2),
        )
        self.position = nn.Parameter(torch.zeros(1, cfg.latent_length, d))
        nn.init.normal_(self.position, std=0.02)
        self.transformer = transformer_stack(cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Latent of ``x`` given the boolean frame ``mask``."""
        m = mask.unsqueeze(-1).to(x.dtype)
        both = m[:, 1:] * m[:, :-1]
        delta = torch.cat([torch.zeros_like(x[:, :1]), (x[:, 1:] - x[:, :-1]) * both], dim=1)
        h = torch.cat([x, delta, m], dim=-1)
        h = self.conv(h.transpose(1, 2)).transpose(1, 2)
        out: torch.Tensor = self.transformer(h + self.position)
        return out
