"""Shared fixtures for the UTT tests: one small generated dataset, tiny networks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from utt.data.generator import GeneratedDataset, GeneratorConfig, generate
from utt.data.splits import WindowConfig
from utt.nets.config import NetConfig

# One thread: these tests share two cores with other work (see utt.runtime).
torch.set_num_threads(1)

TINY_NET = NetConfig(window=10, d_model=16, layers=1, heads=2)
TINY_WINDOW = WindowConfig(length=10, stride=5, eval_stride=5)


@pytest.fixture(scope="session")
def tiny_net() -> NetConfig:
    """A network small enough to train in a second."""
    return TINY_NET


@pytest.fixture(scope="session")
def tiny_window() -> WindowConfig:
    """Windows of one second."""
    return TINY_WINDOW


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    """Three areas of three 12-second sequences each, raw streams included."""
    root = tmp_path_factory.mktemp("vifi")
    return generate(root, GeneratorConfig(areas=3, sequences_per_area=3, duration_s=12.0, seed=7))


@pytest.fixture(scope="session")
def root(dataset: GeneratedDataset) -> Path:
    """Root folder of :func:`dataset`."""
    return dataset.root
