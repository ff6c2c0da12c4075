"""An optional narrator: analytics results told in plain words by a language model.

Off unless the operator points it at an OpenAI-compatible endpoint (any server with
``POST {base}/chat/completions``)::

    NDTWIN_NARRATOR_URL=http://127.0.0.1:8000/v1  NDTWIN_NARRATOR_MODEL=my-model
    NDTWIN_NARRATOR_API_KEY=...   (optional; sent as a Bearer token)

It only rephrases the deterministic results it is given (the prompt says so and passes
them as JSON); nothing else depends on it and no test needs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from server.core import errors

__all__ = ["NarratorConfig", "NarratorDisabled", "NarratorFailed", "chat_request", "narrate"]

_SYSTEM = (
    "You explain network and building analytics to an operator. You are given the exact "
    "results of deterministic methods as JSON. Summarise what they found in at most six "
    "short sentences, citing their numbers and times; do not add findings, causes or "
    "numbers that are not in the JSON, and say so when nothing was found."
)


class NarratorDisabled(errors.NdtError):
    """No narrator endpoint is configured (503)."""

    code = "analytics:narrator.disabled"
    status = 503
    grpc_code = "UNAVAILABLE"
    default_message = "The narrator is off."
    default_description = "Set NDTWIN_NARRATOR_URL and NDTWIN_NARRATOR_MODEL to enable it."


class NarratorFailed(errors.NdtError):
    """The configured endpoint did not answer usefully (502)."""

    code = "analytics:narrator.failed"
    status = 502
    grpc_code = "UNAVAILABLE"
    default_message = "The narrator endpoint failed."


@dataclass(frozen=True, slots=True)
class NarratorConfig:
    """Where the narrator is; ``url`` None means off."""

    url: str | None = None
    model: str = ""
    api_key: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NarratorConfig:
        env = os.environ if environ is None else environ
        url = env.get("NDTWIN_NARRATOR_URL") or None
        return cls(
            url.rstrip("/") if url else None,
            env.get("NDTWIN_NARRATOR_MODEL", ""),
            env.get("NDTWIN_NARRATOR_API_KEY") or None,
            float(env.get("NDTWIN_NARRATOR_TIMEOUT_S", "30")),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.model)


def chat_request(config: NarratorConfig, result: Any) -> dict[str, Any]:
    """The chat-completions body for one result (temperature 0: as repeatable as it gets)."""
    return {
        "model": config.model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": json.dumps(result, ensure_ascii=False)},
        ],
    }


async def narrate(config: NarratorConfig, result: Any) -> str:
    """The narrator's text for ``result``; `NarratorDisabled` when it is off."""
    if not config.enabled:
        raise NarratorDisabled()
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    try:
        async with httpx.AsyncClient(timeout=config.timeout_s) as client:
            response = await client.post(
                f"{config.url}/chat/completions", json=chat_request(config, result), headers=headers
            )
            response.raise_for_status()
            body = response.json()
        return str(body["choices"][0]["message"]["content"]).strip()
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise NarratorFailed(f"The narrator endpoint failed: {exc}") from exc
