"""The HTML report: one self-contained file, readable offline. The charts are SVG drawn by pygal
and inlined (no JavaScript: pygal's tooltip script would be fetched from the network, so it is
switched off, and the inline config script removed); every text from the data is escaped (pygal escapes what it draws).
"""

from __future__ import annotations

import html

import pygal
from pygal.etree import etree
from pygal.style import CleanStyle

from ledger.report import rows

CSS = """body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}td:first-child,th:first-child{text-align:left}.up{color:#1a7f37}
.down{color:#cf222e}figure{margin:1em 0}figcaption{font-weight:bold}"""
HEADLINES = (
    ("members.members", "Members"),
    ("members.new_members", "New members"),
    ("members.active", "Active"),
    ("members.inactive", "Inactive"),
    ("members.dormant", "Dormant"),
    ("baskets.baskets", "Paid baskets"),
    ("baskets.conversion", "Tap-to-attach conversion"),
    ("baskets.repeat_rate", "Repeat-customer rate"),
    ("baskets.visit_frequency", "Visits per visiting member"),
    ("baskets.atv_members_minor", "Average basket, members (minor units)"),
    ("baskets.atv_all_minor", "Average basket, all (minor units)"),
    ("points.issued", "Points issued"),
    ("points.redeemed", "Points redeemed"),
    ("points.expired", "Points expired"),
    ("points.outstanding", "Points outstanding"),
    ("points.liability_minor", "Liability (minor units)"),
    ("points.redemption_rate", "Redemption rate"),
    ("points.breakage", "Breakage"),
)


def _config(title: str, **kw):
    return dict(
        title=title,
        style=CleanStyle,
        js=[],
        disable_xml_declaration=True,
        width=800,
        height=320,
        explicit_size=True,
        **kw,
    )


def _svg(chart) -> str:
    """The chart's SVG without pygal's scripts: its inline config script would carry labels
    into JavaScript, and nothing in the report needs to run."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return etree.tostring(tree, encoding="unicode")


def trend_chart(report: dict, fields: tuple[str, ...], title: str) -> str:
    keys = list(report["trend"])
    chart = pygal.Line(
        **_config(
            title,
            x_label_rotation=45,
            show_minor_x_labels=False,
            x_labels_major_every=max(1, len(keys) // 12),
        )
    )
    chart.x_labels = keys
    for field in fields:
        chart.add(field.replace("_", " "), [report["trend"][k][field] for k in keys])
    return _svg(chart)


def tier_chart(report: dict) -> str:
    chart = pygal.Bar(**_config("Members per tier (now) and who reached it in the period"))
    tiers = report["current"]["tiers"]
    names = list(tiers["distribution"])
    chart.x_labels = names
    chart.add("members", [tiers["distribution"][n] for n in names])
    chart.add("reached in period", [tiers["moved_in"].get(n, 0) for n in names])
    return _svg(chart)


def cohort_chart(report: dict) -> str:
    chart = pygal.Line(
        **_config("Cohort retention: share who paid a basket, by month since joining", range=(0, 1))
    )
    longest = max((len(c["retention"]) for c in report["cohorts"]), default=0)
    chart.x_labels = [str(n) for n in range(longest)]
    for cohort in report["cohorts"]:
        chart.add(f"{cohort['cohort']} ({cohort['members']})", cohort["retention"])
    return _svg(chart)


def reward_chart(report: dict) -> str:
    chart = pygal.HorizontalBar(**_config("Rewards redeemed in the period"))
    for reward_id, used in report["current"]["rewards"].items():
        chart.add(reward_id, used["redemptions"])
    return _svg(chart)


def segment_chart(sizes: dict[str, int]) -> str:
    """Members per segment at the last refresh (ledger.segment_book.sizes)."""
    chart = pygal.HorizontalBar(**_config("Members per segment at the last refresh"))
    for segment_id, size in sizes.items():
        chart.add(segment_id, size)
    return _svg(chart)


def kiosk_chart(kiosks: dict) -> str:
    """Tap-to-attach conversion per kiosk in the period (ledger.kpi_series.kiosks)."""
    chart = pygal.Bar(**_config("Tap-to-attach conversion per kiosk", range=(0, 1)))
    chart.x_labels = list(kiosks)
    chart.add("conversion", [k["conversion"] for k in kiosks.values()])
    return _svg(chart)


def _change(current, previous) -> str:
    if not isinstance(current, int | float) or not isinstance(previous, int | float):
        return ""
    if previous == 0:
        return ""
    change = (current - previous) / abs(previous)
    css = "up" if change > 0 else "down" if change < 0 else ""
    return f'<span class="{css}">{change:+.1%}</span>'


def _value(value) -> str:
    return "–" if value is None else html.escape(str(value))


def headline_table(report: dict) -> str:
    figures = {name: (cur, prev) for name, cur, prev in rows(report)}
    period = report["period"]
    out = [
        f"<table><tr><th>KPI</th><th>{html.escape(period['from'])} to"
        f" {html.escape(period['to'])}</th><th>previous</th><th>change</th></tr>"
    ]
    for name, label in HEADLINES:
        cur, prev = figures.get(name, (None, None))
        out.append(
            f"<tr><td>{label}</td><td>{_value(cur)}</td><td>{_value(prev)}</td>"
            f"<td>{_change(cur, prev)}</td></tr>"
        )
    return "".join(out) + "</table>"


def promotion_table(report: dict) -> str:
    promos = report["current"]["promotions"]
    if not promos:
        return "<p>No dated promotion ran in this period.</p>"
    out = [
        "<table><tr><th>promotion</th><th>window</th><th>members</th><th>spend</th>"
        "<th>same members before</th><th>uplift</th></tr>"
    ]
    for promo_id, p in promos.items():
        uplift = "–" if p["uplift"] is None else f"{p['uplift']:+.1%}"
        out.append(
            f"<tr><td>{html.escape(promo_id)}</td><td>{html.escape(p['from'])} to"
            f" {html.escape(p['to'])}</td><td>{p['members']}</td><td>{p['spend_minor']}"
            f"</td><td>{p['spend_before_minor']}</td><td>{uplift}</td></tr>"
        )
    return "".join(out) + "</table>"


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{html.escape(caption)}</figcaption>{svg}</figure>"


def render(report: dict, title: str = "Loyalty report") -> str:
    """The whole report as one HTML document."""
    scope = ", ".join(f"{k} {v}" for k, v in report["scope"].items() if v) or "all stores"
    period = report["period"]
    head = (
        f"{title}: {scope}, {period['from']} to {period['to']} (previous:"
        f" {period['previous_from']} to {period['previous_to']}); money in"
        f" {report['currency'] or 'any currency'}"
    )
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(head)}</h1>",
        headline_table(report),
        _figure("Baskets", trend_chart(report, ("baskets", "member_baskets"), "Paid baskets")),
        _figure(
            "Points", trend_chart(report, ("issued", "redeemed"), "Points issued and redeemed")
        ),
        _figure("Tiers", tier_chart(report)),
        _figure("Cohorts", cohort_chart(report)),
        _figure("Rewards", reward_chart(report)),
        "<h2>Promotions</h2>",
        promotion_table(report),
        "<p>Definitions: docs/reports.md.</p></body></html>",
    ]
    return "\n".join(parts) + "\n"
