"""Federated mapping across local-area twins: strategies, clients and transports.

Raw data stays in each local twin; only model parameters, error sums and normalization
moments travel. The split follows Flower: pure aggregation maths in :mod:`.aggregate`, a
:class:`~utt.federated.strategy.Strategy` with hooks and one round loop, and a
:class:`~utt.federated.transport.base.Transport` (in-process or torch.distributed gloo)
the strategy never looks behind.
"""

from utt.federated.client import AreaClient, Client
from utt.federated.messages import Instruction, Reply
from utt.federated.strategies import STRATEGIES, FedAdagrad, FedAdam, FedAvg, FedYogi, make_strategy
from utt.federated.strategy import History, RoundRecord, Strategy
from utt.federated.transport import GlooTransport, InProcessTransport, Traffic, Transport

__all__ = [
    "STRATEGIES",
    "AreaClient",
    "Client",
    "FedAdagrad",
    "FedAdam",
    "FedAvg",
    "FedYogi",
    "GlooTransport",
    "History",
    "InProcessTransport",
    "Instruction",
    "Reply",
    "RoundRecord",
    "Strategy",
    "Traffic",
    "Transport",
    "make_strategy",
]
