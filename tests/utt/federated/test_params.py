"""utt.federated.params: the wire form of a model."""

from __future__ import annotations

import pytest
import torch

from utt.federated.params import flatten, payload_bytes, unflatten


def test_round_trip_keeps_shapes_dtypes_and_counters() -> None:
    state = {
        "a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "steps": torch.tensor(5),
        "b": torch.tensor([0.5], dtype=torch.float64),
    }
    flat = flatten(state)
    assert flat.dtype == torch.float32 and flat.tolist() == [0, 1, 2, 3, 4, 5, 0.5]
    back = unflatten(flat, state)
    assert back["a"].shape == (2, 3) and back["b"].dtype == torch.float64
    assert back["steps"].item() == 5
    assert payload_bytes(state) == 4 * 7
    assert payload_bytes(None) == 0
    with pytest.raises(ValueError):
        unflatten(torch.zeros(3), state)
