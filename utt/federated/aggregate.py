"""Server-side aggregation maths as pure functions over state dicts.

``weighted_average`` is FedAvg (McMahan et al. 2017): the example-weighted mean of client
models. The adaptive rules follow Reddi et al. 2021, "Adaptive Federated Optimization"
(ICLR), Algorithm 2: the server treats the pseudo-gradient

    delta_t = weighted_average(client models) - x_t

as a gradient and takes one optimizer step on it:

    m_t = beta1 * m_{t-1} + (1 - beta1) * delta_t
    v_t = v_{t-1} + delta_t^2                                            (FedAdagrad)
    v_t = beta2 * v_{t-1} + (1 - beta2) * delta_t^2                      (FedAdam)
    v_t = v_{t-1} - (1 - beta2) * delta_t^2 * sign(v_{t-1} - delta_t^2)  (FedYogi)
    x_{t+1} = x_t + eta * m_t / (sqrt(v_t) + tau)

FedAvgM (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution for
Federated Visual Classification") is the same scheme with SGD with momentum on the server:

    m_t = beta * m_{t-1} + delta_t,   x_{t+1} = x_t + eta * m_t

(``eta = 1``, ``beta = 0`` is plain FedAvg).

with m_{-1} = 0 and v_{-1} = tau^2 (the paper asks for v_{-1} >= tau^2; it uses no bias
correction). Only floating-point entries are aggregated; other entries (counters) are taken
from the first client. All arithmetic runs in float64 and is cast back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch

__all__ = [
    "Moments",
    "StateDict",
    "fedadagrad_step",
    "fedadam_step",
    "fedavgm_step",
    "fedyogi_step",
    "initial_moments",
    "pseudo_gradient",
    "weighted_average",
]

StateDict = Mapping[str, torch.Tensor]


class Moments(NamedTuple):
    """First and second moment estimates of the server optimizer."""

    m: dict[str, torch.Tensor]
    v: dict[str, torch.Tensor]


def _float(t: torch.Tensor) -> bool:
    return t.is_floating_point()


def weighted_average(results: Sequence[tuple[StateDict, int]]) -> dict[str, torch.Tensor]:
    """Mean of the states weighted by their example counts (FedAvg)."""
    if not results:
        raise ValueError("nothing to aggregate")
    total = sum(n for _, n in results)
    if total <= 0:
        raise ValueError("example counts must add up to more than zero")
    first = results[0][0]
    out = {}
    for key, ref in first.items():
        if _float(ref):
            acc = torch.zeros_like(ref, dtype=torch.float64)
            for state, n in results:
                acc += state[key].to(torch.float64) * n
            out[key] = (acc / total).to(ref.dtype)
        else:
            out[key] = ref.clone()
    return out


def pseudo_gradient(current: StateDict, average: StateDict) -> dict[str, torch.Tensor]:
    """``average - current`` for each floating-point entry, in float64."""
    return {
        k: average[k].to(torch.float64) - v.to(torch.float64)
        for k, v in current.items()
        if _float(v)
    }


def initial_moments(current: StateDict, tau: float) -> Moments:
    """m = 0 and v = tau^2 shaped like the floating-point entries of ``current``."""
    m = {k: torch.zeros_like(v, dtype=torch.float64) for k, v in current.items() if _float(v)}
    v = {k: torch.full_like(t, tau**2) for k, t in m.items()}
    return Moments(m, v)


def _apply(
    current: StateDict,
    m: dict[str, torch.Tensor],
    v: dict[str, torch.Tensor],
    eta: float,
    tau: float,
) -> dict[str, torch.Tensor]:
    return _step(current, {k: eta * mk / (v[k].sqrt() + tau) for k, mk in m.items()})


def _step(current: StateDict, steps: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``current`` plus the float64 ``steps``, cast back; entries without a step copied."""
    out = {}
    for k, x in current.items():
        if k in steps:
            out[k] = (x.to(torch.float64) + steps[k]).to(x.dtype)
        else:
            out[k] = x.clone()
    return out


def _first_moment(
    prev: Moments, delta: Mapping[str, torch.Tensor], beta1: float
) -> dict[str, torch.Tensor]:
    return {k: beta1 * prev.m[k] + (1 - beta1) * d for k, d in delta.items()}


def fedadagrad_step(
    current: StateDict,
    delta: Mapping[str, torch.Tensor],
    moments: Moments,
    *,
    eta: float,
    beta1: float = 0.0,
    tau: float = 1e-3,
) -> tuple[dict[str, torch.Tensor], Moments]:
    """One FedAdagrad server step; returns the new state and moments."""
    m = _first_moment(moments, delta, beta1)
    v = {k: moments.v[k] + d**2 for k, d in delta.items()}
    return _apply(current, m, v, eta, tau), Moments(m, v)


def fedadam_step(
    current: StateDict,
    delta: Mapping[str, torch.Tensor],
    moments: Moments,
    *,
    eta: float,
    beta1: float = 0.9,
    beta2: float = 0.99,
    tau: float = 1e-3,
) -> tuple[dict[str, torch.Tensor], Moments]:
    """One FedAdam server step; returns the new state and moments."""
    m = _first_moment(moments, delta, beta1)
    v = {k: beta2 * moments.v[k] + (1 - beta2) * d**2 for k, d in delta.items()}
    return _apply(current, m, v, eta, tau), Moments(m, v)


def fedyogi_step(
    current: StateDict,
    delta: Mapping[str, torch.Tensor],
    moments: Moments,
    *,
    eta: float,
    beta1: float = 0.9,
    beta2: float = 0.99,
    tau: float = 1e-3,
) -> tuple[dict[str, torch.Tensor], Moments]:
    """One FedYogi server step; returns the new state and moments."""
    m = _first_moment(moments, delta, beta1)
    v = {
        k: moments.v[k] - (1 - beta2) * d**2 * torch.sign(moments.v[k] - d**2)
        for k, d in delta.items()
    }
    return _apply(current, m, v, eta, tau), Moments(m, v)


def fedavgm_step(
    current: StateDict,
    delta: Mapping[str, torch.Tensor],
    momentum: Mapping[str, torch.Tensor] | None,
    *,
    eta: float = 1.0,
    beta: float = 0.9,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """One FedAvgM server step; returns the new state and momentum (``None``: zeros)."""
    m = {k: d if momentum is None else beta * momentum[k] + d for k, d in delta.items()}
    return _step(current, {k: eta * mk for k, mk in m.items()}), m
