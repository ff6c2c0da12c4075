"""utt.runtime: threads and seeds."""

from __future__ import annotations

import torch

from utt.runtime import auto_threads, configure


def test_configure_sets_threads_and_restores() -> None:
    before = torch.get_num_threads()
    try:
        assert configure(1) == 1
        assert torch.get_num_threads() == 1
        assert 1 <= auto_threads() <= 2
    finally:
        torch.set_num_threads(before)


def test_seed_makes_draws_repeatable() -> None:
    before = torch.get_num_threads()
    configure(before, seed=3)
    a = torch.rand(4)
    configure(before, seed=3)
    assert torch.equal(a, torch.rand(4))
