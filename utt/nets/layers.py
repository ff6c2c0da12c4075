"""The Transformer stack shared by encoders and decoders."""

from __future__ import annotations

from torch import nn

from utt.nets.config import NetConfig

__all__ = ["transformer_stack"]


def transformer_stack(cfg: NetConfig) -> nn.TransformerEncoder:
    """``cfg.layers`` pre-norm Transformer encoder layers of width ``cfg.d_model``."""
    layer = nn.TransformerEncoderLayer(
        cfg.d_model,
        cfg.heads,
        cfg.ff_mult * cfg.d_model,
        cfg.dropout,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    # Nested tensors only help with padding masks, which windows never have.
    return nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
