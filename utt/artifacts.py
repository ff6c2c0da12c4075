"""Model artifacts of task twins: one file per twin model, identified by its SHA-256.

A file holds the network's configuration, its functions and fusor, the normalization it
expects, free-form metadata (metrics, provenance) and the weights. It is written with
``torch.save`` and read back with ``weights_only=True``, so loading an artifact never runs
pickled code.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from utt.data.windows import Normalizer
from utt.federated.client import ModelSpec
from utt.functions import Function
from utt.nets.config import NetConfig
from utt.nets.model import TwinNet

__all__ = [
    "ARTIFACT_FORMAT",
    "LoadedModel",
    "ModelArtifact",
    "load_model",
    "save_model",
    "sha256_file",
    "submodel_state",
]

ARTIFACT_FORMAT = "ndtwin-utt-model/1"


@dataclass(frozen=True)
class ModelArtifact:
    """Where a model was written and the SHA-256 of the file's bytes."""

    path: Path
    sha256: str


@dataclass(frozen=True)
class LoadedModel:
    """A model read back from an artifact, ready for inference."""

    model: TwinNet
    spec: ModelSpec
    normalizer: Normalizer
    metadata: dict[str, Any]


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def submodel_state(state: Mapping[str, torch.Tensor], spec: ModelSpec) -> dict[str, torch.Tensor]:
    """The entries of ``state`` that a model built from ``spec`` has.

    Cuts one twin out of a multi-target model, e.g. the position twin of a split.
    """
    wanted = spec.build().state_dict().keys()
    missing = [k for k in wanted if k not in state]
    if missing:
        raise KeyError(f"state lacks {len(missing)} entries, e.g. {missing[0]}")
    return {k: state[k].detach().clone() for k in wanted}


def save_model(
    path: Path,
    spec: ModelSpec,
    state: Mapping[str, torch.Tensor],
    normalizer: Normalizer,
    metadata: Mapping[str, Any] | None = None,
) -> ModelArtifact:
    """Write one twin model; the file appears atomically (written aside, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": ARTIFACT_FORMAT,
        "net": spec.net.to_dict(),
        "functions": [f.name for f in spec.functions],
        "fusor": spec.fusor,
        "normalizer": normalizer.to_dict(),
        "metadata": dict(metadata or {}),
        "state_dict": {k: v.detach().cpu().clone() for k, v in state.items()},
    }
    tmp = path.with_name(path.name + ".part")
    torch.save(blob, tmp)
    os.replace(tmp, path)
    return ModelArtifact(path, sha256_file(path))


def load_model(path: Path) -> LoadedModel:
    """Read an artifact written by :func:`save_model`."""
    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    if blob.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"{path}: not a {ARTIFACT_FORMAT} artifact")
    spec = ModelSpec(
        NetConfig(**blob["net"]),
        tuple(Function.parse(n) for n in blob["functions"]),
        blob["fusor"],
    )
    model = spec.build()
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return LoadedModel(model, spec, Normalizer.from_dict(blob["normalizer"]), blob["metadata"])
