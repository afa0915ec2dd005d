"""Segments on a real SQLite file and a real PostgreSQL database: RFM quintiles and names, rule
segments at their day boundaries, AND/OR, consent-filtered exports, refresh snapshots, and the
program file's [[segments]] checks naming the key."""

import datetime as dt
import io
import json
import uuid
from contextlib import redirect_stdout

import pytest

from ledger import facts, profiles, rfm, segment_book, segment_export
from ledger import segments as rules
from ledger.cli import main
from ledger.store import LedgerStore
from mqtt.timestamps import iso
from program.errors import ProgramError
from program.files import check_body, load_file
from program.segments import parse_segment

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MS = dt.timedelta(milliseconds=1)


def paid(
    store: LedgerStore,
    member_id: str | None,
    at: dt.datetime,
    total: int = 1000,
    shop: str = "store-1",
    items=({"sku": "latte", "qty": 1, "unit_minor": 1000, "category": "coffee"},),
) -> None:
    """A paid basket as the ledger records it from a kiosk's op (ledger.facts)."""
    op = {
        "op_id": str(uuid.uuid4()),
        "kind": "basket",
        "basket_id": uuid.uuid4().hex[:12],
        "currency": "EUR",
        "total_minor": total,
        "items": list(items),
        "created_at": iso(at.timestamp()),
        "clock_synced": True,
    }
    with store.transaction():
        facts.record(store, facts.Fact.of(op, (shop, "kiosk-1", 1), member_id))


def rule(body: dict):
    return parse_segment({"id": "test", **body}).rule


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    yield s
    s.close()


def test_quintiles_rank_by_mid_rank_and_ties_share_a_score():
    assert [rfm.quintile(v, [1, 2, 3, 4, 5]) for v in [1, 2, 3, 4, 5]] == [1, 2, 3, 4, 5]
    ten = list(range(10))
    assert [rfm.quintile(v, ten) for v in ten] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm.quintile(7, [7, 7, 7]) == 3  # everyone alike: the middle, not "lost"
    # four tied at the bottom share their mid-rank (0.4: 3); the one above them scores 5
    assert [rfm.quintile(v, [1, 1, 1, 1, 9]) for v in (1, 9)] == [3, 5]


def test_rfm_names_the_best_customer_champion_and_the_oldest_lost(store):
    for n in range(5):
        store.add_member(f"M{n}", member_id=f"m{n}")
        for k in range(n + 1):  # m4: most baskets, most money, most recent
            paid(
                store,
                f"m{n}",
                NOW - (60 - 10 * n) * DAY - k * dt.timedelta(hours=1),
                total=500 * (n + 1),
            )
    found = {s.member_id: s for s in rfm.scores(store)}
    assert [(found[f"m{n}"].r, found[f"m{n}"].f, found[f"m{n}"].m) for n in range(5)] == [
        (n + 1, n + 1, n + 1) for n in range(5)
    ]
    assert found["m4"].segment == "champions" and found["m0"].segment == "lost"
    assert found["m4"].baskets == 5 and found["m4"].amount_minor == 5 * 2500
    assert rfm.segment_of(5, 1, 1) == "new" and rfm.segment_of(2, 5, 5) == "at-risk"
    assert rfm.segment_of(2, 1, 1) == "hibernating" and rfm.segment_of(3, 2, 2) == "potential"
    assert rfm.segment_of(3, 4, 1) == "loyal"


def test_last_purchase_days_counts_whole_days_back_from_now(store):
    for name, ago in (
        ("exact", 30 * DAY),
        ("short", 30 * DAY - MS),
        ("long", 31 * DAY - MS),
        ("past", 31 * DAY),
    ):
        store.add_member(name, member_id=name)
        paid(store, name, NOW - ago)
    store.add_member("never", member_id="never")
    lapsed = rule({"all": [{"last_purchase_days": {"min": 30}}]})
    assert rules.members(store, lapsed, NOW) == ["exact", "long", "past"]  # never bought: none
    thirty = rule({"all": [{"last_purchase_days": {"min": 30, "max": 30}}]})
    assert rules.members(store, thirty, NOW) == ["exact", "long"]
    recent = rule({"all": [{"last_purchase_days": {"max": 29}}]})
    assert rules.members(store, recent, NOW) == ["short"]


def test_purchases_in_a_period_include_its_first_moment_only(store):
    store.add_member("A", member_id="a")
    store.add_member("B", member_id="b")
    for who, oldest in (("a", 90 * DAY), ("b", 90 * DAY + MS)):
        for ago in (oldest, 10 * DAY, DAY):
            paid(store, who, NOW - ago, total=2000)
    three = rule({"all": [{"purchases": {"days": 90, "min": 3}}]})
    assert rules.members(store, three, NOW) == ["a"]
    ever = rule(
        {
            "all": [
                {"purchases": {"min": 3, "max": 3}},
                {"amount": {"min": 6000}},
                {"average_amount": {"min": 2000, "max": 2000}},
            ]
        }
    )
    assert rules.members(store, ever, NOW) == ["a", "b"]
    none = rule({"all": [{"purchases": {"max": 0}}]})
    store.add_member("C", member_id="c")
    assert rules.members(store, none, NOW) == ["c"]  # a count of no baskets is 0


def test_all_and_any_combine_tier_labels_consent_stores_and_skus(store):
    store.add_member("Gold", member_id="gold", tier="gold")
    store.add_member("Vip", member_id="vip")
    store.add_member("Mail", member_id="mail", birth_month=6)
    store.add_member("Plain", member_id="plain", tier="gold")
    profiles.update(store, "vip", {}, labels=["vip"])
    profiles.set_consent(store, "mail", "email", True, "staff", "v1")
    paid(store, "gold", NOW - DAY, shop="store-2")
    paid(store, "plain", NOW - DAY, items=({"sku": "cake", "qty": 1, "unit_minor": 1000},))
    paid(store, "vip", NOW - DAY)
    either = rule({"any": [{"label": "vip"}, {"consent": "email"}]})
    assert rules.members(store, either, NOW) == ["mail", "vip"]
    both = rule({"all": [{"tier": ["gold"]}, {"any": [{"store": "store-2"}, {"label": "vip"}]}]})
    assert rules.members(store, both, NOW) == ["gold"]
    coffee = rule({"all": [{"bought": {"categories": ["coffee"], "days": 7}}]})
    assert rules.members(store, coffee, NOW) == ["gold", "vip"]
    shares = rule({"all": [{"store_share": {"store": "store-1", "min": 100}}]})
    assert rules.members(store, shares, NOW) == ["plain", "vip"]
    born = rule({"all": [{"birthday_month": "current"}]})
    assert rules.members(store, born, NOW) == ["mail"]
    assert rules.members(store, rule({"all": [{"balance": {"max": 0}}]}), NOW) == [
        "gold",
        "mail",
        "plain",
        "vip",
    ]


def test_export_keeps_only_members_whose_consent_holds_now(store):
    for name in ("ada", "ben", "cy", "dee"):
        store.add_member(name.title(), member_id=name)
        profiles.update(store, name, {"email": f"{name}@example.org"}, labels=["news"])
    profiles.set_consent(store, "ada", "email", True, "kiosk", "v1")
    profiles.set_consent(store, "ben", "email", True, "kiosk", "v1")
    profiles.set_consent(store, "ben", "email", False, "web", "v1")  # withdrawn since
    profiles.set_consent(store, "cy", "sms", True, "kiosk", "v1")  # another channel
    profiles.set_consent(store, "dee", "email", True, "kiosk", "v1")
    profiles.forget(store, "dee")
    segment_book.add(store, {"id": "news", "all": [{"label": "news"}]})
    assert [r["member_id"] for r in segment_export.rows(store, "news")] == ["ada", "ben", "cy"]
    mailable = segment_export.rows(store, "news", consent="email")
    assert [(r["member_id"], r["email"]) for r in mailable] == [("ada", "ada@example.org")]
    out = io.StringIO()
    segment_export.write(mailable, "csv", out)
    assert out.getvalue().splitlines() == [
        "member_id,name,email,phone,language,tier,balance",
        "ada,Ada,ada@example.org,,,member,0",
    ]


def test_refresh_records_sizes_and_who_entered_and_left(store):
    store.add_member("Ada", member_id="ada")
    store.add_member("Ben", member_id="ben")
    segment_book.add(store, {"id": "buyers", "all": [{"purchases": {"min": 1}}]})
    paid(store, "ada", NOW - DAY)
    first = segment_book.refresh(store, NOW)
    assert ("buyers", "ada") in first.entered and first.sizes["buyers"] == 1
    assert first.sizes["potential"] == 1  # one scored member: everyone ties at 3
    paid(store, "ben", NOW - MS)
    with store.transaction():
        store.db.execute("DELETE FROM basket_lines")
        store.db.execute("DELETE FROM baskets WHERE member_id='ada'")
    second = segment_book.refresh(store, NOW + DAY)
    assert ("buyers", "ben") in second.entered and ("buyers", "ada") in second.left
    assert segment_book.sizes(store, "buyers") == [(first.at, 1), (second.at, 1)]
    assert segment_book.members(store, "potential") == ["ben"]
    assert segment_book.score(store, "ben").baskets == 1


def test_two_refreshes_in_one_millisecond_both_succeed_and_the_later_sizes_stand(store):
    """A scheduled refresh and an owner's can land in the same millisecond (the sizes' key)."""
    store.add_member("Ada", member_id="ada")
    segment_book.add(store, {"id": "buyers", "all": [{"purchases": {"min": 1}}]})
    assert segment_book.refresh(store, NOW).sizes["buyers"] == 0
    paid(store, "ada", NOW - DAY)
    again = segment_book.refresh(store, NOW)
    assert ("buyers", "ada") in again.entered
    assert segment_book.sizes(store, "buyers") == [(again.at, 1)]


def test_program_file_segments_are_checked_with_the_key_named(tmp_path):
    base = {"version": 2, "name": "Shop", "currency": "EUR"}
    good = {
        **base,
        "segments": [{"id": "lapsed", "all": [{"last_purchase_days": {"min": 30}}]}],
        "promotions": [{"id": "back", "multiplier": 2, "segments": ["lapsed", "champions"]}],
    }
    assert check_body(good) is good
    bad = {**base, "segments": [{"id": "lapsed", "all": [{"purchases": {"min": "3"}}]}]}
    with pytest.raises(ProgramError, match=r"segments\[0\] \(lapsed\)\.all\[0\]\.purchases\.min"):
        check_body(bad)
    unknown = {
        **base,
        "rewards": [
            {
                "id": "r",
                "name": "R",
                "cost": 1,
                "kind": "amount_off",
                "amount_minor": 1,
                "segments": ["vips"],
            }
        ],
    }
    with pytest.raises(ProgramError, match=r"rewards\[0\] \(r\)\.segments names segment 'vips'"):
        check_body(unknown)
    path = tmp_path / "shop.toml"
    path.write_text(
        'version = 2\nname = "Shop"\ncurrency = "EUR"\n[[segments]]\nid = "x"\n'
        'any = [{ tier = "gold" }, { spend = { min = 1 } }]\n'
    )
    with pytest.raises(
        ProgramError,
        match=r"shop.toml: segments\[0\] \(x\)\.any\[1\]: unknown"
        " criterion 'spend'",
    ):
        load_file(path)


def test_an_export_holds_no_write_lock_while_it_reads_the_audience(tmp_path, monkeypatch, capsys):
    """On SQLite a write transaction queues every worker's sales behind it: reading a big
    segment's audience must not happen inside one (the audit row is written after)."""
    from tests.test_write_lock import lock_taken

    db = str(tmp_path / "ledger.db")
    store = LedgerStore(db)
    store.add_member("Ada", member_id="ada")
    with store.transaction():
        pass  # the writers' lock file exists from here on
    store.close()
    assert main(["segments", "add", "everyone", "--db", db,
                 "--rule", '{"all": [{"balance": {"min": 0}}]}']) == 0
    read = segment_export.audience
    held: list[bool] = []

    def watched(*args, **kwargs):
        held.append(lock_taken(db))
        return read(*args, **kwargs)

    monkeypatch.setattr(segment_export, "audience", watched)
    assert main(["segments", "export", "everyone", "--db", db, "--format", "csv"]) == 0
    assert held == [False] and "ada" in capsys.readouterr().out


def test_a_refresh_scores_and_evaluates_rules_with_no_write_lock_held(tmp_path, monkeypatch):
    """The slow part of a refresh (seconds at 100,000 members) only reads: on SQLite it must
    not sit inside the write transaction that every worker's sales queue behind."""
    from tests.test_write_lock import lock_taken

    db = str(tmp_path / "ledger.db")
    store = LedgerStore(db)
    store.add_member("Ada", member_id="ada")
    paid(store, "ada", NOW - DAY)
    segment_book.add(store, {"id": "buyers", "all": [{"purchases": {"min": 1}}]})
    held: list[bool] = []
    for module, name in ((rfm, "scores"), (rules, "members")):
        real = getattr(module, name)

        def watched(*args, _real=real, **kwargs):
            held.append(lock_taken(db))
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, watched)
    changes = segment_book.refresh(store, NOW)
    assert held == [False, False] and ("buyers", "ada") in changes.entered
    assert segment_book.sizes(store, "buyers") == [(changes.at, 1)]
    store.close()


def test_cli_adds_lists_and_exports_a_segment(ledger_db, capsys):
    store = LedgerStore(ledger_db)
    store.add_member("Ada", member_id="ada")
    profiles.update(store, "ada", {"email": "ada@example.org"})
    profiles.set_consent(store, "ada", "email", True, "kiosk", "v1")
    paid(store, "ada", dt.datetime.now(dt.UTC) - DAY)
    store.close()
    assert (
        main(
            [
                "segments",
                "add",
                "buyers",
                "--db",
                ledger_db,
                "--rule",
                '{"all": [{"purchases": {"min": 1}}]}',
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "segments",
                "add",
                "bad",
                "--db",
                ledger_db,
                "--rule",
                '{"all": [{"purchases": {"mni": 1}}]}',
            ]
        )
        == 2
    )
    assert "all[0].purchases: unknown key 'mni'" in capsys.readouterr().err
    assert main(["segments", "refresh", "--db", ledger_db]) == 0
    assert "buyers: 1" in capsys.readouterr().out
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            main(
                [
                    "segments",
                    "export",
                    "buyers",
                    "--db",
                    ledger_db,
                    "--format",
                    "jsonl",
                    "--consent",
                    "email",
                ]
            )
            == 0
        )
    assert [json.loads(x)["email"] for x in out.getvalue().splitlines()] == ["ada@example.org"]
    assert main(["segments", "members", "nobody", "--db", ledger_db]) == 1
    assert "no segment nobody" in capsys.readouterr().err


def test_periods_of_several_criteria_in_one_rule_and_one_members_answer_agree(store):
    """PostgreSQL reads every basket criterion of a rule from one pass over the baskets (each
    with its own period); the list and a single member's answer (an offer at a tap) agree."""
    for name in ("old", "new", "both", "none"):
        store.add_member(name.title(), member_id=name)
    for ago in (200, 150):  # two big baskets, long ago, at store-2
        paid(store, "old", NOW - ago * DAY, total=5000, shop="store-2")
    for ago in (20, 10, 5):  # three small ones lately at store-1
        paid(store, "new", NOW - ago * DAY, total=500)
    paid(store, "both", NOW - 200 * DAY, total=9000, shop="store-2")
    paid(store, "both", NOW - 3 * DAY, total=1000)
    cases = [
        ({"all": [{"purchases": {"min": 1, "days": 30}}, {"amount": {"min": 8000}}]}, ["both"]),
        ({"all": [{"average_amount": {"max": 1000, "days": 30}}]}, ["both", "new"]),
        ({"all": [{"average_amount": {"min": 5000}}]}, ["both", "old"]),
        ({"all": [{"store_share": {"store": "store-1", "min": 100, "days": 30}}]}, ["both", "new"]),
        ({"all": [{"store_share": {"store": "store-2", "min": 50}}]}, ["both", "old"]),
        ({"any": [{"store": "store-2"}, {"purchases": {"max": 0}}]}, ["both", "none", "old"]),
        ({"all": [{"amount": {"max": 0, "days": 30}}, {"last_purchase_days": {"min": 100}}]},
         ["old"]),
    ]
    for body, expected in cases:
        assert rules.members(store, rule(body), NOW) == expected, body
        for who in ("old", "new", "both", "none"):
            assert rules.members(store, rule(body), NOW, who) == (
                [who] if who in expected else []), (body, who)
