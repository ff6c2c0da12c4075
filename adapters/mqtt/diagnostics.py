"""A JSON-ready snapshot of the adapter's state, for logs, tests and a diagnostics route."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from adapters.mqtt.adapter import MqttAdapter

__all__ = ["snapshot"]


def snapshot(adapter: MqttAdapter) -> dict[str, Any]:
    """Connection, per-processor metrics and controller counters (no secrets)."""
    config = adapter.config
    client = adapter.client
    handler = adapter.handler
    out: dict[str, Any] = {
        "broker": "embedded" if config.embedded else config.address().host,
        "protocol": "5" if config.mqtt5 else "3.1.1",
        "clientId": config.client_id,
        "uptimeSeconds": round(time.time() - adapter.started, 1) if adapter.started else 0,
        "subscriptions": [f for f, _ in adapter.subscriptions()],
    }
    if client is not None:
        out["connection"] = {
            "connected": client.connected.is_set(),
            "sessionPresent": client.session_present,
            "generation": client.generation,
            "received": client.received,
            "droppedQos0": client.dropped,
            "inbox": client.backlog,
            "loopWakeups": client.wakeups,
            "unacknowledged": client.acks.outstanding,
        }
    if handler is not None:
        out["processors"] = {
            str(signal): {**runtime.metrics.snapshot(), "queue": runtime.queue.qsize()}
            for signal, runtime in handler.processors.items()
        }
        out["deadLetters"] = handler.dead_letters
    out["controller"] = {**asdict(adapter.controller.stats), "backlog": adapter.controller.backlog}
    return out
