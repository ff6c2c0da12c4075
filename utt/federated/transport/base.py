"""The transport seam between a strategy and its clients (Flower's ``Grid``)."""

from __future__ import annotations

import pickle
import threading
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any

from utt.federated.messages import Instruction, Reply

__all__ = ["Traffic", "Transport", "TransportError", "message_bytes"]


class TransportError(RuntimeError):
    """A transport failed (a client died, timed out or could not connect)."""


def message_bytes(obj: Any) -> int:
    """Size of ``obj`` pickled: what a control message or small payload costs on the wire."""
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


class Traffic:
    """Bytes sent to (down) and from (up) the clients, counted by the transport."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.bytes_down = 0
        self.bytes_up = 0

    def add(self, down: int = 0, up: int = 0) -> None:
        """Count ``down`` bytes sent to clients and ``up`` bytes received."""
        with self._lock:
            self.bytes_down += down
            self.bytes_up += up

    def snapshot(self) -> tuple[int, int]:
        """``(bytes_down, bytes_up)`` so far."""
        with self._lock:
            return self.bytes_down, self.bytes_up


class Transport(ABC):
    """Delivers one instruction to every client and returns their replies in client order.

    Both transports count the same payload: the model as a float32 vector (4 bytes per
    parameter) each way, plus the pickled instruction and reply.
    """

    #: True when clients run one after another in the server's process.
    sequential = False

    def __init__(self) -> None:
        self.traffic = Traffic()

    @property
    @abstractmethod
    def num_clients(self) -> int:
        """How many clients answer each instruction."""

    @abstractmethod
    def send(self, ins: Instruction) -> list[Reply]:
        """Send ``ins`` to every client and wait for all replies.

        Raises:
            TransportError: a client could not be reached or failed.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release processes and connections."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
