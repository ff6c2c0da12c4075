"""The eight fusors that combine latents of several twins into one.

Every fusor takes a list of latents ``(batch, length, D)`` and the *slot* of each: slot ``i``
is modality ``i`` of :data:`utt.modalities.MODALITY_NAMES`, the last slot is the target
query (a learned embedding of the twin being built). Element-wise fusors ignore slots;
concatenation, gating and attention use them, so one fusor serves transfers (two inputs),
merges (three) and splits alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = [
    "FUSOR_NAMES",
    "AddFusor",
    "AttentionFusor",
    "AverageFusor",
    "ConcatFusor",
    "Fusor",
    "GatingFusor",
    "MaxFusor",
    "MinFusor",
    "MultiplyFusor",
    "make_fusor",
]


class Fusor(nn.Module):
    """Base class: ``forward(latents, slots) -> latent``."""

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        """Fuse ``latents``; ``slots[i]`` says which role ``latents[i]`` plays."""
        raise NotImplementedError


class AddFusor(Fusor):
    """Element-wise sum (ViTag's X-Translator fuses this way)."""

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        return torch.stack(list(latents)).sum(0)


class AverageFusor(Fusor):
    """Element-wise mean."""

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        return torch.stack(list(latents)).mean(0)


class MultiplyFusor(Fusor):
    """Element-wise product."""

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        return torch.stack(list(latents)).prod(0)


class MaxFusor(Fusor):
    """Element-wise maximum."""

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        return torch.stack(list(latents)).amax(0)


class MinFusor(Fusor):
    """Element-wise minimum."""

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        return torch.stack(list(latents)).amin(0)


class ConcatFusor(Fusor):
    """Concatenation over all slots followed by a linear projection back to D.

    Absent slots count as zeros, so ``W [x_0; ...; x_S]`` equals the sum of one projection
    per present slot, which is how it is computed.
    """

    def __init__(self, d_model: int, slots: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList(nn.Linear(d_model, d_model, bias=False) for _ in range(slots))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        out = self.bias
        for x, s in zip(latents, slots, strict=True):
            out = out + self.proj[s](x)
        return out


class GatingFusor(Fusor):
    """Weighted sum with one learned weight per slot, then a sigmoid gate per feature."""

    def __init__(self, d_model: int, slots: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(slots))
        self.gate = nn.Linear(d_model, d_model)

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        s = sum(self.weight[i] * x for x, i in zip(latents, slots, strict=True))
        assert isinstance(s, torch.Tensor)
        return torch.sigmoid(self.gate(s)) * s


class AttentionFusor(Fusor):
    """Multi-head attention from the mean latent over the tokens of all inputs.

    Tokens carry a learned slot embedding, so attention can tell the twins apart; the
    result is added to the query (a residual).
    """

    def __init__(self, d_model: int, slots: int, heads: int) -> None:
        super().__init__()
        self.slot = nn.Parameter(torch.zeros(slots, d_model))
        nn.init.normal_(self.slot, std=0.02)
        self.attn = nn.MultiheadAttention(d_model, heads, batch_first=True)

    def forward(self, latents: Sequence[torch.Tensor], slots: Sequence[int]) -> torch.Tensor:
        tokens = torch.cat([x + self.slot[s] for x, s in zip(latents, slots, strict=True)], 1)
        query = torch.stack(list(latents)).mean(0)
        out, _ = self.attn(query, tokens, tokens, need_weights=False)
        result: torch.Tensor = query + out
        return result


_FACTORIES: dict[str, Callable[[int, int, int], Fusor]] = {
    "add": lambda d, s, h: AddFusor(),
    "average": lambda d, s, h: AverageFusor(),
    "concat": lambda d, s, h: ConcatFusor(d, s),
    "multiply": lambda d, s, h: MultiplyFusor(),
    "max": lambda d, s, h: MaxFusor(),
    "min": lambda d, s, h: MinFusor(),
    "gating": lambda d, s, h: GatingFusor(d, s),
    "attention": lambda d, s, h: AttentionFusor(d, s, h),
}

FUSOR_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def make_fusor(name: str, d_model: int, slots: int, heads: int) -> Fusor:
    """Build the fusor called ``name`` (one of :data:`FUSOR_NAMES`)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown fusor {name!r}; expected one of {FUSOR_NAMES}") from None
    return factory(d_model, slots, heads)
