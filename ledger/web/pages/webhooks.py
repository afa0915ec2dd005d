"""/webhooks (owner): the webhook endpoints, adding one (its secret shown once, on the answer
page itself: never in the session cookie, which is signed, not encrypted), rotating its secret,
disabling and enabling it, and the recent deliveries with their state and last error, each
failed or pending one with a retry button. The same functions as `ledger webhooks` (ledger.webhooks,
ledger.webhook_queue), audited as the web user.

Query string of /webhooks: ``endpoint`` (an endpoint id) and ``state`` (pending, delivered,
failed) filter the deliveries.
"""

from __future__ import annotations

import datetime as dt
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger import events, webhook_queue, webhooks
from ledger.store import LedgerError
from ledger.web.auth import require
from ledger.web.render import flash, render

ENDPOINT_RE = re.compile(r"ep_[0-9a-f]{16}")
RECENT = 50


def _filters(params) -> tuple[str | None, str | None, list[str]]:
    problems = []
    endpoint = params.get("endpoint", "").strip() or None
    if endpoint is not None and not ENDPOINT_RE.fullmatch(endpoint):
        problems.append("“endpoint” is an endpoint id: ep_ and 16 hex digits")
        endpoint = None
    state = params.get("state", "").strip() or None
    if state is not None and state not in webhook_queue.STATES:
        problems.append(f"“state” is one of {', '.join(webhook_queue.STATES)}")
        state = None
    return endpoint, state, problems


def _page(request: Request, status_code: int = 200, problems: list[str] = (), **extra) -> Response:
    """The page; ``extra`` may carry the form's values back, or a secret to show once."""
    endpoint, state, wrong = _filters(request.query_params)
    problems = [*problems, *wrong]
    if problems and status_code == 200:
        status_code = 400
    with request.app.state.pool.store() as store:
        context = {"endpoints": webhooks.endpoints(store), "counts": webhook_queue.counts(store),
                   "deliveries": webhook_queue.deliveries(store, endpoint, state, RECENT)}
    context.update(problems=problems, types=events.TYPES, states=webhook_queue.STATES,
                   chosen_endpoint=endpoint or "", chosen_state=state or "", new_url="",
                   wanted=(), secret=None, secret_for=None, rotated=False)
    return render(request, "webhooks.html", status_code=status_code, **{**context, **extra})


@require("owner")
def webhooks_page(request: Request) -> Response:
    return _page(request)


@require("owner")
async def add_endpoint(request: Request) -> Response:
    form = await request.form()
    url = str(form.get("url", "")).strip()
    wanted = [str(t) for t in form.getlist("events")]
    user = request.scope["user"].name

    def add() -> Response:
        try:
            with request.app.state.pool.store() as store:
                endpoint, secret = webhooks.add(store, url, wanted, user, "web")
        except ValueError as exc:
            return _page(request, 400, [str(exc)], new_url=url[:webhooks.MAX_URL],
                         wanted=wanted)
        return _page(request, secret=secret, secret_for=endpoint)

    return await run_in_threadpool(add)


@require("owner")
async def change_endpoint(request: Request) -> Response:
    """rotate, disable or enable: the last part of the path."""
    endpoint_id, what = request.path_params["endpoint"], request.path_params["what"]
    form = await request.form()
    reason = str(form.get("reason", "")).strip()[:200]
    if not reason or not reason.isprintable():
        reason = "disabled in the back office"
    user = request.scope["user"].name
    if not ENDPOINT_RE.fullmatch(endpoint_id) or what not in ("rotate", "disable", "enable"):
        return _page(request, 404, [f"no such webhook action: {what} on {endpoint_id[:40]}"])

    def change() -> Response:
        try:
            with request.app.state.pool.store() as store:
                if what == "rotate":
                    secret = webhooks.rotate(store, endpoint_id, user, "web")
                    return _page(request, secret=secret,
                                 secret_for=webhooks.endpoint(store, endpoint_id), rotated=True)
                webhooks.set_enabled(store, endpoint_id, what == "enable", reason, user, "web")
        except LedgerError as exc:
            return _page(request, 404, [str(exc)])
        flash(request, f"{endpoint_id}: {'enabled' if what == 'enable' else 'disabled'}.")
        return RedirectResponse(request.url_for("webhooks").path, status_code=303)

    return await run_in_threadpool(change)


@require("owner")
def retry_delivery(request: Request) -> Response:
    text, user = request.path_params["delivery"], request.scope["user"].name
    if not (text.isdigit() and 0 < int(text) < 2**63):  # checked after the login, not by route
        return _page(request, 404, [f"no webhook delivery {text[:40]!r}"])
    delivery_id = int(text)
    try:
        with request.app.state.pool.store() as store:
            webhook_queue.retry(store, delivery_id, dt.datetime.now(dt.UTC), user, "web")
    except LedgerError as exc:
        return _page(request, 404, [str(exc)])
    flash(request, f"Delivery {delivery_id} is queued again: the runner sends it now.")
    return RedirectResponse(request.url_for("webhooks").path, status_code=303)


routes = [
    Route("/webhooks", webhooks_page, methods=["GET"], name="webhooks"),
    Route("/webhooks", add_endpoint, methods=["POST"], name="webhook_add"),
    Route("/webhooks/endpoints/{endpoint}/{what}", change_endpoint, methods=["POST"],
          name="webhook_change"),
    Route("/webhooks/deliveries/{delivery}/retry", retry_delivery, methods=["POST"],
          name="webhook_retry"),
]
