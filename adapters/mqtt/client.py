"""All MQTT wire code: paho-mqtt 2.x, bridged once into asyncio (style notes §2.9).

:class:`MqttClient` is the adapter's side: an async context manager whose messages come
out of an async iterator, fed from paho's network thread through one bounded queue.
A full queue blocks the network thread (back-pressure through TCP) for QoS 1; QoS 0
messages are dropped and counted instead. Acknowledgements are manual: a QoS 1 message
is acknowledged only after its record is committed (or dead-lettered), in arrival order
as MQTT 5 §4.6 requires, so a crash leaves every unfinished record with the broker,
which redelivers it to the persistent session.

:class:`DeviceLink` is the device side (simulator, replay, library mode): a blocking
client with a retained ``online`` birth, a retained ``offline`` last will, and QoS 1
publishes with a bounded number in flight.

paho's exceptions and return codes are mapped to :class:`MqttError` here and nowhere
else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import orjson
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from adapters.mqtt.config import BrokerAddress

__all__ = ["AckTracker", "DeviceLink", "Message", "MqttClient", "MqttError", "open_link"]

log = logging.getLogger(__name__)


class MqttError(Exception):
    """The broker could not be reached, refused us, or an operation failed."""


@dataclass(frozen=True, slots=True)
class Message:
    """One received message; ``generation`` counts connections (acks are per connection)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    generation: int
    received: float


class AckTracker:
    """Sends PUBACKs in arrival order once each message is done (MQTT 5 §4.6).

    Only messages of the current connection are acknowledged: after a reconnect the
    broker redelivers whatever was not acknowledged, with new packet ids.
    """

    def __init__(self, send: Any) -> None:
        self._send = send
        self._pending: deque[list[Any]] = deque()
        self._generation = 0
        self._lock = threading.Lock()

    def track(self, message: Message) -> list[Any]:
        """Register an arriving QoS 1 message; returns its token for :meth:`done`."""
        token = [message.mid, message.generation, False]
        with self._lock:
            if message.generation != self._generation:
                self._pending.clear()
                self._generation = message.generation
            self._pending.append(token)
        return token

    def done(self, token: list[Any]) -> int:
        """Mark a message finished; acknowledges the finished prefix. Returns acks sent."""
        sent = 0
        with self._lock:
            token[2] = True
            while self._pending and self._pending[0][2]:
                mid, generation, _ = self._pending.popleft()
                if generation == self._generation:
                    self._send(mid)
                    sent += 1
        return sent

    @property
    def outstanding(self) -> int:
        return len(self._pending)


def _tls(client: paho.Client, address: BrokerAddress) -> None:
    if address.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)


class MqttClient:
    """The adapter's asyncio MQTT client over paho (MQTT 5 or 3.1.1)."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        mqtt5: bool = True,
        subscriptions: Sequence[tuple[str, int]] = (),
        session_expiry_s: int = 3600,
        receive_maximum: int = 1000,
        keepalive_s: int = 30,
        queue_size: int = 2000,
        clean_start: bool = False,
    ) -> None:
        self.address = address
        self.client_id = client_id
        self.mqtt5 = mqtt5
        self.subscriptions = list(subscriptions)
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self.keepalive_s = keepalive_s
        self.clean_start = clean_start
        self.connected = asyncio.Event()
        #: Set once the broker acknowledged every subscription of the current connection:
        #: only then do messages published to the filters reach this client.
        self.subscribed = asyncio.Event()
        self._pending_subs: set[int] = set()
        self.generation = 0
        self.session_present: bool | None = None
        self.dropped = 0
        self.received = 0
        # Unbounded on the loop side; the bound is this semaphore, taken by the network
        # thread before it hands a message over and given back when the message is taken
        # out. Messages cross through ``_inbox``: the loop is woken (a self-pipe write and
        # a read, per call_soon_threadsafe) once per run of messages that arrive while
        # it is busy, not once per message.
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._slots = threading.Semaphore(queue_size)
        self._inbox: deque[Message] = deque()
        self._inbox_lock = threading.Lock()
        self._wake_pending = False
        #: How often the network thread woke the loop (diagnostics: at most ``received``).
        self.wakeups = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = threading.Event()
        self._connect_error: str | None = None
        if mqtt5:
            self._paho = paho.Client(
                paho.CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=paho.MQTTv5,
                manual_ack=True,
            )
        else:
            self._paho = paho.Client(
                paho.CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=paho.MQTTv311,
                clean_session=clean_start,
                manual_ack=True,
            )
        self._paho.max_inflight_messages_set(100)
        self._paho.max_queued_messages_set(0)
        self._paho.reconnect_delay_set(1, 5)
        if address.username is not None:
            self._paho.username_pw_set(address.username, address.password)
        _tls(self._paho, address)
        self._paho.on_connect = self._on_connect
        self._paho.on_disconnect = self._on_disconnect
        self._paho.on_message = self._on_message
        self._paho.on_subscribe = self._on_subscribe
        self.acks = AckTracker(self._send_ack)

    # -- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect (the network thread then reconnects on its own after any loss)."""
        self._loop = asyncio.get_running_loop()
        properties = None
        kwargs: dict[str, Any] = {}
        if self.mqtt5:
            properties = Properties(PacketTypes.CONNECT)
            # MQTT 5 §3.1.2.11.2 / §3.1.2.11.3: keep the session across disconnects and
            # cap what the broker may send us unacknowledged.
            properties.SessionExpiryInterval = self.session_expiry_s
            properties.ReceiveMaximum = self.receive_maximum
            kwargs["clean_start"] = self.clean_start
        where = f"{self.address.host}:{self.address.port}"
        try:
            self._paho.connect_async(
                self.address.host,
                self.address.port,
                keepalive=self.keepalive_s,
                properties=properties,
                **kwargs,
            )
        except (OSError, ValueError) as exc:
            raise MqttError(f"cannot connect to {where}: {exc}") from exc
        self._paho.loop_start()
        await self._await_broker(
            self.connected,
            timeout,
            lambda: (
                f"no CONNACK from {where} within {timeout:g} s"
                + (f" ({self._connect_error})" if self._connect_error else "")
            ),
        )
        # Returning before the SUBACKs would let a caller publish into filters that the
        # broker does not route to us yet (those messages go nowhere).
        await self._await_broker(
            self.subscribed,
            timeout,
            lambda: f"{where} did not acknowledge the subscriptions within {timeout:g} s",
        )

    async def _await_broker(
        self, event: asyncio.Event, timeout: float, failure: Callable[[], str]
    ) -> None:
        """Wait for ``event``; past ``timeout`` stop the network thread and raise.

        ``failure`` builds the message only then: the connect error is known late.
        """
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            self._paho.loop_stop()
            raise MqttError(failure()) from None

    async def disconnect(self) -> None:
        self._closing.set()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._stop)

    async def drop(self) -> None:
        """Cut the connection at once, acknowledging nothing more (what a crash does)."""
        self._closing.set()
        sock = self._paho.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        await asyncio.get_running_loop().run_in_executor(None, self._paho.loop_stop)

    def _stop(self) -> None:
        with contextlib.suppress(Exception):
            self._paho.disconnect()
        self._paho.loop_stop()

    # -- paho callbacks (network thread) -----------------------------------------------
    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._connect_error = str(reason)
            log.warning("mqtt: %s refused the connection: %s", self.address.host, reason)
            return
        self.generation += 1
        self.session_present = bool(getattr(flags, "session_present", False))
        # Subscribe on every connection: a restarted broker without persistence has
        # forgotten the session; subscribing again is harmless when it has not.
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.subscribed.clear)
        self._pending_subs = set()
        for topic_filter, qos in self.subscriptions:
            if self.mqtt5:
                _, mid = client.subscribe(topic_filter, options=SubscribeOptions(qos=qos))
            else:
                _, mid = client.subscribe(topic_filter, qos=qos)
            if mid is not None:
                self._pending_subs.add(mid)
        if not self._pending_subs:
            self._loop.call_soon_threadsafe(self.subscribed.set)
        self._loop.call_soon_threadsafe(self.connected.set)
        log.info(
            "mqtt: connected to %s:%d as %s (session present: %s)",
            self.address.host,
            self.address.port,
            self.client_id,
            self.session_present,
        )

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        failed = [r for r in reasons or () if getattr(r, "is_failure", False)]
        if failed:
            log.warning("mqtt: %s refused a subscription: %s", self.address.host, failed[0])
        self._pending_subs.discard(mid)
        if not self._pending_subs and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.subscribed.set)

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)
        if not self._closing.is_set():
            log.warning(
                "mqtt: disconnected from %s:%d (%s); reconnecting",
                self.address.host,
                self.address.port,
                reason,
            )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        message = Message(
            msg.topic,
            bytes(msg.payload),
            msg.qos,
            bool(msg.retain),
            msg.mid,
            self.generation,
            time.time(),
        )
        self.received += 1
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if msg.qos == 0:
            if self._slots.acquire(blocking=False):
                self._hand_over(loop, message)
            else:
                self.dropped += 1
            return
        # QoS 1: wait for room (back-pressure), but give up when closing so the network
        # thread can stop; the message stays unacknowledged and is redelivered.
        while not self._slots.acquire(timeout=0.5):
            if self._closing.is_set():
                return
        self._hand_over(loop, message)

    def _hand_over(self, loop: asyncio.AbstractEventLoop, message: Message) -> None:
        """Network thread: queue ``message`` (its slot taken); wake the loop unless a
        wake-up is already on its way, which will take this message too."""
        with self._inbox_lock:
            self._inbox.append(message)
            if self._wake_pending:
                return
            self._wake_pending = True
        self.wakeups += 1
        try:
            loop.call_soon_threadsafe(self._take_inbox)
        except RuntimeError:  # the loop closed meanwhile: nothing will take them
            with self._inbox_lock:
                for _ in range(len(self._inbox)):
                    self._slots.release()
                self._inbox.clear()
                self._wake_pending = False

    def _take_inbox(self) -> None:
        """Loop thread: move what the network thread handed over, in arrival order."""
        with self._inbox_lock:
            arrived = list(self._inbox)
            self._inbox.clear()
            self._wake_pending = False
        for message in arrived:
            self._queue.put_nowait(message)

    def _send_ack(self, mid: int) -> None:
        with contextlib.suppress(Exception):
            self._paho.ack(mid, 1)

    # -- API -------------------------------------------------------------------------
    async def messages(self) -> AsyncIterator[Message]:
        """Received messages, in arrival order."""
        while True:
            yield await self.get()

    def get_nowait(self) -> Message | None:
        try:
            message = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        self._slots.release()
        return message

    async def get(self) -> Message:
        message = await self._queue.get()
        self._slots.release()
        return message

    def publish(
        self, topic: str, payload: bytes | dict[str, Any], qos: int = 1, retain: bool = False
    ) -> None:
        """Queue a publish (paho sends it, and resends QoS 1 after a reconnect)."""
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        info = self._paho.publish(topic, data, qos=qos, retain=retain)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            raise MqttError(f"publish to {topic} failed: {paho.error_string(info.rc)}")

    @property
    def backlog(self) -> int:
        return self._queue.qsize() + len(self._inbox)


class DeviceLink:
    """A device's blocking connection: birth/last-will status and QoS 1 telemetry."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        status_topic: str | None,
        mqtt5: bool = True,
        inflight: int = 100,
        keepalive_s: int = 30,
    ) -> None:
        self.address = address
        self.status_topic = status_topic
        self._connected = threading.Event()
        protocol = paho.MQTTv5 if mqtt5 else paho.MQTTv311
        self._paho = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol
        )
        self._paho.max_inflight_messages_set(inflight)
        self._paho.max_queued_messages_set(0)
        self.mqtt5 = mqtt5
        self.keepalive_s = keepalive_s
        if address.username is not None:
            self._paho.username_pw_set(address.username, address.password)
        _tls(self._paho, address)
        if status_topic is not None:
            self._paho.will_set(
                status_topic,
                orjson.dumps({"state": "offline", "reason": "lastWill"}),
                qos=1,
                retain=True,
            )
        self._paho.on_connect = self._on_connect
        self._paho.on_disconnect = lambda *a: self._connected.clear()

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if not reason.is_failure:
            self._connected.set()
        else:
            self.refused = str(reason)

    refused: str | None = None

    def connect(self, timeout: float = 10.0) -> None:
        try:
            self._paho.connect(self.address.host, self.address.port, keepalive=self.keepalive_s)
        except OSError as exc:
            raise MqttError(
                f"cannot connect to {self.address.host}:{self.address.port}: {exc}"
            ) from exc
        self._paho.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.05):
            if self.refused is not None or time.monotonic() > deadline:
                self._paho.loop_stop()
                raise MqttError(
                    f"{self.address.host}:{self.address.port} did not accept "
                    f"the connection: {self.refused or 'no CONNACK'}"
                )
        if self.status_topic is not None:
            self.publish(
                self.status_topic, {"state": "online", "ts": time.time() * 1000}, retain=True
            )

    def publish(
        self, topic: str, payload: bytes | dict[str, Any], qos: int = 1, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        return self._paho.publish(topic, data, qos=qos, retain=retain)

    def wait_published(self, infos: Sequence[paho.MQTTMessageInfo], timeout: float = 30.0) -> int:
        """Wait until the broker acknowledged ``infos``; returns how many it did."""
        deadline = time.monotonic() + timeout
        for info in infos:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(remaining)
        return sum(1 for info in infos if info.is_published())

    def close(self, clean: bool = True) -> None:
        """Publish the retained ``offline`` status (a clean goodbye), then disconnect."""
        if clean and self.status_topic is not None and self._connected.is_set():
            info = self.publish(
                self.status_topic,
                {"state": "offline", "reason": "clean", "ts": time.time() * 1000},
                retain=True,
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(5)
        with contextlib.suppress(Exception):
            self._paho.disconnect()
        self._paho.loop_stop()

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_link(
    address: BrokerAddress,
    client_id: str,
    *,
    status_topic: str | None,
    protocol: str = "auto",
    inflight: int = 100,
) -> DeviceLink:
    """A connected `DeviceLink`; ``auto`` tries MQTT 5 and falls back to 3.1.1 (amqtt)."""
    if protocol in ("auto", "5"):
        link = DeviceLink(
            address, client_id, status_topic=status_topic, mqtt5=True, inflight=inflight
        )
        try:
            link.connect()
            return link
        except MqttError as exc:
            if protocol == "5" or "protocol" not in str(exc).lower():
                raise
    link = DeviceLink(address, client_id, status_topic=status_topic, mqtt5=False, inflight=inflight)
    link.connect()
    return link
