"""Security headers on every response, set by the app itself (TLS is the reverse proxy's job,
but the headers must not depend on its configuration).

An endpoint that raises before it answered gets a plain 500 page from here, with the same
headers, instead of Starlette's bare "Internal Server Error" (which is sent from outside every
middleware). The exception is logged here with its traceback and not raised on: raised, it
would make uvicorn drop the connection after the page was sent.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: JavaScript, when a page needs some, is a vendored file
# under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
       " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}
log = logging.getLogger(__name__)
HSTS = "max-age=31536000; includeSubDomains"
# No template: rendering is one of the things that may have failed.
FAILED_PAGE = (b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
               b"<title>Something went wrong</title></head><body><main><h1>Something went wrong"
               b"</h1><p>The server could not answer this request. Nothing was changed by it "
               b"unless it said so. Try again; if it keeps happening, the server's log says "
               b'why.</p><p><a href="/">Back to the start</a></p></main></body></html>')


class SecureHeadersMiddleware:
    def __init__(self, app: ASGIApp, https: bool = True) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if self.https:
                    headers["strict-transport-security"] = HSTS
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"  # pages hold members' data
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise  # part of an answer went out: nothing better to send
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            await _failed(send_with_headers)


async def _failed(send) -> None:
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(FAILED_PAGE)).encode())]})
    await send({"type": "http.response.body", "body": FAILED_PAGE})
