"""The MQTT topic scheme: per tenant, per device, per signal type (docs/mqtt.md).

::

    dt/v1/{tenant}/{deviceId}/tele/{signal}     device -> server, QoS 1, never retained
    dt/v1/{tenant}/{deviceId}/status            retained; birth "online", last will "offline"
    dt/v1/{tenant}/{deviceId}/meta              retained; hardware/software identity
    dt/v1/{tenant}/{deviceId}/curated/{signal}  server -> consumers, the cleaned record
    dt/v1/{tenant}/{deviceId}/dlq/{signal}      server -> operators, rejects with reasons

The device id sits in the topic so that a broker ACL can confine a client to its own
subtree (Mosquitto ``pattern write dt/v1/%u/%c/tele/#``), and every topic is at most
six levels deep (AWS IoT allows seven). Adapters consume telemetry through the MQTT 5
shared subscription ``$share/{group}/dt/v1/+/+/tele/{signal}`` (MQTT 5 §4.8.2) so that
several adapter processes split the load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DEFAULT_PREFIX",
    "SignalType",
    "TopicError",
    "TopicScheme",
    "TopicTarget",
    "validate_segment",
]

DEFAULT_PREFIX = "dt/v1"

# Topic levels we accept for tenants and devices: what a Ditto entity name and a Mosquitto
# ACL pattern can both carry without escaping (no '+', '#', '/', '$' or control chars).
_SEGMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class SignalType(StrEnum):
    """The telemetry kinds, one processor each (signals-and-mqtt notes §4)."""

    CELL = "cell"
    WIFI = "wifi"
    BLE = "ble"
    ENV = "env"
    LOC = "loc"


class TopicError(ValueError):
    """A topic does not follow the scheme; the message says which level is wrong."""


def validate_segment(value: str, what: str) -> str:
    """Return ``value`` if it is usable as a tenant or device topic level."""
    if not isinstance(value, str) or _SEGMENT_RE.fullmatch(value) is None:
        raise TopicError(
            f"{what} {value!r} is not 1-128 of [A-Za-z0-9._-] starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class TopicTarget:
    """What an incoming topic names: tenant, device and kind (``tele``/``status``/``meta``)."""

    tenant: str
    device: str
    kind: str
    signal: SignalType | None = None


@dataclass(frozen=True, slots=True)
class TopicScheme:
    """Builds and parses the topics of one prefix (``dt/v1`` unless configured)."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if (
            not self.prefix
            or any(c in self.prefix for c in "+#")
            or self.prefix.startswith(("/", "$"))
            or self.prefix.endswith("/")
        ):
            raise TopicError(f"topic prefix {self.prefix!r} is not a plain topic name")

    # -- builders ----------------------------------------------------------------------
    def telemetry(self, tenant: str, device: str, signal: SignalType | str) -> str:
        return f"{self.prefix}/{tenant}/{device}/tele/{SignalType(signal)}"

    def status(self, tenant: str, device: str) -> str:
        return f"{self.prefix}/{tenant}/{device}/status"

    def meta(self, tenant: str, device: str) -> str:
        return f"{self.prefix}/{tenant}/{device}/meta"

    def curated(self, tenant: str, device: str, signal: SignalType | str) -> str:
        return f"{self.prefix}/{tenant}/{device}/curated/{signal}"

    def dead_letter(self, tenant: str, device: str, signal: str) -> str:
        """Rejects keep the raw tenant and device levels so a tenant's ACL can read them."""
        return f"{self.prefix}/{tenant}/{device}/dlq/{signal}"

    # -- filters -----------------------------------------------------------------------
    def telemetry_filter(self, signal: SignalType | str, tenant: str = "+") -> str:
        return f"{self.prefix}/{tenant}/+/tele/{SignalType(signal)}"

    def status_filter(self, tenant: str = "+") -> str:
        return f"{self.prefix}/{tenant}/+/status"

    def meta_filter(self, tenant: str = "+") -> str:
        return f"{self.prefix}/{tenant}/+/meta"

    def shared(self, group: str, topic_filter: str) -> str:
        """A shared subscription (MQTT 5 §4.8.2): each message goes to one group member."""
        if not group or any(c in group for c in "/+#"):
            raise TopicError(f"share group {group!r} may not contain '/', '+' or '#'")
        return f"$share/{group}/{topic_filter}"

    # -- parsing -----------------------------------------------------------------------
    def parse(self, topic: str) -> TopicTarget:
        """Split an incoming topic; raises `TopicError` naming the offending level."""
        if not topic.startswith(self.prefix + "/"):
            raise TopicError(f"topic {topic!r} is outside {self.prefix}/")
        parts = topic[len(self.prefix) + 1 :].split("/")
        if len(parts) < 3:
            raise TopicError(f"topic {topic!r} has too few levels")
        tenant = validate_segment(parts[0], "tenant")
        device = validate_segment(parts[1], "device id")
        kind = parts[2]
        if kind == "tele":
            if len(parts) != 4:
                raise TopicError(f"telemetry topic {topic!r} needs exactly one signal level")
            try:
                signal = SignalType(parts[3])
            except ValueError:
                raise TopicError(f"unknown signal type {parts[3]!r}") from None
            return TopicTarget(tenant, device, kind, signal)
        if kind in ("status", "meta") and len(parts) == 3:
            return TopicTarget(tenant, device, kind)
        raise TopicError(f"topic {topic!r} is not a telemetry, status or meta topic")

    def raw_levels(self, topic: str) -> tuple[str, str]:
        """Tenant and device levels of a topic as they are (for dead-lettering bad ones)."""
        parts = (
            topic[len(self.prefix) + 1 :].split("/") if topic.startswith(self.prefix + "/") else []
        )
        tenant = parts[0] if len(parts) > 0 and parts[0] and "+" not in parts[0] else "_"
        device = parts[1] if len(parts) > 1 and parts[1] and "+" not in parts[1] else "_"
        return tenant, device
