"""/ : the dashboard. An owner sees the KPIs of ledger/kpis.py for a period and store beside the
previous period: ``ledger.report.build``, the figures of `ledger report`, not computed again,
with segment sizes and each kiosk's conversion, as tables and as charts. Other roles see a
start page.

The charts are pygal's (ledger/report_html.py, the HTML report's), each its own
``image/svg+xml`` answer at /charts/NAME.svg with the page's query string, shown with <img>: the
CSP allows no inline script or style in the page, and an image's SVG runs no script at all.
Figures and charts come from the app's FigureCache (ledger/web/figures.py), rebuilt when the
ledger's data version changes.

Query string: ``from`` and ``to`` (YYYY-MM-DD, both included; default the 30 days to yesterday)
and ``store`` (one the ledger has seen, or empty for all).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import data_version, report, report_html
from ledger.report_html import HEADLINES
from ledger.web.auth import require
from ledger.web.figures import Built, build
from ledger.web.render import error, render

STORES = ("stores",)  # the cache's key of the stores' list
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


# name -> (draw it from the built figures, what it shows: the image's text alternative)
CHARTS = {
    "baskets": (lambda b: report_html.trend_chart(b.figures, ("baskets", "member_baskets"),
                                                  "Paid baskets, and those with a member"),
                "Line chart of paid baskets and member baskets per day or month;"
                " the figures are in the trend table."),
    "points": (lambda b: report_html.trend_chart(b.figures, ("issued", "redeemed"),
                                                 "Points issued and redeemed"),
               "Line chart of points issued and redeemed per day or month;"
               " the figures are in the trend table."),
    "tiers": (lambda b: report_html.tier_chart(b.figures),
              "Bar chart of members per tier; the figures are in the tier table."),
    "segments": (lambda b: report_html.segment_chart(b.segments),
                 "Bar chart of members per segment; the figures are in the segment table."),
    "kiosks": (lambda b: report_html.kiosk_chart(b.kiosks),
               "Bar chart of tap-to-attach conversion per kiosk;"
               " the figures are in the kiosk table."),
}


def figures_for(request: Request) -> tuple[dict, list[str], list[str], Built]:
    """The period and store asked for, the stores, the query's problems and the figures."""
    cache = request.app.state.figures
    with request.app.state.pool.store() as store:
        version = data_version.current(store)
        # The stores too: their list reads every basket, as long as a month's figures.
        stores = cache.get(STORES, version, lambda: known_stores(store.db))
        chosen, problems = choose(request.query_params, stores, dt.datetime.now(dt.UTC).date())
        key = (chosen["from"], chosen["to"], chosen["store"])
        built = cache.get(key, version, lambda: build(store, key))
    return chosen, stores, problems, built


@require()
def dashboard(request: Request) -> Response:
    if request.scope["user"].role != "owner":
        return render(request, "start.html")
    chosen, stores, problems, built = figures_for(request)
    query = urlencode({"from": chosen["from"], "to": chosen["to"], "store": chosen["store"] or ""})
    return render(request, "dashboard.html", status_code=400 if problems else 200,
                  chosen=chosen, stores=stores, problems=problems, figures=built.figures,
                  headlines=headline_rows(built.figures), segments=built.segments,
                  kiosks=built.kiosks, charts={n: alt for n, (_, alt) in CHARTS.items()},
                  query=query)


@require("owner")
def chart(request: Request) -> Response:
    name = request.path_params["chart"]
    if name not in CHARTS:
        return error(request, 404, "Not found", "There is no such chart.")
    _, _, problems, built = figures_for(request)
    if problems:
        return error(request, 400, "Bad query", "; ".join(problems))
    if name not in built.charts:  # drawn once per build; two drawing at once draw the same
        built.charts[name] = CHARTS[name][0](built)
    return Response(built.charts[name], media_type="image/svg+xml")


routes = [
    Route("/", dashboard, methods=["GET"], name="dashboard"),
    Route("/charts/{chart}.svg", chart, methods=["GET"], name="chart"),
]
