"""The MQTT device adapter: phones and sensors publish, the twin graph follows.

The integration surface, as for a Home Assistant integration (style notes §2.7)::

    handle = await adapters.mqtt.setup(core, settings)   # None when --mqtt off
    ...
    await adapters.mqtt.unload(handle)

``setup(app)`` with the FastAPI app alone (the ``server.app.EXTENSIONS`` convention)
registers a startup hook doing the above with ``app.state.core`` and
``app.state.settings`` (the handle lands on ``app.state.mqtt``) and a shutdown hook
that unloads it.

``settings`` is the server's settings object: ``settings.mqtt`` is ``embedded``, an
``mqtt://`` URL or ``off``; ``settings.adapters["mqtt"]`` holds the options of
:class:`~adapters.mqtt.config.MqttConfig`. See docs/mqtt.md.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from adapters.mqtt.adapter import MqttAdapter
from adapters.mqtt.config import ConfigError, MqttConfig, load_config
from server.core.service import Core

__all__ = ["ConfigError", "MqttAdapter", "MqttConfig", "load_config", "setup", "start", "unload"]


def setup(target: Any, settings: Any = None) -> Coroutine[Any, Any, MqttAdapter | None] | None:
    """``await setup(core, settings)`` starts the adapter (None when MQTT is ``off``);
    ``setup(app)`` registers start/stop hooks on a FastAPI app instead.

    Starting raises `ConfigError` for invalid options and
    `adapters.mqtt.client.MqttError` when the broker cannot be reached.
    """
    if settings is None and hasattr(target, "state"):
        _register(target)
        return None
    return start(target, settings)


def _register(app: Any) -> None:
    async def on_start(app: Any) -> None:
        app.state.mqtt = await start(app.state.core, app.state.settings)

    async def on_stop(app: Any) -> None:
        await unload(getattr(app.state, "mqtt", None))
        app.state.mqtt = None

    app.state.startup.append(on_start)
    app.state.shutdown.append(on_stop)


async def start(core: Core, settings: Any) -> MqttAdapter | None:
    """Start the adapter for a running core; returns None when MQTT is ``off``."""
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
