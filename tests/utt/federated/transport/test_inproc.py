"""utt.federated.transport.inproc: copies and byte counts."""

from __future__ import annotations

import pickle

import pytest
import torch

from tests.utt.federated.fakes import ShiftClient
from utt.federated.messages import Instruction
from utt.federated.transport.inproc import InProcessTransport


def test_send_returns_replies_in_client_order_and_counts_bytes() -> None:
    transport = InProcessTransport([ShiftClient(0), ShiftClient(1)])
    state = {"w": torch.zeros(2), "steps": torch.tensor(0)}
    replies = transport.send(Instruction("fit", {"round": 1}, state))
    assert [r.num_examples for r in replies] == [1, 2]
    assert state["w"].tolist() == [0.0, 0.0]  # clients worked on copies
    header = len(pickle.dumps(("fit", {"round": 1}), protocol=pickle.HIGHEST_PROTOCOL))
    down, up = transport.traffic.snapshot()
    assert down == 2 * (header + 8)
    metas = sum(
        len(pickle.dumps(r.without_state(), protocol=pickle.HIGHEST_PROTOCOL)) for r in replies
    )
    assert up == metas + 2 * 8


def test_needs_clients() -> None:
    with pytest.raises(ValueError):
        InProcessTransport([])
