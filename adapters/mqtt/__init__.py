"""The MQTT device adapter: phones and sensors publish, the twin graph follows.

The integration surface, as for a Home Assistant integration (style notes §2.7)::

    handle = await adapters.mqtt.setup(core, settings)   # None when --mqtt off
    ...
    await adapters.mqtt.unload(handle)

``settings`` is the server's settings object: ``settings.mqtt`` is ``embedded``, an
``mqtt://`` URL or ``off``; ``settings.adapters["mqtt"]`` holds the options of
:class:`~adapters.mqtt.config.MqttConfig`. See docs/mqtt.md.
"""

from __future__ import annotations

from typing import Any

from adapters.mqtt.adapter import MqttAdapter
from adapters.mqtt.config import ConfigError, MqttConfig, load_config
from server.core.service import Core

__all__ = ["ConfigError", "MqttAdapter", "MqttConfig", "load_config", "setup", "unload"]


async def setup(core: Core, settings: Any) -> MqttAdapter | None:
    """Start the adapter for a running core; returns None when MQTT is ``off``.

    Raises `ConfigError` for invalid options and `adapters.mqtt.client.MqttError` when
    the broker cannot be reached.
    """
    mqtt = getattr(settings, "mqtt", "embedded")
    if mqtt == "off":
        return None
    options = (getattr(settings, "adapters", None) or {}).get("mqtt", {})
    adapter = MqttAdapter(core, load_config(options, mqtt))
    try:
        await adapter.start()
    except BaseException:
        await adapter.stop()
        raise
    return adapter


async def unload(handle: MqttAdapter | None) -> None:
    """Stop what :func:`setup` started (no-op for None)."""
    if handle is not None:
        await handle.stop()
