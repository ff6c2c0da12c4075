"""The optional narrator: off unless configured; what it would send when it is on."""

from __future__ import annotations

import asyncio

import pytest

from server.analytics.narrator import NarratorConfig, NarratorDisabled, chat_request, narrate


def test_it_is_off_without_an_endpoint() -> None:
    config = NarratorConfig.from_env({})
    assert not config.enabled
    with pytest.raises(NarratorDisabled):
        asyncio.run(narrate(config, {"anomalies": []}))


def test_configuration_comes_from_the_environment() -> None:
    config = NarratorConfig.from_env(
        {
            "NDTWIN_NARRATOR_URL": "http://127.0.0.1:9/v1/",
            "NDTWIN_NARRATOR_MODEL": "m",
            "NDTWIN_NARRATOR_API_KEY": "k",
        }
    )
    assert config.enabled and config.url == "http://127.0.0.1:9/v1"
    assert (config.model, config.api_key, config.timeout_s) == ("m", "k", 30.0)


def test_the_request_carries_the_result_and_forbids_invention() -> None:
    config = NarratorConfig("http://x/v1", "m")
    body = chat_request(config, {"recommended": "wifi", "reasons": ["cheapest"]})
    assert body["model"] == "m" and body["temperature"] == 0
    system, user = body["messages"]
    assert "do not add findings" in system["content"]
    assert user["content"] == '{"recommended": "wifi", "reasons": ["cheapest"]}'
