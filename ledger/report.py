"""A report: the KPIs of a period beside the previous period's (ledger.kpis), the series the
charts draw (ledger.kpi_series), and the same figures as JSON and as CSV rows. The HTML
rendering is ledger.report_html.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from fractions import Fraction

from ledger import kpi_series, kpis
from ledger.programs import ProgramBook
from ledger.report_scope import Period, Scope
from ledger.store import LedgerStore


def settings(ledger: LedgerStore, active_days: int = 30, dormant_days: int = 60) -> kpis.Settings:
    """The active program's currency, value per point and promotions (docs/program.md)."""
    book = ProgramBook.load(ledger)
    body = book.bodies.get(book.version, {}) if book.version is not None else {}
    value = body.get("point_value_minor")
    return kpis.Settings(
        currency=book.active.currency,
        point_value_minor=None if value is None else Fraction(str(value)),
        active_days=active_days,
        dormant_days=dormant_days,
        promotions=tuple(book.active.promotions),
    )


def build(ledger: LedgerStore, period: Period, scope: Scope, s: kpis.Settings) -> dict:
    """Everything a report shows, as plain JSON values.

    On PostgreSQL the cohorts (the longest query: a year of baskets) run on a second connection
    while the rest runs on this one, so the server works on both at once. Each query sees the
    data as of its own start either way (the connections are in autocommit mode), as when they
    run one after the other."""
    with _second_view(ledger) as other, ThreadPoolExecutor(max_workers=1) as pool:
        cohorts = pool.submit(kpi_series.cohorts, other, period, scope) if other else None
        report = kpis.compare(ledger, period, scope, s)
        report["settings"] = {
            "active_days": s.active_days,
            "dormant_days": s.dormant_days,
            "point_value_minor": None if s.point_value_minor is None
            else float(s.point_value_minor),
        }
        report["trend"] = kpi_series.trend(ledger, period, scope, s.currency)
        report["cohorts"] = (cohorts.result() if cohorts
                             else kpi_series.cohorts(ledger, period, scope))
    return report


@contextmanager
def _second_view(ledger: LedgerStore) -> Iterator[LedgerStore | None]:
    """Another read connection to a PostgreSQL ledger; None for SQLite (one file, one core's
    worth of reading) or anything that is not a LedgerStore (the benchmark's DuckDB)."""
    if not (isinstance(ledger, LedgerStore) and ledger.postgres):
        yield None
        return
    other = LedgerStore(ledger.path, readonly=True)
    try:
        yield other
    finally:
        other.close()


def rows(report: dict) -> list[tuple[str, object, object]]:
    """Every figure as (name, this period, previous period): the CSV's rows. Names are dotted
    paths into the JSON (``current.baskets.conversion`` is ``baskets.conversion``); series
    (trend, cohorts) have no previous value."""
    found: list[tuple[str, object, object]] = []
    previous = dict(_flat(report["previous"]))
    for name, value in _flat(report["current"]):
        found.append((name, value, previous.pop(name, None)))
    found += [(name, None, value) for name, value in previous.items()]  # only before
    found += [(f"trend.{name}", value, None) for name, value in _flat(report["trend"])]
    for cohort in report["cohorts"]:
        found.append((f"cohorts.{cohort['cohort']}.members", cohort["members"], None))
        found += [
            (f"cohorts.{cohort['cohort']}.month_{n}", share, None)
            for n, share in enumerate(cohort["retention"])
        ]
    return found


def _flat(value, prefix: str = ""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flat(inner, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def as_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def as_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    period = report["period"]
    writer.writerow(
        [
            "figure",
            f"{period['from']}..{period['to']}",
            f"{period['previous_from']}..{period['previous_to']}",
        ]
    )
    for name, current, previous in rows(report):
        writer.writerow([name, _cell(current), _cell(previous)])
    return out.getvalue()


def _cell(value) -> str:
    return "" if value is None else str(value)
