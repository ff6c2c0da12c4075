"""Process-wide settings for repeatable runs: thread count and seeds."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["DEFAULT_THREADS", "configure", "seed_all"]

# The project's machines have two cores; more threads only add contention.
DEFAULT_THREADS = 2


def seed_all(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def configure(threads: int = DEFAULT_THREADS, seed: int | None = None) -> None:
    """Set torch's intra-op threads and, when given, every global seed."""
    torch.set_num_threads(max(1, threads))
    if seed is not None:
        seed_all(seed)
