"""The embedded broker: amqtt in the server's own event loop (``--mqtt embedded``).

Why amqtt: it is the maintained pure-Python MQTT broker on PyPI (0.12, asyncio, MIT),
so ``make run`` needs nothing installed. It speaks MQTT 3.1.1 only: no shared
subscriptions, no session expiry interval, no receive maximum. The adapter therefore
connects to it with MQTT 3.1.1 and ``clean_session=False`` and subscribes without
``$share`` (one adapter process). amqtt keeps queued messages of a persistent session
only for authenticated sessions, so the broker here runs an auth plugin that accepts
every client without marking it anonymous. Its state lives in memory: :meth:`stop`
first lets it deliver what it has accepted, so a clean restart loses nothing, but a
crash of the process loses what the broker had accepted and not yet delivered. Use
Mosquitto (with ``persistence true``) where that matters; docs/mqtt.md compares them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

__all__ = ["EmbeddedBroker", "OpenAuthPlugin", "free_port"]

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free now (for tests and an embedded broker on port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class OpenAuthPlugin(BaseAuthPlugin):
    """Accepts every client as an identified (non-anonymous) session.

    amqtt drops the queued QoS 1 messages of anonymous sessions; ours must survive a
    reconnect. The embedded broker listens on loopback only by default.
    """

    @dataclass
    class Config:
        """No options."""

    async def authenticate(self, *, session: Session) -> bool | None:
        session.is_anonymous = False
        return True


class EmbeddedBroker:
    """Start and stop an amqtt broker on ``host:port`` in the running event loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1884) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._broker: Broker | None = None

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {
                "default": {
                    "type": "tcp",
                    "bind": f"{self.host}:{self.port}",
                    "max_connections": -1,
                }
            },
            "plugins": {"adapters.mqtt.broker.OpenAuthPlugin": {}},
        }

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        # amqtt logs every connection at INFO; keep the server's log readable.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._broker = Broker(self._config())
        await self._broker.start()
        log.info("embedded MQTT broker (amqtt, MQTT 3.1.1) on %s", self.url)

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Deliver what was accepted (bounded by ``drain_timeout``), then shut down."""
        broker = self._broker
        if broker is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_timeout
        while loop.time() < deadline:
            pending = [t for t in broker._tasks_queue if not t.done()]
            if broker._broadcast_queue.empty() and not pending:
                break
            await asyncio.sleep(0.05)
        await broker.shutdown()
        self._broker = None

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
