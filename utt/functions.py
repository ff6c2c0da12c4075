"""Twin transformation functions: transfer (A to B), merge (A + B to C), split (A to B + C).

A function is fully described by its source and target modalities. The evaluation uses all
six transfers between the three modalities, one merge and one split; ``MERGE`` and ``SPLIT``
are the defaults the operations use when the caller names no other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from utt.modalities import MODALITY_NAMES

__all__ = [
    "DEFAULT_FUNCTIONS",
    "MERGE",
    "SPLIT",
    "Function",
    "FunctionKind",
    "merge",
    "split",
    "transfer",
    "transfers",
]

FunctionKind = Literal["transfer", "merge", "split", "identity"]


@dataclass(frozen=True)
class Function:
    """A mapping from source modalities to target modalities.

    ``identity`` is the reconstruction a base twin learns on its own modality; the three
    transformation kinds are checked for their arity on construction.
    """

    kind: FunctionKind
    sources: tuple[str, ...]
    targets: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in (*self.sources, *self.targets):
            if name not in MODALITY_NAMES:
                raise ValueError(f"unknown modality {name!r}; expected one of {MODALITY_NAMES}")
        arity = {"transfer": (1, 1), "merge": (2, 1), "split": (1, 2), "identity": (1, 1)}
        want = arity[self.kind]
        if (len(self.sources), len(self.targets)) != want:
            raise ValueError(f"{self.kind} takes {want[0]} source(s) and {want[1]} target(s)")
        if len(set(self.sources)) != len(self.sources) or len(set(self.targets)) != len(
            self.targets
        ):
            raise ValueError("a modality may appear once per side")
        if self.kind == "identity":
            if self.sources != self.targets:
                raise ValueError("identity maps a modality onto itself")
        elif set(self.sources) & set(self.targets):
            raise ValueError(f"{self.kind} must not map a modality onto itself")

    @property
    def name(self) -> str:
        """Stable key such as ``merge:vision+wireless->sensory``."""
        return f"{self.kind}:{'+'.join(self.sources)}->{'+'.join(self.targets)}"

    @classmethod
    def parse(cls, name: str) -> Function:
        """Inverse of :attr:`name`."""
        kind, _, body = name.partition(":")
        left, arrow, right = body.partition("->")
        if kind not in ("transfer", "merge", "split", "identity") or not arrow:
            raise ValueError(f"not a function name: {name!r}")
        return cls(kind, tuple(left.split("+")), tuple(right.split("+")))  # type: ignore[arg-type]


def transfer(source: str, target: str) -> Function:
    """Transfer twin ``source`` into a new twin for ``target``."""
    return Function("transfer", (source,), (target,))


def merge(a: str, b: str, target: str) -> Function:
    """Merge twins ``a`` and ``b`` into a new twin for ``target``."""
    return Function("merge", (a, b), (target,))


def split(source: str, b: str, c: str) -> Function:
    """Split twin ``source`` into new twins for ``b`` and ``c``."""
    return Function("split", (source,), (b, c))


def transfers() -> tuple[Function, ...]:
    """All six transfer directions between the three modalities."""
    return tuple(transfer(a, b) for a, b in itertools.permutations(MODALITY_NAMES, 2))


# Trajectory and tracking twins merged into a position twin: the camera gives the distance,
# the phone's heading tells when the walker's body blocks the access point (FTM's biggest
# error), so fusion has something to add. The trajectory twin split into position and
# tracking twins.
MERGE = merge("vision", "sensory", "wireless")
SPLIT = split("vision", "wireless", "sensory")

DEFAULT_FUNCTIONS: tuple[Function, ...] = (*transfers(), MERGE, SPLIT)
