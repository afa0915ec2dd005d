"""The member's session: who a phone belongs to, once a signed link (ledger.member_links) opened.

A cookie of its own (``ledger_member``, path /me), apart from the back office's staff session:
it names one member and nothing else, so a member sees only their own data and can never reach a
staff page, and a staff login never opens a member's page. The cookie is the member id signed
with the web secret (itsdangerous, salted for this use) and the time it was made; it lasts
``MEMBER_DAYS`` so the page added to a home screen keeps opening, and any erased member's cookie
stops working at once (checked on each request, see pages/member.py).
"""

from __future__ import annotations

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "ledger_member"
PATH = "/me"
MEMBER_DAYS = 30
_SALT = "member-session"


def _signer(request: Request) -> TimestampSigner:
    return TimestampSigner(request.app.state.settings.secret, salt=_SALT)


def start(request: Request, response: Response, member_id: str) -> None:
    """Give the browser a session for ``member_id``."""
    settings = request.app.state.settings
    response.set_cookie(COOKIE, _signer(request).sign(member_id).decode(),
                        max_age=MEMBER_DAYS * 86400, path=PATH, httponly=True,
                        secure=settings.https, samesite="lax")


def end(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True,
                           secure=request.app.state.settings.https, samesite="lax")


def member_of(request: Request) -> str | None:
    """The member this browser's session names, or None (none, forged or too old)."""
    value = request.cookies.get(COOKIE)
    if not value or len(value) > 200:
        return None
    try:
        return _signer(request).unsign(value, max_age=MEMBER_DAYS * 86400).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
