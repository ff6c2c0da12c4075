"""utt.federated.transport.gloo: real client processes on 127.0.0.1."""

from __future__ import annotations

import pytest
import torch

from tests.utt.federated.fakes import ShiftClient, ShiftFactory
from utt.federated.messages import Instruction
from utt.federated.params import payload_bytes
from utt.federated.strategies import FedAvg
from utt.federated.transport.base import TransportError, message_bytes
from utt.federated.transport.gloo import GlooTransport
from utt.federated.transport.inproc import InProcessTransport


def test_fedavg_over_three_processes_matches_in_process() -> None:
    start = {"w": torch.zeros(2), "steps": torch.tensor(0)}
    with GlooTransport(ShiftFactory(), 3, timeout_s=120) as gloo:
        assert gloo.num_clients == 3
        moments = gloo.send(Instruction("moments"))
        assert [r.payload for r in moments] == [{"index": 0}, {"index": 1}, {"index": 2}]
        over_gloo = FedAvg().run(gloo, start, 2)
        down, up = gloo.traffic.snapshot()
    inproc = InProcessTransport([ShiftClient(i) for i in range(3)])
    in_process = FedAvg().run(inproc, start, 2)
    # Clients add 1, 2, 3 with weights 1, 2, 3: +14/6 per round, in both transports.
    torch.testing.assert_close(over_gloo.state["w"], torch.full((2,), 2 * 14 / 6))
    torch.testing.assert_close(over_gloo.state["w"], in_process.state["w"])
    assert over_gloo.state["steps"].item() == 2
    assert over_gloo.val_curve == pytest.approx(in_process.val_curve)
    # Per fit: the model (2 float32) to each of 3 clients and back; every evaluate sends it
    # down again. Headers are pickled control messages.
    model = payload_bytes(start)
    assert model == 8
    fits, evals = 2, 3
    header_fit = message_bytes(("fit", {"round": 1}, True, {"steps": torch.tensor(0)}))
    assert down >= 3 * (fits * (model + header_fit) + evals * model)
    assert up >= 3 * fits * model
    assert over_gloo.bytes_total == sum(r.bytes_down + r.bytes_up for r in over_gloo.rounds)


def test_a_failing_client_is_reported_not_hung() -> None:
    start = {"w": torch.zeros(2), "steps": torch.tensor(0)}
    with GlooTransport(ShiftFactory(fail=True), 2, timeout_s=60) as gloo:
        with pytest.raises(TransportError, match="client 1 failed: RuntimeError: disk full"):
            gloo.send(Instruction("fit", {}, start))
        # The group survives: the other instructions still work.
        assert len(gloo.send(Instruction("moments"))) == 2
    with pytest.raises(TransportError):
        gloo.send(Instruction("moments"))


@pytest.mark.slow
def test_area_clients_train_the_same_over_gloo_and_in_process(root, tiny_net, tiny_window) -> None:  # type: ignore[no-untyped-def]
    """Real local-area twins in their own processes reproduce the in-process run."""
    from utt.data.splits import build_areas
    from utt.federated.client import AreaClient, AreaClientFactory, ModelSpec
    from utt.federated.fit import federated_normalizer
    from utt.functions import MERGE
    from utt.training import TrainConfig

    spec = ModelSpec(tiny_net, (MERGE,), "gating")
    torch.manual_seed(0)
    start = spec.build().state_dict()
    cfg = TrainConfig(epochs=1, lr=3e-3)
    with GlooTransport(AreaClientFactory(root, spec, None, tiny_window, cfg), 3) as gloo:
        federated_normalizer(gloo)
        remote = FedAvg({"epochs": 1}).run(gloo, start, 2)
    local_clients = [AreaClient(a, spec, None, cfg) for a in build_areas(root, window=tiny_window)]
    inproc = InProcessTransport(local_clients)
    federated_normalizer(inproc)
    local = FedAvg({"epochs": 1}).run(inproc, start, 2)
    assert remote.val_curve == pytest.approx(local.val_curve, rel=1e-4)
    for k, v in local.state.items():
        torch.testing.assert_close(remote.state[k], v, rtol=1e-4, atol=1e-5)


def test_one_gloo_group_per_process() -> None:
    with GlooTransport(ShiftFactory(), 1, timeout_s=60) as gloo:
        with pytest.raises(TransportError, match="already active"):
            GlooTransport(ShiftFactory(), 1)
        assert len(gloo.send(Instruction("moments"))) == 1
