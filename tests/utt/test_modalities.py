"""utt.modalities: the description table."""

from __future__ import annotations

import pytest

from utt.data.layout import ARRAY_WIDTHS
from utt.modalities import MODALITIES, MODALITY_NAMES, modality


def test_each_modality_reads_an_array_of_its_width() -> None:
    for m in MODALITIES:
        assert ARRAY_WIDTHS[m.array] == m.size == len(m.units)


def test_twin_mapping_of_the_notes() -> None:
    assert [(m.name, m.array) for m in MODALITIES] == [
        ("vision", "BBX5"),
        ("wireless", "FTM_li"),
        ("sensory", "IMUagm9"),
    ]
    assert MODALITY_NAMES == ("vision", "wireless", "sensory")


def test_unknown_modality_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="vision"):
        modality("lidar")
