"""Pages from templates (ledger/web/templates), with autoescape on for every template.

``render(request, "x.html", **context)`` gives an HTMLResponse; every template sees ``request``,
``user`` (the logged-in User or None), ``flashes`` (messages from the previous request, read
once) and the globals ``csrf_field()`` and ``url(name, **params)``.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ledger.web import csrf

TEMPLATES = Path(__file__).parent / "templates"
FLASH_KEY = "flash"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,  # a misspelt name fails the page, not a blank
)


@jinja2.pass_context
def _csrf_field(context) -> Markup:
    token = csrf.token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(csrf.FIELD, token)


@jinja2.pass_context
def _url(context, name: str, **params) -> str:
    return str(context["request"].url_for(name, **params).path)


env.globals.update(csrf_field=_csrf_field, url=_url)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message for the next page rendered in this session (kind: info, error)."""
    request.session.setdefault(FLASH_KEY, []).append([kind, message])


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    flashes = request.session.pop(FLASH_KEY, []) if "session" in request.scope else []
    user = request.scope.get("user")
    page = env.get_template(template).render(request=request, user=user, flashes=flashes,
                                             **context)
    return HTMLResponse(page, status_code=status_code)


def error(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    """A plain error page (403, 404, ...) in the back office's layout."""
    return render(request, "error.html", status_code=status_code, title=title, message=message)
