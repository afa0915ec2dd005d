"""The back office as one Starlette app: ``create_app(db, settings)``.

Layers, outermost first: security headers on every response; the session (a signed, HttpOnly,
SameSite=Lax cookie, Secure unless ``settings.https`` is off); the CSRF check on every unsafe
request. Routes come from the page modules listed in ledger/web/pages/__init__.py; /static
serves ledger/web/static. Requests borrow a database connection from a StorePool (pool.py).
"""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ledger.fleet_watch import FleetWatch
from ledger.web.csrf import CsrfMiddleware
from ledger.web.figures import FigureCache
from ledger.web.headers import SecureHeadersMiddleware
from ledger.web.pages import PAGES
from ledger.web.pool import StorePool
from ledger.web.render import error
from ledger.web.settings import WebSettings
from mqtt.client import TlsOptions

STATIC = Path(__file__).parent / "static"
COOKIE = "ledger_session"


def routes() -> list:
    found = [Mount("/static", app=StaticFiles(directory=STATIC), name="static")]
    for name in PAGES:
        found += importlib.import_module(name).routes
    return found


async def _refused(scope, receive, send) -> None:
    """What the CSRF middleware answers with: the status and page it put in the scope."""
    status, title, message = scope["refusal"]
    await error(Request(scope, receive), status, title, message)(scope, receive, send)


async def _http_error(request: Request, exc: HTTPException):
    titles = {404: "Not found", 405: "Not allowed here"}
    return error(request, exc.status_code, titles.get(exc.status_code, "Error"),
                 exc.detail if exc.status_code not in titles else "There is no such page.")


def _fleet_watch(settings: WebSettings) -> FleetWatch | None:
    """The kiosks' statuses, kept while the app runs (None: no broker given, no fleet)."""
    b = settings.broker
    if b is None:
        return None
    return FleetWatch(b.host, b.port, b.username, b.password,
                      TlsOptions(b.ca_file) if b.ca_file else None, settings.fleet_state,
                      set(settings.kiosks))


def create_app(db: str, settings: WebSettings) -> Starlette:
    pool = StorePool(db, settings.pool_size)
    watch = _fleet_watch(settings)

    @asynccontextmanager
    async def lifespan(app):
        if watch is not None:
            watch.start()  # kiosk statuses arrive from now on, for the fleet page
        yield
        if watch is not None:
            watch.stop()
        pool.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecureHeadersMiddleware, https=settings.https),
            Middleware(SessionMiddleware, secret_key=settings.secret, session_cookie=COOKIE,
                       max_age=settings.absolute_hours * 3600, same_site="lax",
                       https_only=settings.https),
            Middleware(CsrfMiddleware, refuse=_refused),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.state.fleet = watch
    app.state.figures = FigureCache()  # the dashboard's built figures (ledger/web/figures.py)
    app.state.settings = settings
    return app
