"""Prescriptive analytics: which interface should a device send a message over?

For each interface the device can use (cellular, Wi-Fi, BLE) the best link it hears now
and its predicted strength give an estimated rate, transfer time and energy; the
message's urgency sets a deadline and how much a second is worth against a joule, and
the battery sets how much a joule is worth. The cheapest interface that meets the
deadline on a link that is not predicted to fade wins; every number and rule that
decided it is returned as a reason. Deterministic: same inputs, same answer.

The figures are typical published values, kept in tables so a deployment can change them:

- rates: cellular uplink from SINR with the truncated Shannon bound of 3GPP TR 36.942
  Annex A.2 (uplink: 0.4 x log2(1 + SINR), at most 2 bit/s/Hz, 20 MHz carrier, a quarter
  of it for this device); Wi-Fi from RSSI via the minimum receiver sensitivities of
  IEEE 802.11-2016 Table 21-25 (VHT, 20 MHz, one stream), 60 % of the PHY rate after
  MAC overhead; BLE LE 1M PHY application throughput, lower towards sensitivity;
- energy: LTE promotion and tail (about 0.3 J and 12 J from an idle radio; Huang et al.,
  MobiSys 2012), Wi-Fi tail about 0.03 J, BLE radio in the milliwatts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "DEADLINES",
    "INTERFACES",
    "Battery",
    "Choice",
    "InterfaceModel",
    "Link",
    "Message",
    "Recommendation",
    "rate_kbps",
    "recommend",
]

Interface = Literal["cellular", "wifi", "ble"]
Urgency = Literal["low", "normal", "high", "critical"]

#: Seconds a message of each urgency may take to leave the device.
DEADLINES: dict[str, float] = {"low": 3600.0, "normal": 60.0, "high": 5.0, "critical": 1.0}
#: What a second of delay is worth in joules, per urgency.
SECOND_WORTH: dict[str, float] = {"low": 0.001, "normal": 0.05, "high": 1.0, "critical": 10.0}
#: What a predicted fade costs (joule equivalents), per urgency.
RISK_WORTH: dict[str, float] = {"low": 0.5, "normal": 2.0, "high": 10.0, "critical": 50.0}


@dataclass(frozen=True, slots=True)
class InterfaceModel:
    """Energy and latency figures of one radio, from idle."""

    active_w: float
    setup_s: float
    setup_j: float
    tail_j: float


INTERFACES: dict[str, InterfaceModel] = {
    "cellular": InterfaceModel(active_w=1.5, setup_s=0.26, setup_j=0.31, tail_j=12.3),
    "wifi": InterfaceModel(active_w=1.0, setup_s=0.08, setup_j=0.01, tail_j=0.03),
    "ble": InterfaceModel(active_w=0.015, setup_s=0.05, setup_j=0.001, tail_j=0.001),
}

#: Wi-Fi (RSSI lower bound dBm, PHY rate Mbit/s): VHT MCS 0-8, 20 MHz, 1 spatial stream.
WIFI_RATES = (
    (-59, 78.0),
    (-64, 65.0),
    (-65, 58.5),
    (-66, 52.0),
    (-70, 39.0),
    (-74, 26.0),
    (-77, 19.5),
    (-79, 13.0),
    (-82, 6.5),
)
#: BLE (RSSI lower bound dBm, application kbit/s) on the LE 1M PHY.
BLE_RATES = ((-70, 700.0), (-80, 300.0), (-90, 100.0), (-94, 40.0))
#: Typical SINR (dB) of a cellular link by level (0-4) when the SINR was not reported.
SINR_BY_LEVEL = (-8.0, -2.0, 3.0, 8.0, 15.0)
#: A link below this level (Android bars) is not considered usable.
MIN_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Message:
    """What the application wants to send."""

    size_bytes: int
    urgency: Urgency = "normal"


@dataclass(frozen=True, slots=True)
class Link:
    """The best link of one interface as the device hears it now."""

    interface: Interface
    source_id: str
    metric: str
    current: float
    level: int
    predicted: float | None = None
    predicted_level: int | None = None
    sinr: float | None = None
    connectable: bool | None = None
    quality: str | None = None


@dataclass(frozen=True, slots=True)
class Battery:
    """The device's battery (None: unknown or mains powered)."""

    level: float | None = None
    charging: bool | None = None


@dataclass(slots=True)
class Choice:
    """One interface, scored."""

    interface: Interface
    feasible: bool
    cost: float | None = None
    seconds: float | None = None
    energy_joules: float | None = None
    rate_kbps: float | None = None
    link: Link | None = None
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        link = None
        if self.link is not None:
            link = {k: v for k, v in asdict(self.link).items() if v is not None}
            link = {"sourceId": link.pop("source_id"), **link}
            if "predicted_level" in link:
                link["predictedLevel"] = link.pop("predicted_level")
        return {
            "interface": self.interface,
            "feasible": self.feasible,
            "cost": _r(self.cost),
            "seconds": _r(self.seconds),
            "energyJoules": _r(self.energy_joules),
            "rateKbps": _r(self.rate_kbps),
            "link": link,
            "reasons": self.reasons,
        }


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The interface to use (None: hold the message), the ranking and why."""

    recommended: Interface | None
    ranking: list[Choice]
    reasons: list[str]
    message: Message
    battery: Battery

    def to_json(self) -> dict[str, Any]:
        return {
            "recommended": self.recommended,
            "ranking": [c.to_json() for c in self.ranking],
            "reasons": self.reasons,
            "message": {
                "size": self.message.size_bytes,
                "urgency": self.message.urgency,
                "deadlineSeconds": DEADLINES[self.message.urgency],
            },
            "battery": {"level": self.battery.level, "charging": self.battery.charging},
        }


def _r(value: float | None) -> float | None:
    return None if value is None else float(round(value, 4))


def rate_kbps(link: Link) -> float:
    """Estimated uplink rate of a link (0 when unusable)."""
    if link.interface == "wifi":
        for bound, mbps in WIFI_RATES:
            if link.current >= bound:
                return mbps * 1000 * 0.6
        return 0.0
    if link.interface == "ble":
        for bound, kbps in BLE_RATES:
            if link.current >= bound:
                return kbps
        return 0.0
    sinr = link.sinr if link.sinr is not None else SINR_BY_LEVEL[max(0, min(4, link.level))]
    efficiency = min(2.0, 0.4 * math.log2(1 + 10 ** (sinr / 10))) if sinr >= -10 else 0.0
    return efficiency * 20e6 * 0.25 / 1000


def _evaluate(
    link: Link | None, interface: Interface, message: Message, energy_weight: float
) -> Choice:
    choice = Choice(interface, False, link=link)
    if link is None:
        choice.reasons.append(
            {
                "cellular": "no cell heard",
                "wifi": "no access point heard",
                "ble": "no BLE peer heard",
            }[interface]
        )
        return choice
    name = f"{link.source_id} at {link.current:.0f} {'dB' if link.metric == 'sinr' else 'dBm'}"
    if interface == "ble" and link.connectable is not True:
        choice.reasons.append(f"{link.source_id} only advertises (not connectable)")
        return choice
    if link.level < MIN_LEVEL:
        choice.reasons.append(f"{name} is below level {MIN_LEVEL}")
        return choice
    rate = rate_kbps(link)
    if rate <= 0:
        choice.reasons.append(f"{name} is too weak to carry data")
        return choice
    model = INTERFACES[interface]
    airtime = message.size_bytes * 8 / (rate * 1000)
    seconds = model.setup_s + airtime
    energy = model.setup_j + model.active_w * airtime + model.tail_j
    urgency = message.urgency
    cost = energy * energy_weight + seconds * SECOND_WORTH[urgency]
    choice.reasons.append(
        f"{name} (level {link.level}): about {rate:,.0f} kbit/s, {seconds:.2f} s and {energy:.2f} J"
    )
    risk = 0.0
    if link.predicted is not None:
        fade = link.current - link.predicted
        if link.predicted_level is not None and link.predicted_level < MIN_LEVEL:
            risk = 0.5
            choice.reasons.append(
                f"predicted to fall to {link.predicted:.0f} (level "
                f"{link.predicted_level}): likely to drop"
            )
        elif fade >= 6:
            risk = 0.2
            choice.reasons.append(f"predicted to weaken by {fade:.0f} dB")
    cost += risk * RISK_WORTH[urgency]
    deadline = DEADLINES[urgency]
    choice.seconds, choice.energy_joules, choice.rate_kbps, choice.cost = (
        seconds,
        energy,
        rate,
        cost,
    )
    if risk >= 0.5 and urgency in ("high", "critical"):
        # An urgent message has no time for a retry on a link about to go.
        choice.reasons.append(f"too risky for a {urgency} message")
        return choice
    if seconds > deadline:
        choice.reasons.append(f"misses the {deadline:g} s deadline of a {urgency} message")
        return choice
    choice.feasible = True
    return choice


def recommend(
    links: dict[str, Link | None], message: Message, battery: Battery | None = None
) -> Recommendation:
    """Rank cellular, Wi-Fi and BLE for ``message`` given the device's best links."""
    if message.size_bytes < 0:
        raise ValueError("the message size must not be negative")
    battery = battery or Battery()
    reasons: list[str] = []
    energy_weight = 1.0
    if battery.charging:
        energy_weight = 0.3
        reasons.append("charging: energy counts less")
    elif battery.level is not None and battery.level < 20:
        energy_weight = 3.0
        reasons.append(f"battery at {battery.level:.0f} %: energy counts three times")
    interfaces: tuple[Interface, ...] = ("cellular", "wifi", "ble")
    choices = [_evaluate(links.get(i), i, message, energy_weight) for i in interfaces]
    feasible = sorted((c for c in choices if c.feasible), key=lambda c: c.cost or 0.0)
    rest = [c for c in choices if not c.feasible]
    rest.sort(key=lambda c: (c.seconds is None, c.seconds or 0.0))
    ranking = feasible + rest
    deadline = DEADLINES[message.urgency]
    if feasible:
        best = feasible[0]
        reasons.insert(
            0,
            f"{best.interface} meets the {deadline:g} s deadline at the lowest "
            f"cost ({best.energy_joules:.2f} J, {best.seconds:.2f} s)",
        )
        for other in feasible[1:]:
            reasons.append(
                f"{other.interface} would cost {other.energy_joules:.2f} J and "
                f"{other.seconds:.2f} s"
            )
        return Recommendation(best.interface, ranking, reasons, message, battery)
    if message.urgency == "low":
        reasons.insert(0, "no usable link now: hold the message until one is")
        return Recommendation(None, ranking, reasons, message, battery)
    timed = [c for c in rest if c.seconds is not None]
    if timed:
        best = timed[0]
        reasons.insert(
            0,
            f"no interface meets the {deadline:g} s deadline; {best.interface} "
            f"is the fastest usable ({best.seconds:.2f} s)",
        )
        return Recommendation(best.interface, ranking, reasons, message, battery)
    reasons.insert(0, "no usable link now")
    return Recommendation(None, ranking, reasons, message, battery)
