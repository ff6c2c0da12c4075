"""Unified Twin Transformation: build task twins from existing ones.

Transfer (A to B), merge (A + B to C) and split (A to B + C) of task-oriented twins over the
vision, wireless and sensory modalities, trained by federated learning across local-area
twins (Zhang et al., "On Transferring, Merging, and Splitting Task-Oriented Network Digital
Twins", arXiv 2509.02551). The public API is what ``__all__`` lists; names load lazily, so
``import utt`` stays cheap until a model is needed.

Layering: ``utt`` imports nothing from ``server``; services wrap :mod:`utt.ops`.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DEFAULT_FUNCTIONS",
    "FUSOR_NAMES",
    "MERGE",
    "MODALITIES",
    "SPLIT",
    "CancelToken",
    "EvalConfig",
    "Function",
    "GeneratorConfig",
    "NetConfig",
    "NewTwin",
    "OperationCancelled",
    "OperationConfig",
    "OperationResult",
    "ProgressEvent",
    "TwinRef",
    "WindowConfig",
    "build_areas",
    "create_twin",
    "generate",
    "load_dataset",
    "load_model",
    "merge",
    "predict",
    "run_evaluation",
    "split",
    "transfer",
]

_HOMES = {
    "DEFAULT_FUNCTIONS": "utt.functions",
    "FUSOR_NAMES": "utt.nets.fusors",
    "MERGE": "utt.functions",
    "MODALITIES": "utt.modalities",
    "SPLIT": "utt.functions",
    "CancelToken": "utt.progress",
    "EvalConfig": "utt.evaluation.config",
    "Function": "utt.functions",
    "GeneratorConfig": "utt.data.generator",
    "NetConfig": "utt.nets.config",
    "NewTwin": "utt.ops",
    "OperationCancelled": "utt.progress",
    "OperationConfig": "utt.ops",
    "OperationResult": "utt.ops",
    "ProgressEvent": "utt.progress",
    "TwinRef": "utt.ops",
    "WindowConfig": "utt.data.splits",
    "build_areas": "utt.data.splits",
    "create_twin": "utt.ops",
    "generate": "utt.data.generator",
    "load_dataset": "utt.data.loader",
    "load_model": "utt.artifacts",
    "merge": "utt.ops",
    "predict": "utt.ops",
    "run_evaluation": "utt.evaluation.runner",
    "split": "utt.ops",
    "transfer": "utt.ops",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'utt' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
