"""/fleet (technician, owner): every kiosk by store, alerts first, and a form sending one kiosk a
signed config update (POST /fleet/config).

The rows come from the app's FleetWatch (ledger.fleet_watch: subscribed to the kiosks' retained
status topics for as long as the app runs), so a kiosk that dies shows offline at the next look,
from its last will. The page works without JavaScript (reload it, or its Refresh link); a small
vendored script (static/fleet-refresh.js) refreshes the tables in place every few seconds.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from codes.keys import load_private
from ledger import config_updates, fleet
from ledger.web.auth import require
from ledger.web.render import flash, render

MAX_SETTINGS_TEXT = 4000
REFRESH_S = 5


def _page(request: Request, form: dict | None = None, problem: str = "") -> dict:
    settings = request.app.state.settings
    watch = request.app.state.fleet
    rows = watch.rows() if watch else []
    limit_s = settings.pending_alert_minutes * 60
    alerts = [(r, text) for r in rows if (text := fleet.alert(r, limit_s))]
    return {
        "stores": [(store, list(group)) for store, group in groupby(rows, lambda r: r.store)],
        "alerts": alerts, "alerting": {(r.store, r.kiosk) for r, _ in alerts},
        "watching": watch is not None, "connected": bool(watch and watch.connected),
        "broker": settings.broker, "can_send": bool(settings.broker and settings.config_key),
        "now": dt.datetime.now(dt.UTC).strftime("%H:%M:%S"), "refresh_s": REFRESH_S,
        "form": form or {"kiosk": "", "settings": "", "valid_days": "7"}, "problem": problem,
    }


@require("technician")
def fleet_page(request: Request) -> Response:
    return render(request, "fleet.html", **_page(request))


@require("technician")
async def config_post(request: Request) -> Response:
    form = await request.form()
    fields = {k: str(form.get(k, ""))[:MAX_SETTINGS_TEXT] for k in ("kiosk", "settings",
                                                                   "valid_days")}
    await form.close()
    return await run_in_threadpool(_send, request, fields)


def _send(request: Request, form: dict[str, str]) -> Response:
    settings = request.app.state.settings
    if not (settings.broker and settings.config_key):
        return _refuse(request, form, "this back office has no broker or no config signing key"
                       " (ledger web --mqtt-host, --config-key)", 409)
    store, slash, kiosk = form["kiosk"].partition("/")
    items = [line.strip() for line in form["settings"].splitlines() if line.strip()]
    try:
        if not slash:
            raise ValueError("choose the kiosk to update")
        days = float(form["valid_days"] or "7")
        update = config_updates.build(load_private(settings.config_key), store, kiosk, items,
                                      valid_days=days)
    except ValueError as exc:
        return _refuse(request, form, str(exc), 400)
    if not config_updates.publish(settings.broker, update, client="ledger-web-config"):
        return _refuse(request, form, f"the broker {settings.broker.host}:{settings.broker.port}"
                       " is not reachable; nothing was sent", 502)
    user = request.scope["user"]
    with request.app.state.pool.store() as db_store:
        config_updates.record(db_store, update, user.name, "web")
    flash(request, f"Config update {update.serial} sent to {store}/{kiosk} (retained): the kiosk"
          " applies it, restarts and confirms it once it reaches the broker again.")
    return RedirectResponse(request.url_for("fleet").path, status_code=303)


def _refuse(request: Request, form: dict[str, str], problem: str, status: int) -> Response:
    return render(request, "fleet.html", status_code=status, **_page(request, form, problem))


routes = [
    Route("/fleet", fleet_page, methods=["GET"], name="fleet"),
    Route("/fleet/config", config_post, methods=["POST"], name="fleet_config"),
]
