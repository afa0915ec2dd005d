"""The program on the ledger (SQLite and PostgreSQL): versions and grace, enrolment bonus, tiers,
tier-only rewards, the signed program message, and the properties: the kiosk's preview equals
the ledger's result for the same version and basket, duplicates change nothing, the balance is
the sum of the journal. Then the whole path: `ledger program load`, `ledger serve` publishing
the signed program, a kiosk previewing with it."""

import datetime as dt
import itertools
import json
import logging
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codes.keys import public_text
from codes.member_qr import Ed25519PrivateKey
from display.views import PointsAdded
from ledger.apply import apply_in_savepoint, apply_op, lookup
from ledger.memberstate import member_state
from ledger.programs import ProgramBook
from ledger.store import LedgerStore
from mqtt import messages
from program.engine import Basket, MemberState
from program.files import load_file
from program.signing import signed_message, verify
from simulation.scenario import Runner, World, wait_for

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "program.toml"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = public_text(KEY)
ORIGIN = ("store-1", "kiosk-1", 1)
VERSIONS = itertools.count(10)


def body(**over):
    b = {"version": next(VERSIONS), "name": "Test", "currency": "EUR", "grace_hours": 24}
    b.update(over)
    return b


def sale_op(card, total=1000, items=(), redeem=(), version=1, at="2026-11-26T14:30:00Z"):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card}, "basket_id": "b-1", "currency": "EUR",
            "total_minor": total, "items": [dict(zip(("sku", "qty", "unit_minor", "category"), i,
                                                     strict=True)) for i in items],
            "earn": 0, "redeem": [{"reward_id": r, "points": 1} for r in redeem],
            "created_at": at, "program_version": version}


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    yield s
    s.close()


def new_member(store, balance=0, tier="member"):
    card = uuid.uuid4().hex[:14].upper()
    who = store.add_member("Ada", [card], opening_balance=balance, tier=tier)
    return who, card


def apply(store, op, program=None):
    program = program or ProgramBook.load(store).for_op(op)
    with store.transaction():
        return apply_in_savepoint(store, program, op, ORIGIN)


def test_ops_keep_their_version_within_the_grace_period(store):
    store.save_program(1, body(version=1, earning={"points_per_unit": 1}))
    store.save_program(2, body(version=2, earning={"points_per_unit": 2}, grace_hours=24))
    book = ProgramBook.load(store)
    now = dt.datetime.now(dt.UTC)
    old, new = sale_op("00", version=1), sale_op("00", version=2)
    assert book.for_op(old, now).version == 1  # queued before the change: honoured
    assert book.for_op(old, now + dt.timedelta(hours=25)).version == 2  # past the grace
    assert book.for_op(new, now).version == 2
    assert book.for_op(sale_op("00", version=99), now).version == 2  # unknown: the active one
    who, card = new_member(store)
    assert apply(store, sale_op(card, version=1))["earned"] == 10
    assert apply(store, sale_op(card, version=2))["earned"] == 20


def test_older_or_repeated_versions_are_refused(store):
    from ledger.store import LedgerError

    store.save_program(5, body(version=5))
    with pytest.raises(LedgerError, match="loaded already"):
        store.save_program(5, body(version=5))
    with pytest.raises(LedgerError, match="older than the active version 5"):
        store.save_program(4, body(version=4))


def test_enrolment_bonus_tier_upgrade_and_tier_only_reward(store):
    b = load_file(EXAMPLE) | {"version": 1}
    del b["earning"]["max_points_per_day"]
    store.save_program(1, b)
    card = "04FEEDFACE0001"
    evening = "2026-11-26T20:00:00Z"  # no happy hour
    first = apply(store, {**sale_op(card, total=1000, at=evening), "enrol": True})
    # enrolment bonus 50 + 10 points + first visit bonus 25
    assert first["status"] == "applied" and first["balance"] == 85 and first["earned"] == 35
    who = first["member_id"]
    for _ in range(3):  # 200 points each (the basket cap): 635 over the window -> silver
        last = apply(store, sale_op(card, total=50_000, at=evening))
    assert last["tier"] == "silver" and store.member(who).tier == "silver"
    refused = apply(store, sale_op(card, total=100, redeem=["gold-10"]))
    assert refused["redeemed"] == 0 and "not offered to tier silver" in refused["reason"]
    gold, gold_card = new_member(store, balance=500, tier="gold")
    ok = apply(store, sale_op(gold_card, total=100, redeem=["gold-10"]))
    assert ok["redeemed"] == 150 and not ok.get("reason")


def test_signed_program_message_round_trip_and_tampering():
    b = load_file(EXAMPLE)
    payload = signed_message(b, KEY)
    assert verify(payload, [PUB]).version == b["version"]
    other = public_text(Ed25519PrivateKey.generate())
    with pytest.raises(messages.BadMessage, match="not in \\[program\\] keys"):
        verify(payload, [other])
    msg = json.loads(payload)
    msg["program"]["earning"]["points_per_unit"] = 100  # a forged richer program
    with pytest.raises(messages.BadMessage, match="signature does not match"):
        verify(json.dumps(msg).encode(), [PUB])
    with pytest.raises(messages.BadMessage, match="not JSON"):
        verify(b"{", [PUB])


def test_two_workers_apply_one_op_at_once_on_postgresql(pg_cluster, caplog):
    """Worker B's insert waits on worker A's uncommitted op_id; when A commits, B's unique key
    fails, B retries and answers 'duplicate' with A's result: one journal entry. (SQLite has
    no such race: BEGIN IMMEDIATE serialises the writers.)"""
    from ledger import db

    ledger_db = pg_cluster.database()
    db.upgrade(ledger_db)
    caplog.set_level(logging.INFO, "ledger.apply")
    a, b, watch = LedgerStore(ledger_db), LedgerStore(ledger_db), LedgerStore(ledger_db)
    who, card = new_member(a)
    op = sale_op(card)
    results = {}
    a.db.execute("BEGIN")
    results["a"] = apply_in_savepoint(a, ProgramBook().active, op, ORIGIN)

    def worker_b():
        with b.transaction():
            results["b"] = apply_in_savepoint(b, ProgramBook().active, op, ORIGIN)

    thread = threading.Thread(target=worker_b)
    thread.start()
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    assert wait_for(lambda: watch.db.execute(waiting).fetchone()[0] >= 1, 20)
    a.db.execute("COMMIT")
    thread.join(20)
    assert results["a"]["status"] == "applied" and results["b"]["status"] == "duplicate"
    assert {**results["b"], "status": "applied"} == results["a"]
    assert [e["kind"] for e in a.history(who)] == ["earn"] and a.balance(who) == 10
    assert "clashed with another worker (UniqueViolation)" in caplog.text
    for s in (a, b, watch):
        s.close()


# -- properties ----------------------------------------------------------------------
MULT = st.sampled_from([0, 0.5, 1, 1.25, 2, 3])
PROGRAMS = st.fixed_dictionaries({
    "earning": st.fixed_dictionaries({
        "points_per_unit": st.sampled_from([0.5, 1, 1.5, 2, 3]),
        "rounding": st.sampled_from(["down", "nearest", "up"]),
        "min_spend_minor": st.sampled_from([0, 300]),
        "max_points_per_basket": st.sampled_from([0, 50]),
        "categories": st.fixed_dictionaries({"drinks": MULT, "food": MULT}),
        "skus": st.fixed_dictionaries({"beans": MULT})}),
    "tiers": st.just([{"id": "silver", "min_points": 100000, "multiplier": 1.5}]),
    "promotions": st.lists(st.fixed_dictionaries({
        "id": st.sampled_from(["a", "b", "c"]), "multiplier": MULT,
        "bonus_points": st.integers(0, 20),
        "days": st.lists(st.sampled_from(["mon", "thu", "sat"]), unique=True, max_size=2),
        "hours": st.sampled_from(["00:00-23:59", "09:00-12:00", "14:00-18:00"]),
        "categories": st.lists(st.sampled_from(["drinks", "food"]), unique=True, max_size=1)}),
        max_size=3, unique_by=lambda p: p["id"]),
    "timezone": st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"])})
ITEMS = st.lists(st.tuples(st.sampled_from(["latte", "cake", "beans"]), st.integers(1, 3),
                           st.integers(0, 2000), st.sampled_from(["drinks", "food", ""])),
                 max_size=4)
TIMES = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1),
                     timezones=st.just(dt.UTC))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PROGRAMS, ITEMS, st.integers(0, 3), st.booleans(), TIMES, st.booleans())
def test_preview_equals_ledger_and_duplicates_change_nothing(store, rules, items, discount,
                                                             silver, at, redeem):
    b = body(**rules)
    store.save_program(b["version"], b)
    kiosk_program = verify(signed_message(b, KEY), [PUB])  # what the kiosk runs
    who, card = new_member(store, balance=150, tier="silver" if silver else "member")
    lines = sum(q * u for _, q, u, _ in items)
    op = sale_op(card, total=max(0, lines - discount * 100), items=items,
                 version=b["version"], at=at.isoformat(), redeem=["coffee"] if redeem else [])
    # the kiosk prices with what a lookup told it: balance and tier
    state = MemberState(who, store.balance(who), store.member(who).tier)
    preview = kiosk_program.quote(Basket.from_message(op), state).earn
    first = apply(store, op)
    before = store.history(who)
    again = apply(store, op)
    assert first["earned"] == preview
    assert again == {**first, "status": "duplicate"} and store.history(who) == before
    assert store.balance(who) == sum(e["points"] for e in before) >= 0


def test_default_program_preview_equals_ledger(store):
    """With no program loaded both sides run DefaultProgram (1 point per whole euro)."""
    book = ProgramBook.load(store)
    who, card = new_member(store)
    op = sale_op(card, total=1999)
    assert book.active.quote(Basket.from_message(op), member_state(store, book.active, who)).earn \
        == apply_op_in_tx(store, book.active, op)["earned"] == 19


def apply_op_in_tx(store, program, op):
    with store.transaction():
        return apply_op(store, program, op, ORIGIN)


# -- end to end ---------------------------------------------------------------------------
def test_ledger_publishes_the_signed_program_and_the_kiosk_previews_with_it(tmp_path,
                                                                           monkeypatch):
    key_file, program_file = tmp_path / "program.pem", tmp_path / "shop.toml"
    # the kiosk cannot know a member's visits: leave the first-visit bonus out of this one
    program_file.write_text(EXAMPLE.read_text().replace("first_visit_bonus = 25", ""))
    world = World(tmp_path)
    world.ledger.cli("members")  # creates the database
    pub = subprocess.run([sys.executable, "-m", "ledger.cli", "program", "new-key", str(key_file)],
                         capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.setenv("LEDGER_PROGRAM_KEY", str(key_file))
    world.ledger.cli("program", "load", str(program_file))
    assert "Bean There Rewards (version 2" in world.ledger.cli("program", "show")
    world.cfg["program"]["keys"] = [pub]
    try:
        world.start()
        session = world.kiosk.app.session
        assert wait_for(lambda: session.program.version == 2, 15), "program not received"
        Runner(world).run(["member Ada card=04A1B2C3D4E5F6 balance=240",
                           "open coffee:2:350:coffee cake:1:420:food",
                           "tap 04A1B2C3D4E5F6", "pay"], "test")
        assert wait_for(lambda: world.kiosk.outbox_depth() == 0, 15)
        # The kiosk's preview, shown at once. Read from the views drawn: on a slow machine the
        # result screen may already have made way for the member screen (RESULT_SCREEN_S).
        earned = [view for view in world.kiosk.views
                  if isinstance(view, PointsAdded) and not view.confirmed][-1].earned
        balance = json.loads(world.ledger.cli("balance", "04A1B2C3D4E5F6", "--json"))["balance"]
    finally:
        world.stop()
    # coffee counts double: (7.00 * 2 + 4.20) = 18 points, in or out of happy hour x2
    assert earned in (18, 36) and balance == 240 + earned


def test_kiosk_takes_only_a_program_its_key_signed(broker, tmp_path, caplog):
    from mqtt import topics
    from mqtt.client import MqttLink
    from simulation.simulated_kiosk import SimulatedKiosk, sim_config

    caplog.set_level(logging.INFO)
    good = load_file(EXAMPLE)
    forged = json.loads(signed_message(good, KEY))
    forged["program"]["earning"]["points_per_unit"] = 50
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path, program={"keys": [PUB]})).start()
    pos = MqttLink(host=broker.host, port=broker.port, client_id="forger", clean_start=True)
    pos.start()
    assert pos.wait_connected(10)
    try:
        session = kiosk.app.session
        assert kiosk.app.link.subscribed.wait(10)  # else only the last retained one arrives
        for payload in (signed_message(good, Ed25519PrivateKey.generate()),  # another key
                        json.dumps(forged).encode(), b"\x00junk"):
            assert pos.publish(topics.PROGRAM, payload, 1)
        assert wait_for(lambda: caplog.text.count("bad message on loyalty/v1/program") == 3, 10)
        assert session.program.version == 1 and session.program.name == "Loyalty"  # default
        for words in ("which is not in [program] keys", "the signature does not match",
                      "not UTF-8"):
            assert words in caplog.text
        assert pos.publish(topics.PROGRAM, signed_message(good, KEY), 1, retain=True)
        assert wait_for(lambda: session.program.version == 2, 10)
        assert session.program.name == "Bean There Rewards"
    finally:
        pos.stop()
        kiosk.stop()


def test_points_expire_oldest_first(store):
    b = body(version=1, earning={"expire_after_days": 365},
             rewards=[{"id": "coffee", "name": "Coffee", "cost": 100, "kind": "amount_off",
                       "amount_minor": 250}])
    store.save_program(1, b)
    who, card = new_member(store, balance=300)  # credited 800 days ago
    spent = apply(store, sale_op(card, total=100, redeem=["coffee"], version=1))
    assert spent["redeemed"] == 100  # 400 days ago, as back-dated below
    apply(store, sale_op(card, total=5000, version=1))  # 50 points, 10 days ago
    for kind, days in (("adjust", 800), ("redeem", 400), ("earn", 10)):
        at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
        store.db.execute("UPDATE journal SET at=? WHERE member_id=? AND kind=?", (at, who, kind))
    program = ProgramBook.load(store).active
    # 300 old points, 100 of them spent (oldest first): 200 expire; the 51 recent ones stay
    assert lookup(store, program, {"member_id": who})["balance"] == 300 - 100 + 1 + 50 - 200
    ack = apply(store, sale_op(card, total=1000, version=1))
    assert ack["balance"] == 51 + 10
    expired = [e for e in store.history(who) if e["kind"] == "expire"]
    assert [(e["points"], e["reason"]) for e in expired] == [(-200, "points older than 365 days")]
    apply(store, sale_op(card, total=1000, version=1))  # nothing more to expire
    assert len([e for e in store.history(who) if e["kind"] == "expire"]) == 1
    assert store.balance(who) == sum(e["points"] for e in store.history(who)) == 71


def test_tier_kept_until_its_review_date_then_downgraded(store):
    store.save_program(1, body(version=1, tiers=[{"id": "silver", "min_points": 100}],
                               tier_window_days=30, tier_hold_days=90))
    who, card = new_member(store)
    assert apply(store, sale_op(card, total=15_000, version=1))["tier"] == "silver"  # at once

    def back_date(column_sql, days):
        at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
        store.db.execute(column_sql, (at, who))

    back_date("UPDATE journal SET at=? WHERE member_id=?", 40)  # the points leave the window
    back_date("UPDATE members SET tier_since=? WHERE member_id=?", 40)
    kept = apply(store, sale_op(card, total=1000, version=1))
    assert kept["tier"] == "silver" and store.member(who).tier == "silver"  # review in 50 days
    back_date("UPDATE journal SET at=? WHERE member_id=?", 40)
    back_date("UPDATE members SET tier_since=? WHERE member_id=?", 91)  # review date passed
    assert apply(store, sale_op(card, total=1000, version=1))["tier"] == "member"
    assert store.member(who).tier == "member"


def test_punch_card_counts_across_visits_once_per_op(store):
    store.save_program(1, body(version=1, punch_cards=[
        {"id": "coffee-card", "categories": ["coffee"], "every": 10, "bonus_points": 100}]))
    who, card = new_member(store)
    latte = [("latte", 3, 300, "coffee")]
    earned = []
    for _ in range(3):  # 9 coffees: not yet
        op = sale_op(card, total=900, items=latte, version=1)
        earned.append(apply(store, op)["earned"])
        assert apply(store, op)["status"] == "duplicate"  # a repeat punches nothing
    earned.append(apply(store, sale_op(card, total=900, items=latte, version=1))["earned"])
    assert earned == [9, 9, 9, 109]  # the 10th coffee fills the card
    assert store.punches(who) == {"coffee-card": 12}


def test_promotion_limits_per_member_per_day_and_ever(store):
    store.save_program(1, body(version=1, timezone="Europe/Berlin", promotions=[
        {"id": "daily", "bonus_points": 5, "limit_per_member_per_day": 2},
        {"id": "once", "bonus_points": 50, "limit_per_member": 1}]))
    who, card = new_member(store)
    day1, day2 = "2026-11-26T10:00:00Z", "2026-11-26T23:30:00Z"  # 23:30 UTC is the 27th in Berlin
    earned = []
    for at in (day1, day1, day1, day2):
        op = sale_op(card, total=1000, version=1, at=at)
        earned.append(apply(store, op)["earned"])
        assert apply(store, op)["status"] == "duplicate"  # a repeat uses no promotion
    assert earned == [10 + 5 + 50, 10 + 5, 10, 10 + 5]
    assert store.promo_uses(who, "2026-11-27") == {"daily": (1, 3), "once": (0, 1)}


def test_kiosk_restarted_offline_previews_with_the_program_it_kept(broker, tmp_path, caplog):
    from mqtt import topics
    from mqtt.client import MqttLink
    from simulation.simulated_kiosk import SimulatedKiosk, sim_config

    cfg = sim_config(broker.port, tmp_path, program={"keys": [PUB]})
    ledger_link = MqttLink(host=broker.host, port=broker.port, client_id="ledger-x",
                           clean_start=True)
    ledger_link.start()
    assert ledger_link.wait_connected(10)
    assert ledger_link.publish(topics.PROGRAM, signed_message(load_file(EXAMPLE), KEY), 1,
                               retain=True)
    ledger_link.stop()
    kiosk = SimulatedKiosk(cfg).start()
    assert wait_for(lambda: kiosk.app.session.program.version == 2, 10)
    kiosk.stop()
    cached = Path(cfg["outbox"]["path"]).with_name("program.json")
    assert cached.exists()
    broker.stop()  # the next start is offline
    kiosk = SimulatedKiosk(cfg).start()
    try:
        assert wait_for(lambda: kiosk.app.session.program.version == 2, 10)
        assert not kiosk.online
    finally:
        kiosk.stop()
    text = cached.read_bytes()
    cached.write_bytes(text.replace(b'"points_per_unit":1', b'"points_per_unit":9'))
    assert cached.read_bytes() != text
    caplog.set_level(logging.WARNING)
    kiosk = SimulatedKiosk(cfg).start()  # an edited file is not trusted
    try:
        assert "not used: program: the signature does not match" in caplog.text
        assert kiosk.app.session.program.version == 1 and not kiosk.online
    finally:
        kiosk.stop()


def test_reward_stock_and_per_member_limit(store):
    store.save_program(1, body(version=1, rewards=[
        {"id": "mug", "name": "Mug", "cost": 10, "kind": "free_item", "sku": "mug", "stock": 2},
        {"id": "welcome", "name": "Welcome", "cost": 10, "kind": "amount_off",
         "amount_minor": 100, "limit_per_member": 1}]))
    (ada, ada_card), (bob, bob_card) = new_member(store, 100), new_member(store, 100)
    program = ProgramBook.load(store).active

    def offered(who):
        return [r["reward_id"] for r in lookup(store, program, {"member_id": who})["rewards"]]

    first = apply(store, sale_op(ada_card, total=0, redeem=["mug", "welcome", "welcome"]))
    assert first["redeemed"] == 20
    assert "welcome can be redeemed 1 times per member" in first["reason"]
    assert offered(ada) == ["mug"] and offered(bob) == ["mug", "welcome"]
    second = apply(store, sale_op(bob_card, total=0, redeem=["mug", "mug"]))
    assert second["redeemed"] == 10 and "mug is out of stock (2 redeemed)" in second["reason"]
    assert offered(ada) == [] and offered(bob) == ["welcome"]
    assert [r["what"] for r in store.refusals()] == ["welcome", "mug"]


@pytest.mark.parametrize("overdraft, redeemed, balance", [(0, 0, 60), (50, 100, -40), (30, 0, 60)])
def test_no_negative_balance_unless_the_program_allows_an_overdraft(store, overdraft, redeemed,
                                                                     balance):
    store.save_program(1, body(version=1, overdraft_points=overdraft, rewards=[
        {"id": "coffee", "name": "Coffee", "cost": 100, "kind": "amount_off",
         "amount_minor": 250}]))
    who, card = new_member(store, balance=60)
    ack = apply(store, sale_op(card, total=0, redeem=["coffee"], version=1))
    assert (ack["redeemed"], ack["balance"], store.balance(who)) == (redeemed, balance, balance)
