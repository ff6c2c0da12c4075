"""utt.federated.aggregate against hand-computed values (Reddi et al. 2021, Algorithm 2)."""

from __future__ import annotations

import math

import pytest
import torch

from utt.federated.aggregate import (
    fedadagrad_step,
    fedadam_step,
    fedyogi_step,
    initial_moments,
    pseudo_gradient,
    weighted_average,
)


def _sd(w: float, counter: int = 0) -> dict[str, torch.Tensor]:
    return {"w": torch.tensor([w], dtype=torch.float64), "n": torch.tensor(counter)}


def test_fedavg_weights_by_example_count() -> None:
    # (2 * 1 + 4 * 3) / 4 = 3.5
    avg = weighted_average([(_sd(2.0, 7), 1), (_sd(4.0, 9), 3)])
    assert avg["w"].item() == 3.5
    assert avg["n"].item() == 7  # non-float entries come from the first client
    f32 = weighted_average([({"w": torch.tensor([1.0])}, 1), ({"w": torch.tensor([2.0])}, 1)])
    assert f32["w"].dtype == torch.float32 and f32["w"].item() == 1.5


def test_fedavg_rejects_empty_and_zero_weights() -> None:
    with pytest.raises(ValueError):
        weighted_average([])
    with pytest.raises(ValueError):
        weighted_average([(_sd(1.0), 0)])


def test_pseudo_gradient_is_average_minus_current() -> None:
    delta = pseudo_gradient(_sd(1.0), _sd(3.5))
    assert set(delta) == {"w"} and delta["w"].item() == 2.5


def test_fedadam_step_by_hand() -> None:
    # x = 1, delta = 2.5, eta = 0.1, beta1 = 0.9, beta2 = 0.99, tau = 1e-3, v_-1 = tau^2.
    # m = 0.1 * 2.5 = 0.25
    # v = 0.99 * 1e-6 + 0.01 * 6.25 = 0.06250099
    # x' = 1 + 0.1 * 0.25 / (sqrt(0.06250099) + 1e-3)
    x = _sd(1.0)
    moments = initial_moments(x, 1e-3)
    new, (m, v) = fedadam_step(
        x,
        {"w": torch.tensor([2.5], dtype=torch.float64)},
        moments,
        eta=0.1,
        beta1=0.9,
        beta2=0.99,
        tau=1e-3,
    )
    assert m["w"].item() == pytest.approx(0.25)
    assert v["w"].item() == pytest.approx(0.06250099)
    assert new["w"].item() == pytest.approx(1 + 0.025 / (math.sqrt(0.06250099) + 1e-3))
    assert new["w"].item() == pytest.approx(1.0996008, abs=1e-7)


def test_fedyogi_step_by_hand() -> None:
    # Second round from m = 0.25, v = 0.0625, delta = -1:
    # m = 0.9 * 0.25 + 0.1 * -1 = 0.125
    # v = 0.0625 - 0.01 * 1 * sign(0.0625 - 1) = 0.0725   (Yogi grows v additively)
    # x' = 2 + 0.1 * 0.125 / (sqrt(0.0725) + 1e-3)
    x = _sd(2.0)
    moments = initial_moments(x, 1e-3)
    moments.m["w"].fill_(0.25)
    moments.v["w"].fill_(0.0625)
    new, (m, v) = fedyogi_step(
        x,
        {"w": torch.tensor([-1.0], dtype=torch.float64)},
        moments,
        eta=0.1,
        beta1=0.9,
        beta2=0.99,
        tau=1e-3,
    )
    assert m["w"].item() == pytest.approx(0.125)
    assert v["w"].item() == pytest.approx(0.0725)
    assert new["w"].item() == pytest.approx(2 + 0.0125 / (math.sqrt(0.0725) + 1e-3))


def test_fedadam_and_fedyogi_differ_when_v_exceeds_delta_squared() -> None:
    # v = 1 > delta^2 = 0.01: Adam decays v towards delta^2, Yogi shrinks it additively.
    x = _sd(0.0)
    moments = initial_moments(x, 1e-3)
    moments.v["w"].fill_(1.0)
    d = {"w": torch.tensor([0.1], dtype=torch.float64)}
    _, (_, v_adam) = fedadam_step(x, d, moments, eta=0.1)
    _, (_, v_yogi) = fedyogi_step(x, d, moments, eta=0.1)
    assert v_adam["w"].item() == pytest.approx(0.99 * 1.0 + 0.01 * 0.01)  # 0.9901
    assert v_yogi["w"].item() == pytest.approx(1.0 - 0.01 * 0.01)  # 0.9999


def test_fedadagrad_step_by_hand() -> None:
    # beta1 = 0: m = delta = 2; v = tau^2 + 4; x' = 1 + 0.5 * 2 / (sqrt(4 + 1e-6) + 1e-3)
    x = _sd(1.0)
    new, (m, v) = fedadagrad_step(
        x,
        {"w": torch.tensor([2.0], dtype=torch.float64)},
        initial_moments(x, 1e-3),
        eta=0.5,
        tau=1e-3,
    )
    assert m["w"].item() == 2.0
    assert v["w"].item() == pytest.approx(4.000001)
    assert new["w"].item() == pytest.approx(1 + 1.0 / (math.sqrt(4.000001) + 1e-3))


def test_functions_are_pure() -> None:
    x = _sd(1.0)
    moments = initial_moments(x, 1e-3)
    d = {"w": torch.tensor([2.5], dtype=torch.float64)}
    fedadam_step(x, d, moments, eta=0.1)
    assert x["w"].item() == 1.0 and moments.m["w"].item() == 0.0
    assert moments.v["w"].item() == pytest.approx(1e-6)


def test_fedavgm_by_hand() -> None:
    from utt.federated.aggregate import fedavgm_step

    x = {"w": torch.tensor([1.0], dtype=torch.float64), "n": torch.tensor(3)}
    # Round 1: m = delta = 0.5; x = 1 + 2 * 0.5 = 2.
    x1, m1 = fedavgm_step(x, {"w": torch.tensor([0.5], dtype=torch.float64)}, None, eta=2.0)
    assert x1["w"].item() == 2.0 and m1["w"].item() == 0.5 and x1["n"].item() == 3
    # Round 2: m = 0.9 * 0.5 - 1 = -0.55; x = 2 + 2 * -0.55 = 0.9.
    x2, m2 = fedavgm_step(
        x1, {"w": torch.tensor([-1.0], dtype=torch.float64)}, m1, eta=2.0, beta=0.9
    )
    assert m2["w"].item() == pytest.approx(-0.55) and x2["w"].item() == pytest.approx(0.9)
    # eta 1, beta 0 is FedAvg: the average itself.
    x3, _ = fedavgm_step(x, {"w": torch.tensor([0.25], dtype=torch.float64)}, None, beta=0.0)
    assert x3["w"].item() == 1.25
