"""The twin transformation network: encoders, an optional fusor, decoders.

One :class:`TwinNet` serves one or several functions (:mod:`utt.functions`). For a function
with sources S and targets T, each target t is decoded from::

    fusor([E_s(x_s) for s in S] + [q_t])

where ``q_t`` is a learned query for target t: it tells a shared fusor which twin it is
building, which is what lets one *unified* model serve transfers, merges and splits at once.
A model built with ``fusor=None`` has no fusor and no queries: each target is decoded
straight from its single source. That is the direct-mapping baseline, and the shape of a
base twin's own model (an auto-encoder of its modality).

Encoders and decoders are named ``encoders.<modality>`` and ``decoders.<modality>`` in the
state dict, so a new twin can start from the parts of existing twins
(:func:`warm_start`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn

from utt.functions import Function
from utt.modalities import MODALITY_NAMES, modality
from utt.nets.config import NetConfig
from utt.nets.decoders import ModalityDecoder
from utt.nets.encoders import ModalityEncoder
from utt.nets.fusors import make_fusor

__all__ = ["Outputs", "TwinNet", "warm_start"]

Outputs = dict[str, dict[str, torch.Tensor]]
_QUERY_SLOT = len(MODALITY_NAMES)


class TwinNet(nn.Module):
    """Encoders, fusor and decoders for a set of functions."""

    def __init__(
        self, cfg: NetConfig, functions: Sequence[Function], fusor: str | None = "gating"
    ) -> None:
        super().__init__()
        if not functions:
            raise ValueError("a model needs at least one function")
        if fusor is None and any(len(f.sources) != 1 for f in functions):
            raise ValueError("a model without a fusor maps one source to each target")
        self.cfg = cfg
        self.functions = tuple(functions)
        self.fusor_name = fusor
        sources = sorted({m for f in functions for m in f.sources}, key=MODALITY_NAMES.index)
        targets = sorted({m for f in functions for m in f.targets}, key=MODALITY_NAMES.index)
        self.encoders = nn.ModuleDict({m: ModalityEncoder(modality(m).size, cfg) for m in sources})
        self.decoders = nn.ModuleDict({m: ModalityDecoder(modality(m).size, cfg) for m in targets})
        self.fusor = None
        if fusor is not None:
            self.queries = nn.ParameterDict(
                {m: nn.Parameter(torch.randn(cfg.latent_length, cfg.d_model)) for m in targets}
            )
            self.fusor = make_fusor(fusor, cfg.d_model, _QUERY_SLOT + 1, cfg.heads)

    @property
    def sources(self) -> tuple[str, ...]:
        """Modalities the model reads."""
        return tuple(self.encoders.keys())

    @property
    def targets(self) -> tuple[str, ...]:
        """Modalities the model produces."""
        return tuple(self.decoders.keys())

    def forward(
        self,
        x: Mapping[str, torch.Tensor],
        mask: Mapping[str, torch.Tensor],
        functions: Sequence[Function] | None = None,
    ) -> Outputs:
        """Outputs ``{function name: {target: (batch, window, features)}}``.

        Each source is encoded once however many functions read it.
        """
        functions = self.functions if functions is None else tuple(functions)
        needed = {m for f in functions for m in f.sources}
        return self.decode(self.encode(x, mask, needed), functions)

    def encode(
        self,
        x: Mapping[str, torch.Tensor],
        mask: Mapping[str, torch.Tensor],
        modalities: Iterable[str] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Latents ``(batch, window // 2, D)`` of ``modalities`` (default: every source)."""
        names = self.sources if modalities is None else modalities
        return {m: self.encoders[m](x[m], mask[m]) for m in names}

    def decode(
        self, latents: Mapping[str, torch.Tensor], functions: Sequence[Function] | None = None
    ) -> Outputs:
        """Outputs of ``functions`` from the sources' latents: fusor, queries, decoders.

        Split from :meth:`encode` so a twin whose encoders are frozen can train on latents
        computed once (:mod:`utt.reuse`).
        """
        functions = self.functions if functions is None else tuple(functions)
        out: Outputs = {}
        for f in functions:
            out[f.name] = {}
            for t in f.targets:
                if self.fusor is None:
                    z = latents[f.sources[0]]
                else:
                    q = self.queries[t].unsqueeze(0).expand_as(latents[f.sources[0]])
                    parts = [latents[s] for s in f.sources] + [q]
                    slots = [MODALITY_NAMES.index(s) for s in f.sources] + [_QUERY_SLOT]
                    # No normalisation after the fusor: a LayerNorm here would make ``add``
                    # and ``average`` identical (they differ only by scale); the decoder's
                    # pre-norm layers normalise their own inputs.
                    z = self.fusor(parts, slots)
                out[f.name][t] = self.decoders[t](z)
        return out


def warm_start(model: TwinNet, parts: Mapping[str, torch.Tensor]) -> list[str]:
    """Copy matching encoder and decoder weights of existing twins into ``model``.

    ``parts`` is a state dict (or several merged) of existing twin models; only
    ``encoders.*`` and ``decoders.*`` entries whose name and shape match are copied. Returns
    the copied names.
    """
    own = model.state_dict()
    copied = []
    with torch.no_grad():
        for name, value in parts.items():
            if (
                name.startswith(("encoders.", "decoders."))
                and name in own
                and own[name].shape == value.shape
            ):
                own[name].copy_(value)
                copied.append(name)
    return copied
