"""The Network Twin Console: static HTML/CSS/JS served at ``/console`` by ``ndtwin serve``.

The console is plain ES modules written for ndtwin (no framework, nothing fetched from
elsewhere at run time): ``static/`` beside this module is served as it is. Everything it
shows comes from the public APIs with the tenant key the operator signs in with (the
Ditto API ``/api/2``, the native ``/v1`` API and ``/v1/analytics``), so the console can do
nothing a client with the same key could not.

`setup` is the app extension (`server.app.EXTENSIONS`): it mounts the assets and sends
``GET /`` to the console. Responses carry a Content-Security-Policy that allows only this
origin, so a page that tried to load from a CDN would fail in the browser tests too.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIR", "ConsoleAssets", "setup"]

#: The folder of the console's files.
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Only this origin: scripts, styles, images (inline SVG/PNG data URLs for icons) and the
#: API calls; no inline script, no framing by other sites (CSP Level 3 §6).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)


class ConsoleAssets:
    """`StaticFiles` over `STATIC_DIR` with the console's security and cache headers."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._files: ASGIApp = StaticFiles(directory=directory, html=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    # Revalidate each load (ETag): a new release is seen at once.
                    (b"cache-control", b"no-cache"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self._files(scope, receive, send_with_headers)


async def _to_console(request: Request) -> Response:
    return RedirectResponse(url="/console/", status_code=307)


def setup(app: FastAPI) -> None:
    """Mount the console at ``/console`` and redirect ``/`` and ``/console`` to it."""
    app.router.routes.extend(
        [
            Route("/", _to_console, methods=["GET"], include_in_schema=False),
            Route("/console", _to_console, methods=["GET"], include_in_schema=False),
            Mount("/console", app=ConsoleAssets(), name="console"),
        ]
    )
