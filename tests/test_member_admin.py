"""Staff's member work on a real SQLite file and a real PostgreSQL database: blocking a member
(the counter refuses them, except what was sold before the block), merging a duplicate (sums
kept, a tombstone that sends late ops to the member kept), a replaced card blocked, and every
change audited with its actor."""

import datetime as dt
import uuid

import pytest

from ledger import audit, events, member_admin
from ledger.apply import apply_op, lookup
from ledger.batch import apply_batch
from ledger.cards import add_card, replace_card
from ledger.profiles import profile, set_consent, update
from ledger.report import build, settings
from ledger.report_scope import Period, Scope
from ledger.store import LedgerError, LedgerStore
from program.engine import DefaultProgram

ORIGIN = ("store-1", "kiosk-1", 1)
ADA, BO = "04A1B2C3D4E5F6", "04B0B0B0B0B0B0"
BEFORE = "2026-01-05T09:00:00.000+00:00"  # long before any block these tests make
WHO = ("web:sam", "web")


def sale(card=ADA, total=1000, created_at=None, kind="uid", **kw):
    body = {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": kind, "value": card}, "basket_id": f"b-{uuid.uuid4().hex[:6]}",
            "currency": "EUR", "total_minor": total, "earn": total // 100, "redeem": [],
            "created_at": created_at or dt.datetime.now(dt.UTC).isoformat(),
            "clock_synced": True, "program_version": 1}
    body.update(kw)
    return body


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    s.add_member("Ada Lovelace", [ADA], "ada", opening_balance=100)
    s.add_member("Ada L.", [BO], "ada-2", opening_balance=40)
    yield s
    s.close()


def apply(store, op):
    with store.transaction():
        return apply_op(store, DefaultProgram(), op, ORIGIN)


def ask(store, card, kind="uid"):
    """A kiosk's lookup, as `ledger serve` answers it on the kiosk's own topic."""
    return lookup(store, DefaultProgram(), {"v": 1, "token": {"kind": kind, "value": card}},
                  asker=ORIGIN[:2])


# --- block / unblock --------------------------------------------------------------------------


def test_a_blocked_members_lookup_says_so_and_new_sales_are_refused(store):
    member_admin.block(store, "ada", "card reported stolen", *WHO)
    reply = ask(store, ADA)
    assert reply["found"] is False and reply["reason"].startswith("member_blocked: member blocked")
    ack = apply(store, sale())
    assert ack["status"] == "rejected" and "member blocked" in ack["reason"]
    assert store.balance("ada") == 100
    assert store.applied(ack["op_id"])["status"] == "rejected"  # and a resend gets it again
    assert apply(store, {**sale(), "op_id": ack["op_id"]})["status"] == "rejected"


def test_a_sale_made_offline_before_the_block_still_earns(store):
    member_admin.block(store, "ada", "card reported stolen", *WHO)
    ack = apply(store, sale(created_at=BEFORE))
    assert ack["status"] == "applied" and ack["earned"] == 10
    assert store.balance("ada") == 110


def test_a_sale_from_a_kiosk_without_a_synced_clock_counts_as_after_the_block(store):
    member_admin.block(store, "ada", "stolen", *WHO)
    for op in (sale(created_at=BEFORE, clock_synced=False), sale(created_at="x"),
               sale(created_at="2026-01-05T09:00:00")):  # no zone: no time to compare
        assert apply(store, op)["status"] == "rejected"
    assert store.balance("ada") == 100


def test_the_batch_path_refuses_a_blocked_member_too(store):
    member_admin.block(store, "ada", "stolen", *WHO)
    ops = [sale(), sale(created_at=BEFORE), sale(card=BO)]
    with store.transaction():
        out = apply_batch(store, lambda _op: DefaultProgram(),
                          [(op, ("store-1", "kiosk-1", i)) for i, op in enumerate(ops)])
    assert [r["status"] for r in out] == ["rejected", "applied", "applied"]
    assert store.balance("ada") == 110 and store.balance("ada-2") == 50


def test_unblock_lets_the_member_earn_again_and_both_are_audited(store):
    member_admin.block(store, "ada", "stolen", *WHO)
    with pytest.raises(LedgerError, match="blocked already"):
        member_admin.block(store, "ada", "again", *WHO)
    member_admin.unblock(store, "ada", "card found", *WHO)
    assert ask(store, ADA)["found"] is True
    assert apply(store, sale())["status"] == "applied"
    logged = [(e.actor, e.via, e.action, e.detail["reason"])
              for e in reversed(audit.entries(store.db, target="ada"))
              if e.action.startswith("member.")]
    assert logged[-2:] == [("web:sam", "web", "member.block", "stolen"),
                           ("web:sam", "web", "member.unblock", "card found")]
    changed = [e.data for e in events.since(store.db, types=("member.updated",))]
    assert [d["blocked"] for d in changed] == [True, False]


def test_block_needs_a_reason_and_a_member(store):
    with pytest.raises(ValueError, match="reason"):
        member_admin.block(store, "ada", "  ", *WHO)
    with pytest.raises(LedgerError, match="no member"):
        member_admin.block(store, "nobody", "why", *WHO)
    assert member_admin.blocked(store, "ada") is None


# --- merge ------------------------------------------------------------------------------------


def points_report(store):
    today = dt.date.today()
    report = build(store, Period(today - dt.timedelta(days=30), today + dt.timedelta(days=1)),
                   Scope(), settings(store))
    return report["current"]["points"], report["current"]["baskets"]


def test_merge_keeps_every_sum_and_moves_what_the_duplicate_had(store):
    apply(store, sale(card=BO, total=2500))
    apply(store, sale(card=ADA, total=1000))
    update(store, "ada-2", {"email": "ada@example.org", "phone": "+4930111222"}, ["vip"],
           note="called twice")
    set_consent(store, "ada-2", "email", True, "kiosk", "v1")
    before = {"ada": store.balance("ada"), "ada-2": store.balance("ada-2")}
    report = points_report(store)
    events_before = len(events.since(store.db))

    balance = member_admin.merge(store, "ada", "ada-2", "same person, two cards", *WHO)

    assert balance == before["ada"] + before["ada-2"] == store.balance("ada") == 175
    assert store.balance("ada-2") == 0
    points, baskets = points_report(store)
    assert points == report[0]  # issued, redeemed, outstanding, liability: as they were
    money = ("baskets", "member_baskets", "revenue_minor", "member_revenue_minor", "conversion")
    assert {k: baskets[k] for k in money} == {k: report[1][k] for k in money}
    # Two visitors with one visit each were one customer with two: the report now says so.
    assert (report[1]["visitors"], baskets["visitors"], baskets["repeaters"]) == (2, 1, 1)
    assert sorted(store.cards("ada")) == [f"card:{ADA}", f"card:{BO}"]
    kept = profile(store, "ada")
    assert (kept.name, kept.email, kept.phone, kept.labels) == (
        "Ada Lovelace", "ada@example.org", "+4930111222", ("vip",))
    assert [n["note"] for n in kept.notes] == ["called twice"]
    assert kept.consent("email").given
    tomb = profile(store, "ada-2")
    assert (tomb.name, tomb.email, tomb.labels, tomb.consents) == ("merged", None, (), ())
    assert ask(store, BO)["member"]["id"] == "ada"  # the duplicate's card finds the member kept
    entry = audit.entries(store.db, target="ada")[0]
    assert (entry.action, entry.detail["duplicate"], entry.detail["points_moved"]) == (
        "member.merge", "ada-2", 65)
    new = events.since(store.db)[events_before:]
    assert {(e.type, e.member_id) for e in new} == {("member.updated", "ada"),
                                                    ("member.updated", "ada-2")}


def test_a_late_op_or_lookup_naming_the_duplicate_lands_on_the_member_kept(store):
    member_admin.merge(store, "ada", "ada-2", "duplicate", *WHO)
    # A verified member QR code names the member itself: the duplicate's, printed long ago.
    from ledger.apply import checked_member
    from ledger.proof import Checked

    assert checked_member(store, Checked("qr", "ada-2", True)) == "ada"
    assert lookup(store, DefaultProgram(), {"v": 1, "member_id": "ada-2"})["member"]["id"] == "ada"
    assert store.find("ada-2").member_id == "ada"
    ack = apply(store, sale(card=BO, created_at=BEFORE))
    assert ack["member_id"] == "ada" and store.balance("ada") == 150


def test_merge_refuses_itself_a_tombstone_and_a_blocked_member(store):
    with pytest.raises(LedgerError, match="itself"):
        member_admin.merge(store, "ada", "ada", "why", *WHO)
    member_admin.block(store, "ada-2", "stolen", *WHO)
    with pytest.raises(LedgerError, match="blocked; unblock it first"):
        member_admin.merge(store, "ada", "ada-2", "why", *WHO)
    member_admin.unblock(store, "ada-2", "found", *WHO)
    member_admin.merge(store, "ada", "ada-2", "why", *WHO)
    with pytest.raises(LedgerError, match="merged into ada"):
        member_admin.merge(store, "ada", "ada-2", "why", *WHO)
    assert store.balance("ada") == 140  # the refused merges changed nothing


def test_merge_adds_up_punches(store):
    with store.transaction():
        store.add_punches("ada", "coffee-card", 3)
        store.add_punches("ada-2", "coffee-card", 4)
        store.add_punches("ada-2", "tea-card", 1)
    member_admin.merge(store, "ada", "ada-2", "duplicate", *WHO)
    assert store.punches("ada") == {"coffee-card": 7, "tea-card": 1}
    assert store.punches("ada-2") == {}


# --- a replaced card --------------------------------------------------------------------------


def test_a_replaced_card_is_blocked_and_says_so(store):
    replace_card(store, f"card:{ADA}", "ndef:MEMBER-0107", "web:sam", "web", "lost")
    reply = ask(store, ADA)
    assert reply["found"] is False and reply["reason"].startswith("card_blocked")
    ack = apply(store, sale(enrol=True))  # the old card enrols nobody new
    assert ack["status"] == "rejected" and ack["reason"].startswith("card_blocked")
    assert store.member_of(f"card:{ADA}") is None and len(store.members()) == 2
    assert ask(store, "MEMBER-0107", kind="ndef")["member"]["id"] == "ada"
    entry = audit.entries(store.db, target="ada")[0]
    assert (entry.actor, entry.action, entry.detail["old_card"]) == (
        "web:sam", "card.replace", f"card:{ADA}")


def test_a_sale_with_the_old_card_before_the_replacement_still_earns(store):
    replace_card(store, f"card:{ADA}", "ndef:MEMBER-0107", "web:sam", "web")
    ack = apply(store, sale(created_at=BEFORE))
    assert ack["status"] == "applied" and ack["member_id"] == "ada"
    assert store.balance("ada") == 110


def test_registering_a_blocked_card_again_lifts_the_block(store):
    replace_card(store, f"card:{ADA}", "ndef:MEMBER-0107", "web:sam", "web")
    add_card(store, "ada", f"card:{ADA}", "web:sam", "web")
    assert ask(store, ADA)["member"]["id"] == "ada"


# --- adjust -----------------------------------------------------------------------------------


def test_an_adjustment_needs_a_reason_and_is_audited(store):
    with pytest.raises(LedgerError, match="reason"):
        store.adjust("ada", 5, " ", "sam", actor="web:sam", via="web")
    assert store.adjust("ada", 5, "goodwill", "sam", actor="web:sam", via="web") == 105
    entry = audit.entries(store.db, target="ada")[0]
    assert (entry.actor, entry.action, entry.detail) == (
        "web:sam", "points.adjust", {"points": 5, "reason": "goodwill", "operator": "sam"})
