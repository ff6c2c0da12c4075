"""utt.metrics: NMSE from sums, by hand."""

from __future__ import annotations

import math

import torch

from utt.metrics import ErrorSums, combine, nmse, total


def test_sums_over_masked_frames_by_hand() -> None:
    # Two frames of two features; the second frame is masked out.
    pred = torch.tensor([[[1.0, 2.0], [9.0, 9.0]]])
    target = torch.tensor([[[0.0, 4.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, False]])
    s = ErrorSums.of(pred, target, mask)
    assert s.sse == 1.0 + 4.0
    assert s.sst == 0.0 + 16.0
    assert s.count == 2
    assert s.nmse == 5.0 / 16.0
    assert nmse(pred, target, mask) == 5.0 / 16.0


def test_sums_add_so_areas_combine_exactly() -> None:
    a, b = ErrorSums(1.0, 4.0, 2), ErrorSums(3.0, 4.0, 2)
    assert (a + b).nmse == 0.5
    merged = combine([{"f|x": a}, {"f|x": b, "g|y": a}])
    assert merged["f|x"] == ErrorSums(4.0, 8.0, 4)
    assert total(merged).sse == 5.0
    assert total(merged, "g|").nmse == 0.25


def test_empty_sums_are_nan() -> None:
    assert math.isnan(ErrorSums().nmse)
