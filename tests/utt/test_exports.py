"""The public API is what ``__all__`` reaches, in every ``utt`` module."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import utt

MODULES = ["utt"] + [
    m.name for m in pkgutil.walk_packages(utt.__path__, "utt.") if not m.name.endswith("__main__")
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_resolve_once(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert getattr(module, attr) is not None, attr


def test_top_level_api_is_lazy_and_complete() -> None:
    assert set(utt.__all__) <= set(dir(utt))
    assert utt.transfer.__module__ == "utt.ops"
    with pytest.raises(AttributeError):
        utt.no_such_thing  # noqa: B018
