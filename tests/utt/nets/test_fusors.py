"""utt.nets.fusors: each fusor's arithmetic on small tensors."""

from __future__ import annotations

import pytest
import torch

from utt.nets.fusors import FUSOR_NAMES, ConcatFusor, GatingFusor, make_fusor

A = torch.tensor([[[1.0, -2.0]]])
B = torch.tensor([[[3.0, 4.0]]])
Q = torch.tensor([[[-1.0, 0.5]]])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("add", [[[3.0, 2.5]]]),
        ("average", [[[1.0, 2.5 / 3]]]),
        ("multiply", [[[-3.0, -4.0]]]),
        ("max", [[[3.0, 4.0]]]),
        ("min", [[[-1.0, -2.0]]]),
    ],
)
def test_element_wise_fusors_by_hand(name: str, expected: list[list[list[float]]]) -> None:
    fusor = make_fusor(name, 2, 4, 1)
    torch.testing.assert_close(fusor([A, B, Q], [0, 1, 3]), torch.tensor(expected))


def test_concat_is_a_projection_of_the_slot_concatenation() -> None:
    torch.manual_seed(0)
    fusor = make_fusor("concat", 2, 4, 1)
    assert isinstance(fusor, ConcatFusor)
    weight = torch.cat([p.weight for p in fusor.proj], dim=1)  # (2, 4 slots * 2)
    # Inputs in slots 0 and 3; slots 1 and 2 are absent, i.e. zeros in the concatenation.
    stacked = torch.cat([A, torch.zeros_like(A), torch.zeros_like(A), Q], dim=-1)
    expected = stacked @ weight.T + fusor.bias
    torch.testing.assert_close(fusor([A, Q], [0, 3]), expected)


def test_gating_is_a_sigmoid_gated_weighted_sum() -> None:
    torch.manual_seed(0)
    fusor = make_fusor("gating", 2, 4, 1)
    assert isinstance(fusor, GatingFusor)
    with torch.no_grad():
        fusor.weight.copy_(torch.tensor([2.0, 0.0, 0.0, -1.0]))
    s = 2.0 * A - 1.0 * Q
    expected = torch.sigmoid(fusor.gate(s)) * s
    torch.testing.assert_close(fusor([A, Q], [0, 3]), expected)


def test_attention_mixes_inputs_and_tells_slots_apart() -> None:
    torch.manual_seed(0)
    fusor = make_fusor("attention", 4, 4, 2)
    x, q = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    out = fusor([x, q], [0, 3])
    assert out.shape == (2, 3, 4)
    assert not torch.allclose(out, fusor([x, q], [1, 3]))


@pytest.mark.parametrize("name", FUSOR_NAMES)
def test_every_fusor_keeps_the_latent_shape_and_passes_gradients(name: str) -> None:
    fusor = make_fusor(name, 8, 4, 2)
    xs = [torch.randn(3, 5, 8, requires_grad=True) for _ in range(3)]
    out = fusor(xs, [0, 2, 3])
    assert out.shape == (3, 5, 8)
    out.sum().backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in xs)


def test_eight_fusors_and_unknown_names() -> None:
    assert len(FUSOR_NAMES) == 8
    with pytest.raises(ValueError, match="gating"):
        make_fusor("median", 2, 4, 1)
