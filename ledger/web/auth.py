"""Who is logged in, and the ``require(*roles)`` guard every page but the login page carries.

The session (a signed cookie, Starlette's SessionMiddleware, see app.py) holds the user's name,
the id of its row in ``web_sessions`` (sessions.py) and two times: the login's and the last
request's. Each guarded request reads the user and that row back from the database, so
disabling an account ends its sessions at their next request and logging out ends the session
even for a copy of the cookie; it also checks the idle and absolute lifetimes (settings.py).
"""

from __future__ import annotations

import functools
import inspect
import time
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ledger.web import accounts, csrf, sessions
from ledger.web.render import error, flash

USER, SID, LOGIN_AT, SEEN_AT = "user", "sid", "login_at", "seen_at"


def login(request: Request, user: accounts.User, sid: str) -> None:
    """Start session ``sid`` (from sessions.start) for ``user``: a fresh cookie content and a
    fresh CSRF token."""
    request.session.clear()
    now = int(time.time())
    request.session.update({USER: user.name, SID: sid, LOGIN_AT: now, SEEN_AT: now})
    csrf.token(request)


def logout(request: Request) -> None:
    request.session.clear()


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else "/": never another host
    (``//evil.example``, ``https://...``, ``/\\evil``) nor anything with control characters."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or not target.isprintable() or len(target) > 2000:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _to_login(request: Request, message: str | None = None) -> Response:
    if message:
        flash(request, message)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def current_user(request: Request) -> tuple[accounts.User | None, str | None]:
    """The logged-in user, or None and why the session ended (None when there was none)."""
    name = request.session.get(USER)
    if not isinstance(name, str):
        return None, None
    settings = request.app.state.settings
    now = int(time.time())
    login_at, seen_at = request.session.get(LOGIN_AT, 0), request.session.get(SEEN_AT, 0)
    if now - seen_at > settings.idle_minutes * 60 or now - login_at > settings.absolute_hours * 3600:
        logout(request)
        return None, "Your session has ended. Please log in again."
    with request.app.state.pool.store() as store:
        user = accounts.get(store.db, name)
        still_open = sessions.is_open(store.db, request.session.get(SID), name)
    if user is None or user.disabled:
        logout(request)
        return None, "Your account is disabled."
    if not still_open:
        logout(request)
        return None, "Your session has ended. Please log in again."
    request.session[SEEN_AT] = now
    return user, None


def _check(request: Request, roles: tuple[str, ...]) -> Response | None:
    """None when the request may go on; else the redirect or refusal to send."""
    user, ended = current_user(request)
    if user is None:
        return _to_login(request, ended)
    request.scope["user"] = user
    if not accounts.allowed(user, roles):
        return error(request, 403, "Not allowed",
                     f"This page is for {' or '.join(dict.fromkeys(('owner', *roles)))} accounts;"
                     f" you are logged in as {user.role}.")
    return None


def require(*roles: str):
    """Guard an endpoint (sync or async): not logged in -> 303 to /login?next=...; logged in
    without one of ``roles`` -> 403 (an owner passes every guard). ``require()`` admits any
    logged-in user. The roles are kept on the endpoint (``.roles``) for the route tests."""
    unknown = set(roles) - set(accounts.ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {accounts.ROLES}")

    def wrap(endpoint):
        if inspect.iscoroutinefunction(endpoint):
            @functools.wraps(endpoint)
            async def guarded(request: Request):
                refusal = await run_in_threadpool(_check, request, roles)
                return refusal or await endpoint(request)
        else:
            @functools.wraps(endpoint)
            def guarded(request: Request):
                return _check(request, roles) or endpoint(request)
        guarded.roles = roles
        return guarded

    return wrap
