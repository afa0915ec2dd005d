"""/login (the form and its POST) and /logout (POST): sessions start and end here, audited."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger import audit
from ledger.web import accounts, ratelimit, sessions
from ledger.web.auth import SID, current_user, login, logout, require, safe_next
from ledger.web.render import flash, render

ANONYMOUS = "web:anonymous"


def login_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    user, _ = current_user(request)
    if user is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", next=target, name="", problem=None)


async def login_post(request: Request) -> Response:
    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    client = request.client.host if request.client else "unknown"
    problem, status = await run_in_threadpool(_attempt, request, name[:200], password, client)
    if problem is None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", status_code=status, next=target,
                  name=name[:accounts.MAX_NAME], problem=problem)


def _attempt(request: Request, name: str, password: str, client: str) -> tuple[str | None, int]:
    """Check one login; None when the session started, else what to tell and the status."""
    if not name or not password:
        return "Enter your user name and password.", 400
    with request.app.state.pool.store() as store:
        wait = ratelimit.wait_seconds(store.db, name, client)
        if wait:
            return (f"Too many failed logins for this user name or from this address."
                    f" Try again in {wait} seconds."), 429
        user, sid = None, ""
        if len(password) <= accounts.MAX_PASSWORD:
            user = accounts.authenticate(store, name, password)
        with store.transaction() as db:
            if user is None:
                ratelimit.failed(db, name, client)
                audit.record(db, ANONYMOUS, "web", "user.login_failed", f"user:{name}")
            elif user.disabled:
                audit.record(db, ANONYMOUS, "web", "user.login_refused", f"user:{name}",
                             {"why": "disabled"})
            else:
                ratelimit.succeeded(db, name)
                sid = sessions.start(db, name)
                audit.record(db, name, "web", "user.login", f"user:{name}")
    if user is None:
        return "Wrong user name or password.", 401
    if user.disabled:
        return "This account is disabled. Ask an owner to enable it.", 403
    login(request, user, sid)
    return None, 303


@require()
def logout_post(request: Request) -> Response:
    user = request.scope["user"]
    with request.app.state.pool.store() as store, store.transaction() as db:
        sessions.end(db, request.session.get(SID))
        audit.record(db, user.name, "web", "user.logout", f"user:{user.name}")
    logout(request)
    flash(request, "You are logged out.")
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login_form, methods=["GET"], name="login_form"),
    Route("/login", login_post, methods=["POST"], name="login"),
    Route("/logout", logout_post, methods=["POST"], name="logout"),
]
