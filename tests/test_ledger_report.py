"""`ledger report` on a real SQLite file and a real PostgreSQL database, over a seeded half year
applied through the ledger's own apply path (tests/report_data.py). Every figure the report
gives (JSON, and the same in CSV) is computed again here in plain Python from the generator's
own record of what happened, by the definitions in docs/reports.md; the HTML renders as one
document whose charts are inline SVG with nothing fetched from the network."""

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser

import pytest

from ledger.cli import main
from ledger.store import LedgerStore
from tests import report_data
from tests.report_data import History

MAY = (dt.date(2026, 5, 1), dt.date(2026, 6, 1))  # the end is exclusive
SCOPES = ({}, {"store": "s1"}, {"store": "s1", "lane": "l2"}, {"kiosk": "k3"})


@pytest.fixture
def seeded(ledger_db):
    store = LedgerStore(ledger_db)
    history = report_data.generate(store)
    store.close()
    return ledger_db, history


def iso(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.000+00:00"


def ratio(part, whole):
    return round(part / whole, 4) if whole else None


def in_scope(paid, scope: dict) -> bool:
    return all(getattr(paid, k) == v for k, v in scope.items())


def expected(
    h: History, start: dt.date, end: dt.date, scope: dict, active_days=30, dormant_days=60
) -> dict:
    """One period's KPIs, from the history's own records (docs/reports.md)."""
    s, e = iso(start), iso(end)
    seen = [b for b in h.baskets if in_scope(b, scope)]
    if scope:
        base = {b.member_id for b in seen if b.member_id and b.at < e}
    else:
        base = {m.member_id for m in h.members.values() if m.created_at < e}
    last = {}
    for b in seen:
        if b.member_id and b.at < e:
            last[b.member_id] = max(last.get(b.member_id, ""), b.at)
    active = sum(1 for m in base if last.get(m, "") >= iso(end - dt.timedelta(days=active_days)))
    inactive = sum(
        1
        for m in base
        if iso(end - dt.timedelta(days=dormant_days))
        <= last.get(m, "")
        < iso(end - dt.timedelta(days=active_days))
    )
    period = [b for b in seen if s <= b.at < e]
    mine = [b for b in period if b.member_id]
    visits = {}
    for b in mine:
        visits[b.member_id] = visits.get(b.member_id, 0) + 1
    journal = [(m, k, p, t) for m in base for k, p, t in h.members[m].journal if t < e]
    now = [(m, k, p) for m, k, p, t in journal if t >= s]
    issued = sum(p for _, k, p in now if k == "earn")  # no bonus or adjustment in the history
    redeemed = -sum(p for _, k, p in now if k.startswith("redeem:"))
    expired = -sum(p for _, k, p in now if k == "expire")
    outstanding = sum(p for _, _, p, _ in journal)
    revenue, member_revenue = sum(b.total_minor for b in period), sum(b.total_minor for b in mine)
    rewards = {}
    for _, k, p in now:
        if k.startswith("redeem:"):
            r = rewards.setdefault(k[7:], {"redemptions": 0, "points": 0})
            r["redemptions"], r["points"] = r["redemptions"] + 1, r["points"] - p
    tiers = sorted({h.members[m].tier for m in base})
    return {
        "members": {
            "members": len(base),
            "new_members": sum(1 for m in base if h.members[m].created_at >= s),
            "active": active,
            "inactive": inactive,
            "dormant": len(base) - active - inactive,
        },
        "baskets": {
            "baskets": len(period),
            "member_baskets": len(mine),
            "revenue_minor": revenue,
            "member_revenue_minor": member_revenue,
            "visitors": len(visits),
            "repeaters": sum(1 for n in visits.values() if n >= 2),
            "repeat_rate": ratio(sum(1 for n in visits.values() if n >= 2), len(visits)),
            "visit_frequency": ratio(len(mine), len(visits)),
            "atv_all_minor": ratio(revenue, len(period)),
            "atv_members_minor": ratio(member_revenue, len(mine)),
            "conversion": ratio(len(mine), len(period)),
        },
        "points": {
            "issued": issued,
            "redeemed": redeemed,
            "expired": expired,
            "refunded": -sum(p for _, k, p in now if k == "refund"),
            "net": sum(p for _, _, p in now),
            "outstanding": outstanding,
            "liability_minor": int(outstanding * 0.5 + 0.5),  # 0.5 minor units a point
            "redemption_rate": ratio(redeemed, issued),
            "breakage": ratio(expired, redeemed + expired),
        },
        "tiers": {
            "distribution": {t: sum(1 for m in base if h.members[m].tier == t) for t in tiers},
            "moved_in": {
                t: n
                for t in tiers
                if (
                    n := sum(
                        1
                        for m in base
                        if h.members[m].tier == t and s <= (h.members[m].tier_since or "") < e
                    )
                )
            },
        },
        "rewards": dict(sorted(rewards.items(), key=lambda kv: (-kv[1]["redemptions"], kv[0]))),
        "promotions": promotion(h, start, end, scope),
    }


def promotion(h: History, start: dt.date, end: dt.date, scope: dict) -> dict:
    promo_id, first, last = report_data.PROMO
    w0, w1 = max(first, start), min(last + dt.timedelta(days=1), end)
    if w0 >= w1:
        return {}
    before = iso(w0 - (w1 - w0))
    seen = [b for b in h.baskets if in_scope(b, scope) and b.member_id]
    buyers = {b.member_id for b in seen if iso(w0) <= b.at < iso(w1)}
    spend = sum(b.total_minor for b in seen if b.member_id in buyers and iso(w0) <= b.at < iso(w1))
    earlier = sum(b.total_minor for b in seen if b.member_id in buyers and before <= b.at < iso(w0))
    return {
        promo_id: {
            "from": w0.isoformat(),
            "to": (w1 - dt.timedelta(days=1)).isoformat(),
            "members": len(buyers),
            "spend_minor": spend,
            "spend_before_minor": earlier,
            "uplift": round(spend / earlier - 1, 4) if earlier else None,
        }
    }


def run(db: str, capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(["report", "--db", db, *args]) == 0
    return capsys.readouterr().out


def scope_args(scope: dict) -> list[str]:
    return [a for k, v in scope.items() for a in (f"--{k}", v)]


@pytest.mark.parametrize("scope", SCOPES, ids=["all", "store", "lane", "kiosk"])
def test_every_figure_matches_the_history(seeded, capsys, scope):
    db, history = seeded
    start, end = MAY
    got = json.loads(
        run(
            db,
            capsys,
            "--from",
            "2026-05-01",
            "--to",
            "2026-05-31",
            "--format",
            "json",
            *scope_args(scope),
        )
    )
    assert got["period"] == {
        "from": "2026-05-01",
        "to": "2026-05-31",
        "previous_from": "2026-03-31",
        "previous_to": "2026-04-30",
    }
    assert got["current"] == expected(history, start, end, scope)
    assert got["previous"] == expected(history, dt.date(2026, 3, 31), start, scope)
    figures = got["current"]
    assert figures["points"]["redeemed"] > 0 and figures["points"]["expired"] > 0
    assert figures["promotions"]["spring-double"]["members"] > 0
    assert figures["baskets"]["baskets"] > figures["baskets"]["member_baskets"] > 0


def test_activity_thresholds_are_the_operators(seeded, capsys):
    db, history = seeded
    got = json.loads(
        run(
            db,
            capsys,
            "--from",
            "2026-05-01",
            "--to",
            "2026-05-31",
            "--active-days",
            "7",
            "--dormant-days",
            "21",
        )
    )
    want = expected(history, *MAY, {}, active_days=7, dormant_days=21)["members"]
    assert got["current"]["members"] == want
    assert want != expected(history, *MAY, {})["members"]  # the thresholds change the split
    assert got["settings"]["active_days"] == 7


def test_a_year_goes_by_month_with_cohorts(seeded, capsys):
    db, h = seeded
    got = json.loads(run(db, capsys, "--from", "2026-01-01", "--to", "2026-06-30"))
    assert list(got["trend"]) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    june = [b for b in h.baskets if b.at.startswith("2026-06")]
    assert got["trend"]["2026-06"]["baskets"] == len(june)
    assert got["trend"]["2026-06"]["revenue_minor"] == sum(b.total_minor for b in june)
    for cohort in got["cohorts"]:
        joined = {
            m.member_id for m in h.members.values() if m.created_at.startswith(cohort["cohort"])
        }
        assert cohort["members"] == len(joined)
        months = [f"2026-{n:02d}" for n in range(int(cohort["cohort"][5:]), 7)]
        assert cohort["retention"] == [
            round(
                len(
                    {b.member_id for b in h.baskets if b.member_id in joined and b.at.startswith(m)}
                )
                / len(joined),
                4,
            )
            for m in months
        ]
    assert got["current"] == expected(h, dt.date(2026, 1, 1), dt.date(2026, 7, 1), {})


def test_csv_carries_the_json_figures(seeded, capsys):
    db, _ = seeded
    args = ["--from", "2026-05-01", "--to", "2026-05-31", "--store", "s1"]
    report = json.loads(run(db, capsys, *args, "--format", "json"))
    table = list(csv.reader(io.StringIO(run(db, capsys, *args, "--format", "csv"))))
    assert table[0] == ["figure", "2026-05-01..2026-05-31", "2026-03-31..2026-04-30"]
    cells = {name: (cur, prev) for name, cur, prev in table[1:]}
    for group, figures in report["current"].items():
        for name, value in figures.items():
            if not isinstance(value, dict):
                previous = report["previous"][group].get(name)
                assert cells[f"{group}.{name}"] == (
                    str(value) if value is not None else "",
                    str(previous) if previous is not None else "",
                )
    day = report["trend"]["2026-05-12"]
    assert cells["trend.2026-05-12.baskets"] == (str(day["baskets"]), "")
    assert cells["points.liability_minor"][0] == str(report["current"]["points"]["liability_minor"])


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("src", "href", "xlink:href") and v]

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_offline_file_with_charts(seeded, capsys, tmp_path):
    db, _ = seeded
    out = tmp_path / "may.html"
    run(
        db,
        capsys,
        "--from",
        "2026-05-01",
        "--to",
        "2026-05-31",
        "--format",
        "html",
        "--out",
        str(out),
    )
    text = out.read_text("utf-8")
    page = Page()
    page.feed(text)
    assert page.tags.count("svg") == 5  # baskets, points, tiers, cohorts, rewards
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert [u for u in page.links if not u.startswith("#")] == []
    assert "url(http" not in text and "@import" not in text
    words = " ".join(page.text)
    assert "Tap-to-attach conversion" in words and "spring-double" in words
    assert "silver" in words and "2026-01 (" in words  # a tier bar label, a cohort line


def test_text_from_the_data_is_escaped(ledger_db, capsys, tmp_path):
    store = LedgerStore(ledger_db)
    store.add_member("Eve", ["04EE00000001"], "eve", opening_balance=50)
    store.db.execute(
        "INSERT INTO ops VALUES (?,?,?,?,?,?,?)",
        ("op-x", "<b>s</b>", "k", 1, "applied", "{}", iso(dt.date(2026, 5, 2))),
    )
    store.close()
    out = tmp_path / "r.html"
    run(
        ledger_db,
        capsys,
        "--from",
        "2026-05-01",
        "--to",
        "2026-05-31",
        "--store",
        "<b>s</b>",
        "--format",
        "html",
        "--out",
        str(out),
    )
    text = out.read_text("utf-8")
    assert "<b>s</b>" not in text and "&lt;b&gt;s&lt;/b&gt;" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-05-31", "--to", "2026-05-01"], "--to 2026-05-01 is before --from"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], "'2026-02-30' is not a date like"),
        (["--from", "May", "--to", "2026-03-01"], "'May' is not a date like"),
        (
            ["--from", "2026-05-01", "--to", "2026-05-31", "--store", "nowhere"],
            "unknown store 'nowhere'",
        ),
        (
            ["--from", "2026-05-01", "--to", "2026-05-31", "--store", "s1", "--lane", "l9"],
            "unknown lane 'l9'",
        ),
        (["--from", "2026-05-01", "--to", "2026-05-31", "--lane", "l1"], "give --store too"),
        (
            ["--from", "2026-05-01", "--to", "2026-05-31", "--active-days", "60"],
            "--dormant-days (60) must exceed --active-days (60)",
        ),
        (["--from", "2026-05-01", "--to", "2026-05-31", "--format", "pdf"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(tmp_path, capsys, args, message):
    db = str(tmp_path / "ledger.db")
    store = LedgerStore(db)
    store.add_member("Ada", ["04AA00000001"], "ada")
    store.db.execute(
        "INSERT INTO baskets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            "op-1",
            "s1",
            "l1",
            "k1",
            "b-1",
            iso(dt.date(2026, 5, 2)),
            iso(dt.date(2026, 5, 2)),
            1,
            "EUR",
            500,
            0,
            "ada",
            iso(dt.date(2026, 5, 2)),
        ),
    )
    store.close()
    with pytest.raises(SystemExit) as exited:
        code = main(["report", "--db", db, *args])
        raise SystemExit(code)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("value", [0, -1, "1", 100001])
def test_a_point_value_outside_its_rule_is_refused(value):
    from program.errors import ProgramError
    from program.files import check_body

    with pytest.raises(ProgramError, match="point_value_minor"):
        check_body({**report_data.PROGRAM, "point_value_minor": value})
