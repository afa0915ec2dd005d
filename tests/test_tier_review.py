"""Tier reviews on a calendar date, with grace, table-driven with a fixed clock: the review date,
the decision, the program file's checks (pure), then the ledger on SQLite and PostgreSQL: the
review at a sale, and `ledger program review` for every member in batches."""

import datetime as dt
import itertools
import uuid

import pytest

from ledger.apply import apply_in_savepoint
from ledger.memberstate import review_members
from ledger.programs import ProgramBook
from ledger.store import LedgerStore
from program.files import ProgramError, check_body, program_from_body
from program.rules import TierReview

BERLIN = "Europe/Berlin"  # UTC+1 in winter: 00:00 on 1 January is 23:00 UTC on 31 December
TIERS = [{"id": "silver", "min_points": 500}, {"id": "gold", "min_points": 2000}]
BASE = {"version": 1, "name": "Test", "currency": "EUR", "timezone": BERLIN, "tiers": TIERS}


def program(**over):
    return program_from_body(check_body({**BASE, **over}))


def utc(text: str) -> dt.datetime:
    """'2027-01-01T00:00+01:00' (or with Z) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


NEW_YEAR_2027 = utc("2027-01-01T00:00+01:00")
NEW_YEAR_2028 = utc("2028-01-01T00:00+01:00")

# -- the review date ---------------------------------------------------------------------------
REVIEW_DATES = [
    # (what, program keys, reached, last review passed, review date)
    ("no calendar: reached + hold", {"tier_hold_days": 90}, "2026-12-20T10:00Z", None,
     "2027-03-20T10:00Z"),
    ("the issue's example: gold on 20 Dec, hold 90: not the 1 Jan just after",
     {"tier_review": "01-01", "tier_hold_days": 90}, "2026-12-20T10:00+01:00", None,
     "2028-01-01T00:00+01:00"),
    ("hold 0: the next review date", {"tier_review": "01-01"}, "2026-12-20T10:00+01:00", None,
     "2027-01-01T00:00+01:00"),
    ("reached on the review date itself, after 00:00: next year's",
     {"tier_review": "01-01"}, "2027-01-01T10:00+01:00", None, "2028-01-01T00:00+01:00"),
    ("reached at 00:00 on the review date exactly: that review (at least 0 days after)",
     {"tier_review": "01-01"}, "2027-01-01T00:00+01:00", None, "2027-01-01T00:00+01:00"),
    ("reached 23:59 local on 31 Dec: a minute before the review",
     {"tier_review": "01-01"}, "2026-12-31T22:59Z", None, "2027-01-01T00:00+01:00"),
    ("reached 23:30 UTC on 31 Dec, already 1 Jan in Berlin: next year's",
     {"tier_review": "01-01"}, "2026-12-31T23:30Z", None, "2028-01-01T00:00+01:00"),
    ("the same instant in UTC: still 31 Dec there, so the 1 Jan review follows",
     {"tier_review": "01-01", "timezone": "UTC"}, "2026-12-31T23:30Z", None,
     "2027-01-01T00:00Z"),
    ("Kolkata (UTC+5:30): the review is 18:30 UTC the day before",
     {"tier_review": "01-01", "timezone": "Asia/Kolkata"}, "2026-12-31T18:00Z", None,
     "2026-12-31T18:30Z"),
    ("hold lands on a review date: that one", {"tier_review": "03-01", "tier_hold_days": 59},
     "2027-01-01T00:00+01:00", None, "2027-03-01T00:00+01:00"),
    ("hold 365 from the review day itself: the one two years on",
     {"tier_review": "01-01", "tier_hold_days": 365}, "2027-01-01T10:00+01:00", None,
     "2029-01-01T00:00+01:00"),
    ("a review passed: the next one a year on, hold or not",
     {"tier_review": "01-01", "tier_hold_days": 90}, "2026-06-01T10:00+02:00",
     "2027-01-01T00:00+01:00", "2028-01-01T00:00+01:00"),
    ("a review passed in the tier before this one does not count",
     {"tier_review": "01-01"}, "2027-03-01T10:00+01:00", "2027-01-01T00:00+01:00",
     "2028-01-01T00:00+01:00"),
    ("a review date in summer time (UTC+2)", {"tier_review": "07-01"},
     "2027-01-15T10:00+01:00", None, "2027-07-01T00:00+02:00"),
]


@pytest.mark.parametrize("what, keys, reached, reviewed, expected", REVIEW_DATES,
                         ids=[r[0] for r in REVIEW_DATES])
def test_review_date(what, keys, reached, reviewed, expected):
    p = program(**keys)
    assert p.review_date(utc(reached), utc(reviewed) if reviewed else None) == utc(expected)


# -- the decision ------------------------------------------------------------------------------
CAL = {"tier_review": "01-01", "tier_hold_days": 90, "tier_grace_days": 30}
JUNE = "2026-06-01T10:00Z"  # gold reached: the 1 Jan 2027 review is the first due
GRACE_END = "2027-01-31T00:00+01:00"
DECISIONS = [
    # (what, program keys, tier, points, reached, last review passed, now, expected review)
    ("below, before the review date: kept", CAL, "gold", 100, JUNE, None,
     "2026-12-31T22:59Z", TierReview("gold")),
    ("below at the review date (00:00 local): kept in grace", CAL, "gold", 100, JUNE, None,
     "2026-12-31T23:00Z", TierReview("gold", grace_until=utc(GRACE_END))),
    ("below, the last minute of grace", CAL, "gold", 100, JUNE, None, "2027-01-30T22:59Z",
     TierReview("gold", grace_until=utc(GRACE_END))),
    ("below when grace is over: down to what the points reach", CAL, "gold", 100, JUNE, None,
     "2027-01-30T23:00Z", TierReview("member")),
    ("between the thresholds when grace is over: down one tier", CAL, "gold", 900, JUNE, None,
     "2027-02-15T12:00Z", TierReview("silver")),
    ("qualified at the review: passed, recorded", CAL, "gold", 2500, JUNE, None,
     "2027-01-01T09:00Z", TierReview("gold", passed=NEW_YEAR_2027)),
    ("a sale in grace brings the points back: passed", CAL, "gold", 2100, JUNE, None,
     "2027-01-20T12:00Z", TierReview("gold", passed=NEW_YEAR_2027)),
    ("passed already: nothing more to record", CAL, "gold", 2500, JUNE, "2027-01-01T00:00+01:00",
     "2027-01-02T12:00Z", TierReview("gold")),
    ("passed, then below in June: kept until next year's review", CAL, "gold", 100, JUNE,
     "2027-01-01T00:00+01:00", "2027-06-01T12:00Z", TierReview("gold")),
    ("passed, below at next year's review: grace again", CAL, "gold", 100, JUNE,
     "2027-01-01T00:00+01:00", "2028-01-10T12:00Z",
     TierReview("gold", grace_until=utc("2028-01-31T00:00+01:00"))),
    ("the issue's example: gold on 20 Dec, hold 90, below in February: kept", CAL, "gold", 100,
     "2026-12-20T10:00Z", None, "2027-02-15T12:00Z", TierReview("gold")),
    ("years without a visit: the due review and its grace are long past", CAL, "gold", 2500,
     JUNE, None, "2029-03-01T12:00Z", TierReview("gold", passed=utc("2029-01-01T00:00+01:00"))),
    ("years without a visit, below: grace from the latest review date", CAL, "gold", 100,
     JUNE, None, "2029-01-10T12:00Z",
     TierReview("gold", grace_until=utc("2029-01-31T00:00+01:00"))),
    ("up at once, whatever the date", CAL, "member", 600, JUNE, None, "2026-07-01T12:00Z",
     TierReview("silver")),
    ("up from silver to gold before silver's review", CAL, "silver", 2500, "2026-06-30T10:00Z",
     None, "2026-07-01T12:00Z", TierReview("gold")),
    ("a tier the program no longer has: what the points reach, at once", CAL, "platinum", 100,
     JUNE, None, "2026-07-01T12:00Z", TierReview("member")),
    ("reached at an unknown time: due, but the grace still counts", CAL, "gold", 100, None, None,
     "2026-07-01T12:00Z", TierReview("member")),
    ("no calendar: down after reached + hold", {"tier_hold_days": 90}, "gold", 100, JUNE, None,
     "2026-08-30T10:00Z", TierReview("member")),
    ("no calendar: kept within the hold", {"tier_hold_days": 90}, "gold", 100, JUNE, None,
     "2026-08-30T09:59Z", TierReview("gold")),
    ("no calendar, grace: kept after reached + hold", {"tier_hold_days": 90,
                                                       "tier_grace_days": 10},
     "gold", 100, JUNE, None, "2026-09-05T12:00Z",
     TierReview("gold", grace_until=utc("2026-09-09T10:00Z"))),
    ("no calendar, nothing to record when qualified", {"tier_hold_days": 90}, "gold", 2500, JUNE,
     None, "2027-06-01T12:00Z", TierReview("gold")),
]


@pytest.mark.parametrize("what, keys, tier, points, reached, reviewed, now, expected", DECISIONS,
                         ids=[d[0] for d in DECISIONS])
def test_review_decision(what, keys, tier, points, reached, reviewed, now, expected):
    p = program(**keys)
    got = p.review(tier, points, utc(now), utc(reached) if reached else None,
                   utc(reviewed) if reviewed else None)
    assert got == expected


# -- the program file's checks -------------------------------------------------------------------
BAD = [
    ({"tier_review": "13-01"}, "tier_review: expected MM-DD, got '13-01'"),
    ({"tier_review": "00-10"}, "tier_review: expected MM-DD, got '00-10'"),
    ({"tier_review": "04-31"}, "tier_review: expected MM-DD, got '04-31'"),
    ({"tier_review": "1-1"}, "tier_review: expected MM-DD, got '1-1'"),
    ({"tier_review": "01/01"}, "tier_review: expected MM-DD, got '01/01'"),
    ({"tier_review": "2027-01-01"}, "tier_review: expected MM-DD, got '2027-01-01'"),
    ({"tier_review": "02-29"}, "tier_review: '02-29' is not in every year; choose '02-28' or"
                               " '03-01'"),
    ({"tier_review": 101}, "tier_review must be string"),
    ({"tier_grace_days": -1}, "tier_grace_days must be bigger than or equal to 0"),
    ({"tier_grace_days": "30"}, "tier_grace_days must be integer"),
    ({"tier_grace_days": 365}, "tier_grace_days must be smaller than or equal to 364"),
]


@pytest.mark.parametrize("over, message", BAD, ids=[m for _, m in BAD])
def test_bad_review_keys_are_named(over, message):
    with pytest.raises(ProgramError) as err:
        check_body({**BASE, **over})
    assert message in str(err.value)


def test_review_keys_in_toml_and_yaml(tmp_path):
    from program.files import load_file

    (tmp_path / "p.toml").write_text('version = 1\nname = "T"\ncurrency = "EUR"\n'
                                     'tier_review = "01-01"\ntier_grace_days = 30\n')
    (tmp_path / "p.yaml").write_text("version: 1\nname: T\ncurrency: EUR\n"
                                     "tier_review: 01-01\ntier_grace_days: 30\n")
    assert load_file(tmp_path / "p.toml") == load_file(tmp_path / "p.yaml")
    p = program_from_body(load_file(tmp_path / "p.yaml"))
    assert (p.tier_review, p.tier_grace_days) == ((1, 1), 30)


# -- on the ledger: SQLite and PostgreSQL ----------------------------------------------------------
VERSIONS = itertools.count(1)


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    yield s
    s.close()


def load(store, **keys) -> None:
    version = next(VERSIONS)
    store.save_program(version, {**BASE, "version": version, "tier_window_days": 365, **keys})


def member(store, tier: str, reached: str, points: int, earned_at: str) -> str:
    """A member in ``tier`` since ``reached`` with ``points`` earned at ``earned_at``."""
    who = store.add_member(f"M{uuid.uuid4().hex[:4]}", [uuid.uuid4().hex[:14].upper()],
                           tier=tier)
    with store.transaction():
        store.journal(who, "earn", points)
        store.db.execute("UPDATE journal SET at=? WHERE member_id=?", (iso(earned_at), who))
        store.db.execute("UPDATE members SET tier_since=? WHERE member_id=?", (iso(reached), who))
    return who


def iso(text: str) -> str:
    return utc(text).isoformat(timespec="milliseconds")  # the ledger's own format


def review(store, now: str, **kw) -> dict[str, tuple[str, str, bool]]:
    program = ProgramBook.load(store).active
    return {r.member_id: (r.old, r.new, r.grace_until is not None)
            for r in review_members(store, program, now=utc(now), **kw)}


def tiers(store) -> dict[str, str]:
    return {m.member_id: m.tier for m in store.members()}


def test_program_review_every_member_in_batches(store):
    load(store, **CAL)
    autumn = "2026-11-01T12:00Z"
    ada = member(store, "gold", JUNE, 100, autumn)  # below gold: grace, then down
    bob = member(store, "gold", JUNE, 2500, autumn)  # qualifies: passes the review
    cy = member(store, "gold", "2026-12-20T10:00Z", 100, autumn)  # hold 90: the 2028 review
    dee = member(store, "gold", JUNE, 900, autumn)  # silver's points: down one tier
    eve = member(store, "member", JUNE, 0, autumn)
    before = tiers(store)

    in_grace = review(store, "2027-01-02T12:00Z", batch=2)
    assert in_grace == {ada: ("gold", "gold", True), bob: ("gold", "gold", False),
                        cy: ("gold", "gold", False), dee: ("gold", "gold", True),
                        eve: ("member", "member", False)}
    assert tiers(store) == before
    assert store.tier_dates(bob)[1] == iso("2027-01-01T00:00+01:00")  # bob passed
    assert store.tier_dates(ada)[1] is None
    assert review(store, "2027-01-02T12:00Z", batch=2) == in_grace  # idempotent

    after_grace = "2027-02-01T12:00Z"
    dry = review(store, after_grace, dry_run=True, batch=3)
    assert {m: new for m, (old, new, _) in dry.items() if new != old} == \
        {ada: "member", dee: "silver"}
    assert tiers(store) == before  # a dry run writes nothing
    assert review(store, after_grace, batch=3) == dry
    assert tiers(store) == {**before, ada: "member", dee: "silver"}
    assert store.tier_dates(dee)[0] == iso(after_grace)  # silver reached at the review
    again = review(store, after_grace, batch=3)
    assert all(old == new for old, new, _ in again.values())  # idempotent

    # bob's points leave the window in June: he passed on 1 Jan, so he keeps gold until 2028
    store.db.execute("UPDATE journal SET at=? WHERE member_id=?", (iso("2025-01-01T00:00Z"), bob))
    assert review(store, "2027-06-01T12:00Z")[bob] == ("gold", "gold", False)
    assert review(store, "2028-01-31T12:00Z")[bob] == ("gold", "member", False)


def test_program_review_leaves_members_alone_without_a_program(store):
    who = member(store, "gold", JUNE, 0, JUNE)  # a tier given by hand; the default program
    assert review(store, "2027-06-01T12:00Z") == {who: ("gold", "gold", False)}


def days_ago(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


def sale(card: str, total: int, version: int) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card}, "basket_id": "b-1", "currency": "EUR",
            "total_minor": total, "items": [], "earn": 0, "redeem": [],
            "created_at": dt.datetime.now(dt.UTC).isoformat(), "program_version": version}


SALES = [
    # (what, grace days, the sale's total, tier after it, review recorded)
    ("a small sale in grace: kept, not passed", 30, 1000, "gold", False),
    ("a sale in grace that brings the points back: passed", 30, 200_000, "gold", True),
    ("a small sale after grace: down", 3, 1000, "member", False),
    ("after grace, a sale that reaches silver: down to silver", 3, 60_000, "silver", False),
]


@pytest.mark.parametrize("what, grace, total, tier, passed", SALES, ids=[s[0] for s in SALES])
def test_the_review_at_a_sale(store, what, grace, total, tier, passed):
    """The ledger's own clock: the review date was 5 days ago, the member reached gold long
    before and their points have left the window."""
    review_day = days_ago(5).astimezone(dt.UTC)
    if review_day.strftime("%m-%d") == "02-29":
        review_day = days_ago(6)
    load(store, tier_review=review_day.strftime("%m-%d"), tier_grace_days=grace,
         timezone="UTC")
    version = ProgramBook.load(store).version
    card = uuid.uuid4().hex[:14].upper()
    who = store.add_member("Ada", [card], tier="gold")
    with store.transaction():
        store.journal(who, "earn", 2500)
        store.db.execute("UPDATE journal SET at=? WHERE member_id=?",
                         (days_ago(400).isoformat(timespec="milliseconds"), who))
        store.db.execute("UPDATE members SET tier_since=? WHERE member_id=?",
                         (days_ago(500).isoformat(timespec="milliseconds"), who))
    op = sale(card, total, version)
    with store.transaction():
        ack = apply_in_savepoint(store, ProgramBook.load(store).for_op(op), op, ("s", "k", 1))
    assert ack["tier"] == tier == store.member(who).tier
    reviewed = store.tier_dates(who)[1]
    assert (reviewed is not None) == passed
    if passed:  # 00:00 UTC on the review date
        assert reviewed.startswith(review_day.strftime("%Y-%m-%dT00:00:00.000"))


def test_program_review_commits_batch_by_batch_on_postgresql(pg_cluster):
    """Batch 1 is committed (another connection sees it) while batch 2 waits for a member row
    that a ledger worker holds; when the worker commits, the review finishes."""
    import threading

    from ledger import db
    from simulation.scenario import wait_for

    url = pg_cluster.database()
    db.upgrade(url)
    store, worker, watch = LedgerStore(url), LedgerStore(url), LedgerStore(url)
    load(store, **CAL)
    ids = [store.add_member(f"M{i}", member_id=f"m-{i}", tier="gold") for i in range(4)]
    store.db.execute("UPDATE members SET tier_since=?", (iso(JUNE),))
    worker.db.execute("BEGIN")
    worker.lock_member(ids[2])  # a worker applying an op for the third member
    done = {}
    program = ProgramBook.load(store).active
    thread = threading.Thread(target=lambda: done.update(
        {r.member_id: r.new for r in review_members(store, program, now=utc("2027-03-01T12:00Z"),
                                                    batch=2)}))
    thread.start()
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    assert wait_for(lambda: watch.db.execute(waiting).fetchone()[0] >= 1, 20)
    assert [watch.member(m).tier for m in ids] == ["member", "member", "gold", "gold"]
    worker.db.execute("COMMIT")
    thread.join(20)
    assert done == dict.fromkeys(ids, "member")
    assert [watch.member(m).tier for m in ids] == ["member"] * 4
    for s in (store, worker, watch):
        s.close()
