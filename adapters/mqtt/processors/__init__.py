"""Signal processors, one per signal type, registered by the alias the topic carries."""

from __future__ import annotations

from adapters.mqtt.processors.base import Processor
from adapters.mqtt.processors.ble import BleProcessor
from adapters.mqtt.processors.cell import CellProcessor
from adapters.mqtt.processors.env import EnvProcessor
from adapters.mqtt.processors.loc import LocProcessor
from adapters.mqtt.processors.wifi import WifiProcessor
from adapters.mqtt.topics import SignalType

__all__ = ["REGISTRY", "Processor"]

#: Processor class by the ``{signal}`` level of ``dt/v1/{tenant}/{device}/tele/{signal}``.
REGISTRY: dict[SignalType, type[Processor]] = {
    SignalType.CELL: CellProcessor,
    SignalType.WIFI: WifiProcessor,
    SignalType.BLE: BleProcessor,
    SignalType.ENV: EnvProcessor,
    SignalType.LOC: LocProcessor,
}
