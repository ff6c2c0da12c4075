"""The running adapter: embedded broker (optional), client, signal handler, controller.

:class:`MqttAdapter` wires the parts together and owns their tasks, as an async context
manager. Its router task takes messages in arrival order from the client, registers
each QoS 1 message for an in-order acknowledgement, and hands it to the handler; the
acknowledgement goes out only when the record is committed or dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from adapters.mqtt.broker import EmbeddedBroker
from adapters.mqtt.client import Message, MqttClient
from adapters.mqtt.config import MqttConfig
from adapters.mqtt.controller import TwinController
from adapters.mqtt.handler import SignalHandler
from adapters.mqtt.topics import SignalType
from server.core.service import Core

__all__ = ["MqttAdapter"]

log = logging.getLogger(__name__)


class MqttAdapter:
    """One adapter process's worth of MQTT ingestion into a core."""

    def __init__(self, core: Core, config: MqttConfig) -> None:
        if core.catalog is None:
            raise ValueError("the MQTT adapter needs a core built with a model catalog")
        self.core = core
        self.config = config
        self.broker: EmbeddedBroker | None = None
        self.controller = TwinController(core, config)
        self.client: MqttClient | None = None
        self.handler: SignalHandler | None = None
        self.started = 0.0
        self._router: asyncio.Task[None] | None = None

    def subscriptions(self) -> list[tuple[str, int]]:
        topics = self.config.topics
        filters = [topics.telemetry_filter(signal) for signal in SignalType]
        filters += [topics.status_filter(), topics.meta_filter()]
        group = self.config.share_group if self.config.mqtt5 else None
        if group is not None:
            filters = [topics.shared(group, f) for f in filters]
        return [(f, self.config.qos) for f in filters]

    async def start(self) -> None:
        config = self.config
        port = None
        if config.embedded:
            self.broker = EmbeddedBroker(config.embedded_host, config.embedded_port)
            await self.broker.start()
            port = self.broker.port
        await self.controller.start()
        self.client = MqttClient(
            config.address(port),
            config.client_id,
            mqtt5=config.mqtt5,
            subscriptions=self.subscriptions(),
            session_expiry_s=config.session_expiry_s,
            receive_maximum=config.receive_maximum,
            keepalive_s=config.keepalive_s,
            queue_size=config.queue_size,
        )
        catalog = self.core.catalog
        if catalog is None:
            raise RuntimeError("the MQTT adapter needs a core built with a model catalog")
        self.handler = SignalHandler(catalog, config, self.controller, self.client.publish)
        await self.client.connect()
        self._router = asyncio.create_task(self._route(), name="mqtt-router")
        self.started = time.time()

    async def _route(self) -> None:
        assert self.client is not None and self.handler is not None
        client, handler = self.client, self.handler
        loop = asyncio.get_running_loop()
        while True:
            message: Message = await client.get()
            finish = _finisher(client, message)
            try:
                await handler.handle(message.topic, message.payload, message.received, finish)
            except Exception:  # never let one message stop the router
                log.exception("mqtt: routing %s failed", message.topic)
                loop.call_soon(finish)

    async def stop(self) -> None:
        """Finish queued work, then disconnect; unfinished records stay with the broker."""
        if self.handler is not None:
            await self.handler.drain()
        await self.controller.stop()
        if self._router is not None:
            self._router.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._router
        if self.handler is not None:
            await self.handler.stop()
        if self.client is not None:
            await self.client.disconnect()
        if self.broker is not None:
            await self.broker.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _finisher(client: MqttClient, message: Message) -> Callable[[], None]:
    """The completion of one message: an in-order PUBACK for QoS 1, nothing for QoS 0."""
    if message.qos == 0:
        return _nothing
    token = client.acks.track(message)

    def finish() -> None:
        client.acks.done(token)

    return finish


def _nothing() -> None:
    return None
