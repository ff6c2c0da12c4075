"""utt.federated.strategy and strategies: the round loop and each strategy's step."""

from __future__ import annotations

import pytest
import torch

from tests.utt.federated.fakes import ShiftClient
from utt.federated.aggregate import fedadam_step, initial_moments, pseudo_gradient, weighted_average
from utt.federated.strategies import (
    STRATEGIES,
    FedAdam,
    FedAvg,
    FedAvgM,
    FedYogi,
    make_strategy,
)
from utt.federated.transport.inproc import InProcessTransport
from utt.progress import CancelToken, OperationCancelled, ProgressEvent


def _transport() -> InProcessTransport:
    return InProcessTransport([ShiftClient(0), ShiftClient(1), ShiftClient(2)])


def _start() -> dict[str, torch.Tensor]:
    return {"w": torch.zeros(2), "steps": torch.tensor(0)}


def test_fedavg_rounds_by_hand() -> None:
    # Clients add 1, 2, 3 and hold 1, 2, 3 examples: the weighted mean adds 14/6 per round.
    events: list[ProgressEvent] = []
    history = FedAvg({"epochs": 1}).run(_transport(), _start(), 3, progress=events.append)
    assert len(history.rounds) == 4
    torch.testing.assert_close(history.state["w"], torch.full((2,), 3 * 14 / 6))
    assert history.state["steps"].item() == 3
    # Round 0 evaluates the start: (0 - 10)^2 / 100 per weight.
    assert history.rounds[0].val_nmse == pytest.approx(1.0)
    expected = [((10 - k * 14 / 6) ** 2) / 100 for k in range(4)]
    assert history.val_curve == pytest.approx(expected, rel=1e-5)
    assert history.best_round == 3
    assert history.rounds[1].train_loss == pytest.approx((0 * 1 + 1 * 2 + 2 * 3) / 6)
    assert [e.done for e in events] == [1, 2, 3]


def test_best_state_is_kept_when_validation_worsens() -> None:
    # After round 4 the weights pass 10 (4 * 14/6 = 9.33, then 11.67): round 5 is worse.
    history = FedAvg().run(_transport(), _start(), 5)
    assert history.best_round == 4
    torch.testing.assert_close(history.best_state["w"], torch.full((2,), 4 * 14 / 6))


def test_stop_at_ends_the_run_early() -> None:
    # Validation NMSE per round: 0.588, 0.284, 0.09 -> round 3 is the first at or below 0.2.
    history = FedAvg().run(_transport(), _start(), 10, stop_at=0.2)
    assert history.stopped_early and len(history.rounds) - 1 == 3


def test_bytes_are_counted_every_round() -> None:
    history = FedAvg().run(_transport(), _start(), 2)
    # Each fit sends 2 float32 weights down to 3 clients and back (24 + 24 bytes of model).
    for r in history.rounds[1:]:
        assert r.bytes_down > 2 * 3 * 2 * 4  # fit + evaluate models, plus headers
        assert r.bytes_up > 3 * 2 * 4
    assert history.bytes_total == sum(r.bytes_down + r.bytes_up for r in history.rounds)


def test_cancel_between_rounds() -> None:
    token = CancelToken()
    calls = []

    def on_progress(e: ProgressEvent) -> None:
        calls.append(e)
        token.cancel()

    with pytest.raises(OperationCancelled):
        FedAvg().run(_transport(), _start(), 5, progress=on_progress, cancel=token)
    assert len(calls) == 1


def test_fedadam_strategy_composes_the_pure_functions() -> None:
    strategy = FedAdam(eta=0.1, beta1=0.9, beta2=0.99, tau=1e-3)
    history = strategy.run(_transport(), _start(), 2)
    # Replay by hand with the pure functions.
    x = {"w": torch.zeros(2), "steps": torch.tensor(0)}
    moments = initial_moments(x, 1e-3)
    for _ in range(2):
        clients = [({"w": x["w"] + i + 1, "steps": x["steps"] + 1}, i + 1) for i in range(3)]
        delta = pseudo_gradient(x, weighted_average(clients))
        x, moments = fedadam_step(x, delta, moments, eta=0.1, beta1=0.9, beta2=0.99, tau=1e-3)
    torch.testing.assert_close(history.state["w"], x["w"])


def test_fedavgm_carries_its_momentum_from_round_to_round() -> None:
    # Every round the clients' weighted average moves w by 14/6 (delta d). With momentum
    # kept across rounds, m_k = d (1 + beta + ... + beta^(k-1)) and w sums eta * m_k; a
    # strategy that reset its momentum each round would move by eta * d per round only.
    d, eta, beta = 14 / 6, 0.5, 0.5
    history = FedAvgM(eta=eta, beta=beta).run(_transport(), _start(), 3)
    m1, m2, m3 = d, beta * d + d, beta * (beta * d + d) + d
    torch.testing.assert_close(
        history.state["w"], torch.full((2,), eta * (m1 + m2 + m3)), rtol=1e-5, atol=1e-6
    )
    # Integer entries (counters) get no server step: the server's copy stays.
    assert history.state["steps"].item() == 0


def test_adaptive_strategies_move_less_than_fedavg_per_round() -> None:
    avg = FedAvg().run(_transport(), _start(), 1).state["w"][0].item()
    yogi = FedYogi(eta=0.01).run(_transport(), _start(), 1).state["w"][0].item()
    assert avg == pytest.approx(14 / 6)
    assert 0 < yogi < avg


def test_make_strategy() -> None:
    assert set(STRATEGIES) == {"fedavg", "fedavgm", "fedadam", "fedyogi", "fedadagrad"}
    s = make_strategy("fedyogi", {"epochs": 2}, eta=0.5)
    assert (
        isinstance(s, FedYogi) and s.eta == 0.5 and s.configure_fit(3) == {"epochs": 2, "round": 3}
    )
    with pytest.raises(ValueError):
        make_strategy("fedprox")
    with pytest.raises(ValueError):
        make_strategy("fedavg", eta=0.1)
