"""The adapter's options: one pydantic model, checked before anything starts.

The server hands the ``[adapters.mqtt]`` table of its config file to :func:`load_config`
together with its ``--mqtt`` choice (``embedded``, an ``mqtt://`` URL or ``off``).
"""

from __future__ import annotations

import socket
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.mqtt.topics import TopicError, TopicScheme

__all__ = ["BrokerAddress", "ConfigError", "MqttConfig", "load_config", "parse_broker_url"]

EMBEDDED = "embedded"


class ConfigError(ValueError):
    """The adapter configuration is invalid; the message names the option."""


class BrokerAddress(BaseModel):
    """Where the broker listens, and how to log in."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int = Field(1883, ge=1, le=65535)
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS, port 8883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp"):
        raise ConfigError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise ConfigError(f"broker URL {url!r} names no host")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ConfigError(f"broker URL {url!r}: {exc}") from None
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class MqttConfig(BaseModel):
    """Every knob of the MQTT adapter, with the defaults ``ndtwin serve`` uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``embedded`` (an in-process broker) or an ``mqtt://`` URL.
    broker: str = EMBEDDED
    #: Where the embedded broker listens: 1884, not 1883, so it never collides with a
    #: Mosquitto already serving the machine (ours run one on 1883).
    embedded_host: str = "127.0.0.1"
    embedded_port: int = Field(1884, ge=0, le=65535)
    #: MQTT protocol: 5 (default) or 3.1.1; the embedded broker speaks only 3.1.1.
    protocol: Literal["5", "3.1.1", "auto"] = "auto"
    #: Stable client id: the broker keeps this session (and its queued messages) while
    #: the adapter is away. Two adapter processes need two ids.
    client_id: str = Field(default_factory=lambda: f"ndtwin-adapter-{socket.gethostname()}")
    #: Shared-subscription group; None subscribes without ``$share`` (MQTT 3.1.1 brokers).
    share_group: str | None = "ndtwin"
    qos: Literal[0, 1] = 1
    #: MQTT 5 Session Expiry Interval (§3.1.2.11.2): how long the broker keeps the
    #: session and its queued QoS 1 messages while the adapter is disconnected.
    session_expiry_s: int = Field(3600, ge=0)
    #: MQTT 5 Receive Maximum (§3.1.2.11.3): unacknowledged QoS 1 messages in flight.
    #: Acks follow commits, so keep it well above ``batch_max``: the next batch is then
    #: received and curated while the previous one commits.
    receive_maximum: int = Field(2000, ge=1, le=65535)
    keepalive_s: int = Field(30, ge=5)
    topic_prefix: str = "dt/v1"
    #: Tenants served (None: every tenant that exists in the store).
    tenants: list[str] | None = None
    #: Publish cleaned records on ``.../curated/{signal}``.
    publish_curated: bool = True
    #: QoS of curated records. 0 by default: they are a derived stream whose durable
    #: form is the twin itself, and QoS 1 would cost a PUBACK round per record in the
    #: adapter's network thread. Dead letters always go with ``qos``.
    curated_qos: Literal[0, 1] = 0
    #: Per-processor bounded queue; a full queue blocks the network thread (back-pressure
    #: through TCP) for QoS 1 and drops the newest message for QoS 0.
    queue_size: int = Field(2000, ge=1)
    workers: int = Field(1, ge=1, le=32)
    #: Largest batch committed in one transaction, and how long a batch may wait to fill
    #: (bench/ingest.py at 1,000 devices: 400 with receive_maximum 2000 beat 1000/1000).
    batch_max: int = Field(400, ge=1)
    batch_wait_ms: float = Field(50.0, ge=0)
    #: Relationships not heard for this long are removed.
    relationship_ttl_s: float = Field(300.0, gt=0)
    #: Sources (cells, APs, beacons) left without observers are removed after this.
    orphan_grace_s: float = Field(600.0, ge=0)
    sweep_interval_s: float = Field(10.0, gt=0)
    #: Records older than the newest one of the same device by more than this are late.
    reorder_window_s: float = Field(30.0, ge=0)
    #: Refresh a source twin's lastSeen at most this often (it is shared by many devices).
    source_touch_s: float = Field(60.0, ge=0)
    #: Refresh a device twin's lastSeen at most this often when nothing else of it
    #: changes (0: with every record). Each observation's relationship carries its own
    #: lastSeen either way; a larger value saves a device revision per record.
    device_touch_s: float = Field(0.0, ge=0)
    #: Records whose time stamp lies further in the future than this are rejected.
    max_clock_skew_s: float = Field(86400.0, gt=0)
    #: Level thresholds and quality buckets overriding the defaults (see levels.py).
    levels: dict[str, list[float]] = Field(default_factory=dict)
    quality: dict[str, list[float]] = Field(default_factory=dict)

    @field_validator("broker")
    @classmethod
    def _check_broker(cls, value: str) -> str:
        if value != EMBEDDED:
            parse_broker_url(value)
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        try:
            TopicScheme(value)
        except TopicError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("share_group")
    @classmethod
    def _check_group(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError("must be non-empty without '/', '+' or '#'")
        return value

    @property
    def embedded(self) -> bool:
        return self.broker == EMBEDDED

    @property
    def mqtt5(self) -> bool:
        """Whether to speak MQTT 5 (auto: yes, except with the 3.1.1-only embedded broker)."""
        if self.protocol == "auto":
            return not self.embedded
        return self.protocol == "5"

    def address(self, embedded_port: int | None = None) -> BrokerAddress:
        if self.embedded:
            return BrokerAddress(
                host=self.embedded_host, port=embedded_port or self.embedded_port or 1884
            )
        return parse_broker_url(self.broker)

    @property
    def topics(self) -> TopicScheme:
        return TopicScheme(self.topic_prefix)


def load_config(options: dict[str, Any] | None = None, mqtt: str | None = None) -> MqttConfig:
    """Validate ``options`` (the ``[adapters.mqtt]`` table); ``mqtt`` overrides the broker."""
    values = dict(options or {})
    if mqtt is not None:
        values["broker"] = mqtt
    try:
        return MqttConfig(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid [adapters.mqtt] options: {problems}") from None
