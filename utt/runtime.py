"""Process-wide settings for repeatable runs: thread count and seeds.

Thread count matters more than it seems on small shared machines. On two idle cores two
torch threads train about 1.4x faster than one (notes §4: 635 vs 462 windows/s), but when
other processes keep the cores busy, OpenMP threads spin waiting for each other and two
threads ran up to 36x *slower* than one here (22 vs 792 windows/s at a load of 6).
``threads="auto"`` therefore takes two threads only when the machine is otherwise idle.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["DEFAULT_THREADS", "auto_threads", "configure", "seed_all"]

DEFAULT_THREADS = 2


def seed_all(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def auto_threads(limit: int = DEFAULT_THREADS) -> int:
    """``limit`` threads on an idle machine, one when the 1-minute load says it is busy."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return min(limit, cores)
    return min(limit, cores) if load < 0.5 else 1


def configure(threads: int | str = "auto", seed: int | None = None) -> int:
    """Set torch's intra-op threads (a number or ``"auto"``) and, when given, every seed.

    Returns the thread count used.
    """
    n = auto_threads() if threads == "auto" else max(1, int(threads))
    torch.set_num_threads(n)
    if seed is not None:
        seed_all(seed)
    return n
