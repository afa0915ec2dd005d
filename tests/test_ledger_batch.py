"""The group-commit fast path (ledger.batch) gives exactly the results of applying the same ops
one by one, on SQLite and PostgreSQL: plain sales, repeats inside and across batches, enrolment
of a new card followed by a sale on it, redemptions, rejections, a program reading history."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.apply import apply_in_savepoint
from ledger.batch import apply_batch
from ledger.store import LedgerStore
from program.engine import DefaultProgram
from program.files import program_from_body

ORIGIN = ("store-1", "kiosk-1", 1)
KNOWN = ["04AA0001", "04AA0002"]
PROGRAMS = {
    "default": DefaultProgram(),
    "strict": DefaultProgram(allow_unverified_uid=False),
    "day cap": program_from_body({"version": 1, "name": "x", "currency": "EUR",
                                  "earning": {"max_points_per_day": 40}}),
}


def sale(card, total=1500, redeem=False):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card}, "basket_id": "b-1", "currency": "EUR",
            "total_minor": total, "earn": 0, "created_at": "x", "program_version": 1,
            "redeem": [{"reward_id": "coffee", "points": 100}] if redeem else []}


@pytest.fixture
def two_stores(ledger_db, request):
    """Two ledgers alike: one applies in batches, the other op by op."""
    if ledger_db.startswith("postgresql"):
        from ledger import db

        other = request.getfixturevalue("pg_cluster").database()
        db.upgrade(other)
    else:
        other = ledger_db + ".2"
    stores = LedgerStore(ledger_db), LedgerStore(other)
    yield stores
    for s in stores:
        s.close()


def setup_members(store, tag):
    for i, card in enumerate(KNOWN):
        store.add_member(f"M{i}", [card + tag], f"m{i}-{tag.lower()}", opening_balance=100)


def normalise(result, tag):
    if result is None:
        return None
    out = dict(result)
    if "member_id" in out:
        out["member_id"] = "enrolled" if out["member_id"].startswith("m-") else \
            out["member_id"].replace(f"-{tag.lower()}", "")
    return out


STEPS = st.lists(st.tuples(st.sampled_from(["known0", "known1", "new", "redeem", "repeat"]),
                           st.integers(0, 9000), st.booleans()), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(STEPS, st.sampled_from(sorted(PROGRAMS)), st.integers(1, 8))
def test_batches_give_the_results_of_one_by_one(two_stores, steps, program_name, batch_size):
    fast, slow = two_stores
    tag = uuid.uuid4().hex[:6].upper()  # fresh members and cards per example
    setup_members(fast, tag)
    setup_members(slow, tag)
    program = PROGRAMS[program_name]
    ops = []
    for what, total, flag in steps:
        if what == "repeat" and ops:
            ops.append(ops[total % len(ops)])
        elif what == "new":
            ops.append(sale(("04BB" if flag else "04BC") + tag, total))
        else:
            ops.append(sale(KNOWN[what == "known1"] + tag, total, redeem=what == "redeem"))
    one_by_one = []
    for op in ops:
        with slow.transaction():
            one_by_one.append(apply_in_savepoint(slow, program, op, ORIGIN))
    batched = []
    for i in range(0, len(ops), batch_size):
        with fast.transaction():
            batch = [(op, ORIGIN) for op in ops[i:i + batch_size]]
            batched += apply_batch(fast, lambda _op: program, batch)
    assert [normalise(r, tag) for r in batched] == [normalise(r, tag) for r in one_by_one]
    for i in range(len(KNOWN)):
        assert fast.balance(f"m{i}-{tag.lower()}") == slow.balance(f"m{i}-{tag.lower()}")
        journal = fast.history(f"m{i}-{tag.lower()}")
        assert fast.balance(f"m{i}-{tag.lower()}") == sum(e["points"] for e in journal)
