"""/ : the dashboard. An owner sees the KPIs of ledger/kpis.py for a period and store beside the
previous period: ``ledger.report.build``, the figures of `ledger report` (with the trend and
cohort series, for charts to come), not computed again. Other roles see a start page.

Query string: ``from`` and ``to`` (YYYY-MM-DD, both included; default the 30 days to yesterday)
and ``store`` (one the ledger has seen, or empty for all).
"""

from __future__ import annotations

import datetime as dt
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import report
from ledger.report_html import HEADLINES
from ledger.report_scope import Period, Scope
from ledger.web.auth import require
from ledger.web.render import render

MAX_DAYS = 3660
DEFAULT_DAYS = 30


def _date(params, key: str, default: dt.date) -> tuple[dt.date, str]:
    text = params.get(key, "").strip()
    if not text:
        return default, ""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text), ""
    except ValueError:
        pass
    return default, f"“{text[:40]}” is not a date like 2026-01-31 ({key})"


def choose(params, stores: list[str], today: dt.date) -> tuple[dict, list[str]]:
    """The period and store asked for, and what was wrong with the query (then defaults)."""
    last, bad_to = _date(params, "to", today - dt.timedelta(days=1))
    first, bad_from = _date(params, "from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    problems = [p for p in (bad_from, bad_to) if p]
    if last < first:
        problems.append(f"the period ends ({last}) before it starts ({first})")
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if (last - first).days + 1 > MAX_DAYS:
        problems.append(f"a period is at most {MAX_DAYS} days")
        first = last - dt.timedelta(days=MAX_DAYS - 1)
    store = params.get("store", "").strip() or None
    if store is not None and store not in stores:
        problems.append(f"no basket names a store “{store[:40]}”")
        store = None
    return {"from": first, "to": last, "store": store}, problems


def known_stores(db) -> list[str]:
    rows = db.execute("SELECT DISTINCT store FROM baskets WHERE store IS NOT NULL ORDER BY store")
    return [r[0] for r in rows.fetchall()]


def change(current, previous) -> float | None:
    """The relative change, or None when it has no meaning (no number, nothing before)."""
    numbers = all(isinstance(v, int | float) for v in (current, previous))
    return (current - previous) / abs(previous) if numbers and previous else None


def headline_rows(figures: dict) -> list[dict]:
    by_name = {name: (cur, prev) for name, cur, prev in report.rows(figures)}
    return [
        {"label": label, "current": by_name.get(name, (None, None))[0],
         "previous": by_name.get(name, (None, None))[1],
         "change": change(*by_name.get(name, (None, None)))}
        for name, label in HEADLINES
    ]


@require()
def dashboard(request: Request) -> Response:
    if request.scope["user"].role != "owner":
        return render(request, "start.html")
    with request.app.state.pool.store() as store:
        stores = known_stores(store.db)
        chosen, problems = choose(request.query_params, stores, dt.datetime.now(dt.UTC).date())
        period = Period(chosen["from"], chosen["to"] + dt.timedelta(days=1))
        figures = report.build(store, period, Scope(store=chosen["store"]),
                               report.settings(store))
    return render(request, "dashboard.html", status_code=400 if problems else 200,
                  chosen=chosen, stores=stores, problems=problems, figures=figures,
                  headlines=headline_rows(figures))


routes = [Route("/", dashboard, methods=["GET"], name="dashboard")]
