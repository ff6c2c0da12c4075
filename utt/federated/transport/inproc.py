"""In-process transport: clients are objects in this process, called one after another."""

from __future__ import annotations

from collections.abc import Sequence

from utt.federated.client import Client
from utt.federated.messages import Instruction, Reply
from utt.federated.params import payload_bytes
from utt.federated.transport.base import Transport, message_bytes

__all__ = ["InProcessTransport"]


class InProcessTransport(Transport):
    """Call each client directly, on copies of the model so no client shares tensors.

    Bytes are counted as if the same messages crossed a network, so figures compare with
    :class:`~utt.federated.transport.gloo.GlooTransport`.
    """

    sequential = True

    def __init__(self, clients: Sequence[Client]) -> None:
        super().__init__()
        if not clients:
            raise ValueError("need at least one client")
        self.clients = list(clients)

    @property
    def num_clients(self) -> int:
        return len(self.clients)

    def send(self, ins: Instruction) -> list[Reply]:
        header = message_bytes((ins.kind, ins.config))
        replies = []
        for client in self.clients:
            state = None if ins.state is None else {k: v.clone() for k, v in ins.state.items()}
            self.traffic.add(down=header + payload_bytes(ins.state))
            reply = client.handle(Instruction(ins.kind, dict(ins.config), state))
            self.traffic.add(up=message_bytes(reply.without_state()) + payload_bytes(reply.state))
            replies.append(reply)
        return replies
