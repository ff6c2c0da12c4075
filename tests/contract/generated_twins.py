"""Random twin documents for differential search tests (value index against evaluators).

Small key and value sets, so that generated filters match some twins, not none; the same
generator feeds the store contract suite and the value-index unit tests.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["COMMON", "KEYS", "SCALARS", "random_doc", "random_scalar", "random_value"]

KEYS = ["a", "b", "k"]
SCALARS: list[Any] = [0, 1, 1.0, -2, 2.5, "", "a", "A", "ab", "b", "1", True, False, None]
COMMON: list[Any] = [1, "a", "ab", True, None, 2.5]
"""Drawn more often, so that generated filters match some twins, not none."""


def random_scalar(rng: random.Random) -> Any:
    return rng.choice(COMMON if rng.random() < 0.6 else SCALARS)


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return {k: random_value(rng, depth + 1) for k in rng.sample(KEYS, rng.randint(0, 2))}
    if depth < 3 and roll < 0.4:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return random_scalar(rng)


def random_doc(rng: random.Random, min_features: int = 0) -> dict[str, Any]:
    """``attributes`` (1-3 keys) and, when drawn, ``features`` ``f``/``g`` (at least
    ``min_features`` of them)."""
    doc: dict[str, Any] = {
        "attributes": {k: random_value(rng, 0) for k in rng.sample(KEYS, rng.randint(1, 3))}
    }
    features = {
        fid: {"properties": {k: random_value(rng, 1) for k in rng.sample(KEYS, rng.randint(0, 2))}}
        for fid in rng.sample(["f", "g"], rng.randint(min_features, 2))
    }
    if features:
        doc["features"] = features
    return doc
