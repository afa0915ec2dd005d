"""ledger.member_page: what the member's page shows, from the ledger's own answers: balance and
rewards as the kiosk's lookup reply has them, the next tier's distance, points expiring week by
week (points back-dated with time-machine, the one thing moved), history newest first; and
ledger.member_codes: the next time steps' codes, each one the kiosk accepts in its step."""

import datetime as dt
from pathlib import Path

import time_machine

from codes import member_qr
from ledger.apply import lookup
from ledger.member_codes import codes_ahead
from ledger.member_page import page_data
from ledger.store import LedgerStore
from program.files import load_file, program_from_body

PROGRAM = program_from_body(load_file(Path(__file__).parents[1] / "docs/examples/program.toml"))
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def earn_on(store, member_id, points, when):
    with time_machine.travel(when, tick=False), store.transaction():
        store.journal(member_id, "earn", points, reason="test")


def test_the_page_shows_what_the_kiosk_is_told_and_the_way_to_gold(ledger_db):
    store = LedgerStore(ledger_db)
    ada = store.add_member("Ada", [], "ada")
    earn_on(store, ada, 300, NOW - dt.timedelta(days=725))  # expires in 5 days
    earn_on(store, ada, 200, NOW - dt.timedelta(days=710))  # expires in 20 days
    earn_on(store, ada, 400, NOW - dt.timedelta(days=10))
    with time_machine.travel(NOW, tick=False), store.transaction():
        store.journal(ada, "redeem", -100, reason="coffee")
        store.db.execute("UPDATE members SET tier='silver' WHERE member_id=?", (ada,))
    with time_machine.travel(NOW, tick=False):
        page = page_data(store, PROGRAM, ada)
        told = lookup(store, PROGRAM, {"member_id": ada})
    assert page.balance == told["balance"] == 800 and page.rewards == told["rewards"]
    assert page.tier == "Silver"
    assert page.next_tier.name == "Gold" and page.next_tier.needed == 2000 - 400
    assert round(page.next_tier.progress, 2) == 0.2
    # oldest spent first: the 100 redeemed came off the 300 that expire first
    assert [(e.points, (e.by - NOW.date()).days) for e in page.expiring] == [(200, 7), (200, 21)]
    assert [h["kind"] for h in page.history] == ["redeem", "earn", "earn", "earn"]


def test_no_such_member_has_no_page(ledger_db):
    assert page_data(LedgerStore(ledger_db), PROGRAM, "nobody") is None


def test_the_codes_ahead_rotate_and_each_verifies_in_its_own_step():
    key = member_qr.demo_key()
    now = 1_796_238_215.0
    codes = codes_ahead(key, "loyalty", "ada", period=30, steps=20, now=now)
    assert len(codes) == 20 and len({c.text for c in codes}) == 20
    assert codes[0].starts <= now < codes[0].ends == codes[1].starts
    assert codes[-1].ends - now > 9 * 60, "ten minutes without the network"
    for code in codes[:3]:
        parsed = member_qr.parse(code.text)
        assert (parsed.member, parsed.kind, parsed.counter) == ("ada", "m", code.starts // 30)
        assert code.svg.startswith("<svg") and "<script" not in code.svg
