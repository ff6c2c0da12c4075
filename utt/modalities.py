"""The three modalities a local area offers, and the task twin built on each.

A description table in the Home Assistant style: code loops over ``MODALITIES`` instead of
special-casing a modality. The array names are those of the Vi-Fi/ViTag synchronized layout
(``RAN4model_dfv4p4``), so a modality reads the same file from real or generated data.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODALITIES", "MODALITY_NAMES", "Modality", "modality"]


@dataclass(frozen=True)
class Modality:
    """One sensing modality and the task twin that mirrors it.

    Attributes:
        name: short key used everywhere in ``utt`` (``vision``, ``wireless``, ``sensory``).
        twin: name of the task twin built on this modality.
        task: the downstream task the twin serves, scored against ground truth.
        array: array name in the synchronized layout (``<array>_sync_dfv4p4.pkl``).
        features: feature names in file order.
        units: unit of each feature.
        truth: key of the generator's ground truth the task is scored against.
    """

    name: str
    twin: str
    task: str
    array: str
    features: tuple[str, ...]
    units: tuple[str, ...]
    truth: str

    @property
    def size(self) -> int:
        """Number of features per frame."""
        return len(self.features)


_AXES = ("x", "y", "z")

MODALITIES: tuple[Modality, ...] = (
    Modality(
        name="vision",
        twin="trajectory",
        task="trajectory reconstruction",
        array="BBX5",
        features=("col", "row", "depth", "width", "height"),
        units=("px", "px", "m", "px", "px"),
        truth="BBX5",
    ),
    Modality(
        name="wireless",
        twin="position",
        task="positioning (range to the access point)",
        array="FTM_li",
        features=("range", "range_std"),
        units=("m", "m"),
        truth="range",
    ),
    Modality(
        name="sensory",
        twin="tracking",
        task="inertial data generation",
        array="IMUagm9",
        features=tuple(f"{s}_{a}" for s in ("accel", "gyro", "mag") for a in _AXES),
        units=("m/s2",) * 3 + ("rad/s",) * 3 + ("uT",) * 3,
        truth="IMUagm9",
    ),
)

MODALITY_NAMES: tuple[str, ...] = tuple(m.name for m in MODALITIES)

_BY_NAME = {m.name: m for m in MODALITIES}


def modality(name: str) -> Modality:
    """Return the modality called ``name``; raise ``KeyError`` naming the valid ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown modality {name!r}; expected one of {MODALITY_NAMES}") from None
