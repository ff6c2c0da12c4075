"""Small Ditto routes: ``whoami`` and the policy API placeholder.

``GET /api/2/whoami`` names the caller's auth subject (``ndtwin:<tenant>``). Policies are
stored as ``policyId`` only; the policy engine comes with a later issue, so every
``/api/2/policies`` route answers 501 after authentication.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.rest.codec import json_response
from server.rest.context import authenticate
from server.rest.errors import NotImplementedYet

__all__ = ["policies", "subject_of", "whoami"]


def subject_of(tenant: str) -> str:
    """The Ditto auth subject of a tenant (``<issuer>:<id>``)."""
    return f"ndtwin:{tenant}"


async def whoami(request: Request) -> Response:
    """``GET /api/2/whoami``: the caller's subject."""
    caller = await authenticate(request)
    subject = subject_of(caller.tenant)
    return json_response({"subjects": [subject], "defaultSubject": subject})


async def policies(request: Request) -> Response:
    """Every ``/api/2/policies`` route: 501 until the policy engine exists."""
    await authenticate(request)
    raise NotImplementedYet("The policy API (/api/2/policies)")
