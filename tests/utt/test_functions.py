"""utt.functions: arity rules, names and the default function set."""

from __future__ import annotations

import pytest

from utt.functions import (
    DEFAULT_FUNCTIONS,
    MERGE,
    SPLIT,
    Function,
    merge,
    split,
    transfer,
    transfers,
)


def test_six_transfer_directions_between_three_modalities() -> None:
    pairs = {(f.sources[0], f.targets[0]) for f in transfers()}
    assert len(pairs) == 6
    assert all(a != b for a, b in pairs)


def test_default_set_is_transfers_then_merge_and_split() -> None:
    assert DEFAULT_FUNCTIONS[-2:] == (MERGE, SPLIT)
    assert MERGE.kind == "merge" and len(MERGE.sources) == 2
    assert SPLIT.kind == "split" and len(SPLIT.targets) == 2


@pytest.mark.parametrize("fn", [*DEFAULT_FUNCTIONS, Function("identity", ("vision",), ("vision",))])
def test_name_round_trips(fn: Function) -> None:
    assert Function.parse(fn.name) == fn


def test_names_read_as_documented() -> None:
    assert merge("vision", "sensory", "wireless").name == "merge:vision+sensory->wireless"
    assert split("vision", "wireless", "sensory").name == "split:vision->wireless+sensory"


@pytest.mark.parametrize(
    "build",
    [
        lambda: transfer("vision", "vision"),
        lambda: merge("vision", "vision", "sensory"),
        lambda: split("vision", "vision", "sensory"),
        lambda: merge("vision", "wireless", "vision"),
        lambda: transfer("vision", "lidar"),
        lambda: Function("transfer", ("vision", "wireless"), ("sensory",)),
        lambda: Function("identity", ("vision",), ("wireless",)),
    ],
)
def test_invalid_functions_are_rejected(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["merge", "fold:vision->wireless", "transfer:vision"])
def test_parse_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        Function.parse(bad)
