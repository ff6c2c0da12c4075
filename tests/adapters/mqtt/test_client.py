"""`MqttClient` against the real Mosquitto: hand-over from paho's thread to the loop."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from adapters.mqtt.client import MqttClient, open_link
from adapters.mqtt.config import parse_broker_url

pytestmark = pytest.mark.mqtt


def test_a_burst_arrives_in_order_within_the_bound_and_wakes_the_loop_once(
    system_mosquitto: str, prefix: str
) -> None:
    address = parse_broker_url(system_mosquitto)
    total, bound = 200, 50

    async def scenario() -> None:
        client = MqttClient(
            address,
            f"test-client-{uuid.uuid4().hex[:8]}",
            subscriptions=[(f"{prefix}/#", 1)],
            queue_size=bound,
            session_expiry_s=0,
            clean_start=True,
        )
        await client.connect()
        link = open_link(address, f"test-link-{uuid.uuid4().hex[:8]}", status_topic=None)
        try:
            infos = [link.publish(f"{prefix}/x", str(i).encode()) for i in range(total)]
            assert link.wait_published(infos) == total
            # The loop is held here (no await): what arrives meanwhile waits for one
            # wake-up, and the network thread stops at the bound (back-pressure).
            deadline = time.monotonic() + 10
            while client.backlog < bound and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
            assert client.backlog == bound
            assert client.wakeups == 1
            got = [(await asyncio.wait_for(client.get(), 10)).payload for _ in range(total)]
        finally:
            link.close()
            await client.disconnect()
        assert got == [str(i).encode() for i in range(total)]
        assert client.received == total
        assert client.wakeups < total

    asyncio.run(scenario())
