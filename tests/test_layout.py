"""The repository layout is part of the design: each top-level folder is one concern."""

from __future__ import annotations

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_top_level_folders_exist() -> None:
    for folder in (
        "models/sdf",
        "models/shacl",
        "proto",
        "server",
        "adapters",
        "utt",
        "conformance",
        "tests",
        "bench",
        "docs",
        ".ci",
    ):
        assert (ROOT / folder).is_dir(), folder


def test_top_level_packages_import() -> None:
    for name in ("server", "adapters", "utt", "conformance", "server.modeling"):
        assert importlib.import_module(name).__name__ == name
