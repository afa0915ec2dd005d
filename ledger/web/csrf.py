"""CSRF protection: a random token per session, required on every unsafe request.

``CsrfMiddleware`` refuses (403, with a page saying why) any POST, PUT, PATCH or DELETE whose
form field ``csrf_token`` (or header ``X-CSRF-Token``) is not the session's token. It reads the
form itself and hands the body on unchanged, so endpoints read their form as usual. An anonymous
visitor gets a token too: the login form is protected like every other.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SESSION_KEY = "csrf"
SAFE = {"GET", "HEAD", "OPTIONS"}
MAX_BODY = 1024 * 1024  # a back-office form is small; a larger body is refused (413)


def token(request: Request) -> str:
    """The session's token, made on first use."""
    value = request.session.get(SESSION_KEY)
    if not value:
        value = request.session[SESSION_KEY] = secrets.token_urlsafe(32)
    return value


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, refuse: ASGIApp | None = None) -> None:
        self.app = app
        self.refuse = refuse  # an ASGI app answering a refused request (see app.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        if body is None:
            scope["refusal"] = (413, "Too large", "That request is larger than a form can be.")
            await self.refuse(scope, receive, send)
            return
        replay = _replay(body)
        sent = await _sent_token(scope, body)
        expected = scope.get("session", {}).get(SESSION_KEY)
        if not expected or not sent or not hmac.compare_digest(sent, expected):
            scope["refusal"] = (403, "Form expired or forged",
                                "This form was not sent from a page of this back office, or your"
                                " session ended. Open the page again and resend it.")
            await self.refuse(scope, replay, send)
            return
        await self.app(scope, replay, send)


async def _read(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY:
            return None
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    done = False

    async def receive():
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        done = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _sent_token(scope: Scope, body: bytes) -> str:
    request = Request(scope, _replay(body))
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return ""
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a malformed body is a refusal, not a crash
        return ""
    value = form.get(FIELD)
    await form.close()
    return value if isinstance(value, str) else ""
