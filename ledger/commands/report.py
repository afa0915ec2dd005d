"""`ledger report --from DATE --to DATE [--store S] [--lane L] [--kiosk K] --format html|csv|json
[--out FILE]`: the KPIs of docs/reports.md for a period, beside the previous period's."""

from __future__ import annotations

import datetime as dt
import sys

from ledger.commands import add_db_option, open_store

FORMATS = ("html", "csv", "json")
MAX_DAYS = 3660


def _date(text: str) -> dt.date:
    import argparse
    import re

    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31")


def _days(text: str) -> int:
    import argparse

    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 1 to {MAX_DAYS}")
    return int(text)


def register(subs) -> None:
    p = subs.add_parser(
        "report",
        help="KPIs for a period against the previous one",
        description="KPIs for a period (days FROM to TO, both included, UTC)"
        " beside the previous period of as many days; see docs/reports.md.",
    )
    add_db_option(p)
    p.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE")
    p.add_argument(
        "--to",
        dest="last",
        type=_date,
        required=True,
        metavar="DATE",
        help="the last day of the period (included)",
    )
    p.add_argument("--store", help="one store only")
    p.add_argument("--lane", help="one lane only (with --store)")
    p.add_argument("--kiosk", help="one kiosk only")
    p.add_argument("--format", choices=FORMATS, default="json")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.add_argument(
        "--active-days",
        type=_days,
        default=30,
        metavar="N",
        help="a member with a visit in the last N days of the period is active (30)",
    )
    p.add_argument(
        "--dormant-days",
        type=_days,
        default=60,
        metavar="N",
        help="... and dormant with none in the last N days (60)",
    )
    p.set_defaults(func=_report)


def _refusal(args) -> str:
    """Why these arguments make no report ("" when they do), checked before the database."""
    if args.last < args.start:
        return f"--to {args.last} is before --from {args.start}"
    if (args.last - args.start).days + 1 > MAX_DAYS:
        return f"a period of at most {MAX_DAYS} days, not {(args.last - args.start).days + 1}"
    if args.lane is not None and args.store is None:
        return "--lane names a store's lane: give --store too"
    if args.dormant_days <= args.active_days:
        return (
            f"--dormant-days ({args.dormant_days}) must exceed --active-days ({args.active_days})"
        )
    return ""


def _unknown(store, args) -> str:
    """The first of --store, --lane, --kiosk no basket or op ever named ("" when all known)."""
    checks = (
        ("store", "store = ?", [args.store]),
        ("lane", "store = ? AND lane = ?", [args.store, args.lane]),
        ("kiosk", "kiosk = ?", [args.kiosk]),
    )
    for name, where, values in checks:
        if getattr(args, name) is None:
            continue
        seen = store.db.execute(f"SELECT 1 FROM baskets WHERE {where} LIMIT 1", values).fetchone()
        if seen is None and name != "lane":
            seen = store.db.execute(f"SELECT 1 FROM ops WHERE {where} LIMIT 1", values).fetchone()
        if seen is None:
            return f"unknown {name} {getattr(args, name)!r}: no basket or op names it"
    return ""


def _report(args) -> int:
    from ledger import report
    from ledger.report_scope import Period, Scope

    if why := _refusal(args):
        print(f"ledger report: {why}", file=sys.stderr)
        return 2
    store = open_store(args)
    if why := _unknown(store, args):
        print(f"ledger report: {why}", file=sys.stderr)
        return 2
    period = Period(args.start, args.last + dt.timedelta(days=1))
    scope = Scope(args.store, args.lane, args.kiosk)
    figures = report.build(
        store, period, scope, report.settings(store, args.active_days, args.dormant_days)
    )
    store.close()
    return _write(args, _render(args.format, figures))


def _render(fmt: str, figures: dict) -> str:
    from ledger import report

    if fmt == "html":
        from ledger import report_html

        return report_html.render(figures)
    return report.as_csv(figures) if fmt == "csv" else report.as_json(figures)


def _write(args, text: str) -> int:
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        print(f"ledger report: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"ledger report: wrote {args.out}", file=sys.stderr)
    return 0
