"""Reuse of existing twins: frozen source encoders whose latents are computed once.

A merge or split starts from twins that already exist and are trained. Their encoders
already map each source modality to a latent, so the new twin keeps them **frozen** and
learns only what is new: the fusor, the target queries and the decoders (which start from
the target twins' decoders, :func:`utt.nets.model.warm_start`). Frozen encoders give fixed
features, so every local area encodes each of its windows once (:func:`with_latents`) and
then trains on those latents: a training step runs only the fusor and the decoders, and
only their parameters travel in each federated round.

The latents equal the live encoder outputs exactly (the encoders have no dropout and
:func:`with_latents` runs them in eval mode), so a model trained this way is an ordinary
:class:`~utt.nets.model.TwinNet` with the reused encoders in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, get_args

import torch

from utt.data.windows import EncodedWindows
from utt.functions import Function
from utt.nets.model import TwinNet

__all__ = [
    "CONTROL_PREFIX",
    "REUSE_MODES",
    "ReuseMode",
    "encoder_state",
    "freeze_encoders",
    "frozen_prefixes",
    "full_state",
    "initial_controls",
    "is_frozen",
    "trainable_state",
    "uses_frozen_encoders",
    "with_latents",
]


#: ``auto`` freezes the sources' encoders for merges only: on the benchmark areas that is
#: where it paid (docs/utt.md, Benchmarks); a split, whose single source encoder is a small
#: part of its cost, validated better fine-tuned.
ReuseMode = Literal["auto", "frozen", "finetune"]
REUSE_MODES: tuple[str, ...] = get_args(ReuseMode)


def uses_frozen_encoders(function: Function, mode: str) -> bool:
    """Whether a ``function`` run in reuse ``mode`` freezes its sources' encoders."""
    if mode not in REUSE_MODES:
        raise ValueError(f"unknown reuse mode {mode!r}; expected one of {REUSE_MODES}")
    if function.kind == "identity":
        return False  # a modality twin's own model has nothing to build on
    return mode == "frozen" or (mode == "auto" and function.kind == "merge")


#: State-dict prefix of the drift-correction controls that travel with the model.
CONTROL_PREFIX = "control."


def initial_controls(model: TwinNet, frozen: Iterable[str] = ()) -> dict[str, torch.Tensor]:
    """Zero controls, one per parameter of ``model`` outside the ``frozen`` encoders."""
    return {
        CONTROL_PREFIX + k: torch.zeros_like(p.detach())
        for k, p in model.named_parameters()
        if p.requires_grad and not is_frozen(k, frozen)
    }


def full_state(model: TwinNet, trained: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``model``'s state with the ``trained`` entries in place (controls dropped).

    ``model`` holds the frozen encoders the run started from; ``trained`` is what the
    federated run returned (trainable entries, and controls when drift correction ran).
    """
    own = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for k, v in trained.items():
        if k.startswith(CONTROL_PREFIX):
            continue
        if k not in own:
            raise KeyError(f"unknown entry {k!r}")
        own[k] = v.clone()
    return own


def frozen_prefixes(modalities: Iterable[str]) -> tuple[str, ...]:
    """State-dict prefixes of the encoders of ``modalities``."""
    return tuple(f"encoders.{m}." for m in modalities)


def is_frozen(name: str, modalities: Iterable[str]) -> bool:
    """Whether parameter ``name`` belongs to a frozen encoder."""
    return name.startswith(frozen_prefixes(modalities))


def freeze_encoders(model: TwinNet, modalities: Sequence[str]) -> list[str]:
    """Stop gradients into the encoders of ``modalities``; returns the frozen names."""
    missing = [m for m in modalities if m not in model.encoders]
    if missing:
        raise ValueError(f"model has no encoder for {missing}")
    names = []
    for name, p in model.named_parameters():
        if is_frozen(name, modalities):
            p.requires_grad_(False)
            names.append(name)
    return names


def encoder_state(
    state: Mapping[str, torch.Tensor], modalities: Iterable[str]
) -> dict[str, torch.Tensor]:
    """The entries of ``state`` that belong to the encoders of ``modalities``."""
    prefixes = frozen_prefixes(modalities)
    return {k: v for k, v in state.items() if k.startswith(prefixes)}


def trainable_state(
    state: Mapping[str, torch.Tensor], modalities: Iterable[str]
) -> dict[str, torch.Tensor]:
    """The entries of ``state`` outside the frozen encoders: what a round trains and sends."""
    prefixes = frozen_prefixes(modalities)
    return {k: v for k, v in state.items() if not k.startswith(prefixes)}


def with_latents(
    model: TwinNet, data: EncodedWindows, modalities: Sequence[str], batch_size: int = 512
) -> EncodedWindows:
    """``data`` plus the latents of ``modalities`` from ``model``'s (frozen) encoders.

    Source inputs of those modalities are dropped from the result unless a target needs
    them (the loss reads targets), since nothing reads them any more.
    """
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {m: [] for m in modalities}
    with torch.no_grad():
        for b in data.batches(batch_size):
            for m, z in model.encode(b.x, b.mask, modalities).items():
                parts[m].append(z)
    latents = {m: torch.cat(v) if v else _empty(model, m) for m, v in parts.items()}
    keep = set(model.targets) | (set(model.sources) - set(modalities))
    return EncodedWindows(
        {k: v for k, v in data.x.items() if k in keep},
        {k: v for k, v in data.mask.items() if k in keep},
        {**data.latents, **latents},
    )


def _empty(model: TwinNet, m: str) -> torch.Tensor:
    return torch.zeros(0, model.cfg.latent_length, model.cfg.d_model)
