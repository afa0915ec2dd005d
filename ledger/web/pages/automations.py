"""/automations (owner): the eight automations (welcome, win-back, birthday, nearing a reward,
reward available, points expiring, tier up, tier down), each on or off with a switch, and per
automation who would get it now (``plan``: nothing is sent) and its recent sends.

The same functions as `ledger automations` (ledger.automations.settings, plan, sends): the
switch is `ledger automations enable|disable|reset`, audited as the web user; `ledger
automations run` sends what the preview shows, for the automations switched on.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger.automations import sends, settings
from ledger.automations.plan import plan
from ledger.web.auth import require
from ledger.web.render import error, flash, render
from program.automations import NAMES
from program.errors import ProgramError

TITLES = {"welcome": "Welcome", "win_back": "Win-back", "birthday": "Birthday",
          "nearing_reward": "Nearing a reward", "reward_available": "Reward available",
          "points_expiring": "Points expiring", "tier_up": "Tier up", "tier_down": "Tier down"}
SWITCHES = {"enable": True, "disable": False, "reset": None}
SAMPLE, RECENT = 20, 20


def _unusable(request: Request, exc: ProgramError) -> Response:
    return error(request, 500, "Automations unavailable",
                 f"The active program's automations cannot be read: {exc}")


@require("owner")
def automations_page(request: Request) -> Response:
    with request.app.state.pool.store() as store:
        try:
            _, found = settings.active(store)
        except ProgramError as exc:
            return _unusable(request, exc)
        context = {"automations": found, "switches": settings.switches(store),
                   "counts": sends.counts(store)}
    return render(request, "automations.html", titles=TITLES, states=(sends.SENT, sends.FAILED,
                  sends.SENDING), **context)


@require("owner")
def automation_page(request: Request) -> Response:
    name = request.path_params["automation"]
    if name not in NAMES:
        return error(request, 404, "No such automation", f"There is no automation {name[:40]!r}.")
    now = dt.datetime.now(dt.UTC)
    with request.app.state.pool.store() as store:
        try:
            program, found = settings.active(store)
        except ProgramError as exc:
            return _unusable(request, exc)
        items = plan(store, program, found[name], now)  # what `ledger automations preview` shows
        recent = sends.recent(store, name, RECENT)
        switch = settings.switches(store).get(name)
    due = [i for i in items if i.channels]
    held = sorted(Counter(i.reason for i in items if not i.channels).items())
    return render(request, "automation.html", name=name, titles=TITLES, a=found[name],
                  switch=switch, now=now, due=due[:SAMPLE], due_count=len(due), held=held,
                  recent=recent)


@require("owner")
def switch_automation(request: Request) -> Response:
    name, what = request.path_params["automation"], request.path_params["what"]
    if name not in NAMES or what not in SWITCHES:
        return error(request, 404, "No such switch", f"There is no {what[:20]!r} for {name[:40]!r}.")
    with request.app.state.pool.store() as store:
        settings.switch(store, name, SWITCHES[what], request.scope["user"].name, "web")
        try:
            enabled = settings.active(store)[1][name].enabled
        except ProgramError as exc:
            return _unusable(request, exc)
    flash(request, f"{TITLES[name]} is {'on' if enabled else 'off'}"
          f"{' (as the program file says)' if what == 'reset' else ''}.")
    return RedirectResponse(request.url_for("automation", automation=name).path, status_code=303)


routes = [
    Route("/automations", automations_page, methods=["GET"], name="automations"),
    Route("/automations/{automation}", automation_page, methods=["GET"], name="automation"),
    Route("/automations/{automation}/{what}", switch_automation, methods=["POST"],
          name="automation_switch"),
]
