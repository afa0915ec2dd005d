"""Member profiles, consent and privacy through `ledger members` and `ledger consent`, on a real
SQLite file and a real PostgreSQL database: values are checked with clear messages; consent is
history; forgetting a member erases the personal data and keeps every sum; the export holds what
was stored; no personal value reaches a log line."""

import json
import logging

import pytest

from ledger import facts
from ledger.apply import apply_op, lookup
from ledger.cli import main
from ledger.store import LedgerStore
from tests.test_ledger_facts import ORIGIN, PERIOD, basket_op
from tests.test_ledger_refunds import CARD, refund, sale

PERSONAL = ("Dana Scully", "dana@example.org", "+49301234567", "1990-04-23", "oat milk")


@pytest.fixture
def db(ledger_db):
    """Dana with a card, two sales (one refunded in part) and a basket paid without her."""
    from program.engine import DefaultProgram

    store = LedgerStore(ledger_db)
    store.add_member("Dana Scully", [CARD], "dana", opening_balance=50)
    program = DefaultProgram()
    at = {"created_at": "2026-01-05T09:00:00.000+00:00", "clock_synced": True}
    for op in (
        sale("b-1", **at),
        sale("b-2", **at),
        refund("b-1", lines=[("cake", 1)]),
        basket_op("b-3"),
    ):
        with store.transaction():
            apply_op(store, program, op, ORIGIN)
    store.close()
    return ledger_db


def run(capsys, db, *argv):
    status = main([*argv, "--db", db])
    out = capsys.readouterr()
    return status, out.out, out.err


def fill_profile(capsys, db):
    assert (
        run(
            capsys,
            db,
            "members",
            "update",
            "dana",
            "--email",
            "dana@example.org",
            "--phone",
            "+49 30 1234-567",
            "--birth-date",
            "1990-04-23",
            "--language",
            "de",
            "--label",
            "vip",
            "--label",
            "oat",
            "--note",
            "likes oat milk",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            db,
            "consent",
            "give",
            "dana",
            "--channel",
            "email",
            "--where",
            "kiosk",
            "--wording",
            "v1",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            db,
            "consent",
            "withdraw",
            CARD,
            "--channel",
            "email",
            "--where",
            "web",
            "--wording",
            "v2",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            db,
            "consent",
            "give",
            "dana",
            "--channel",
            "sms",
            "--where",
            "staff",
            "--wording",
            "v1",
        )[0]
        == 0
    )


def sums(db):
    store = LedgerStore(db)
    try:
        rows = store.db.execute("SELECT COUNT(*), SUM(points) FROM journal").fetchone()
        baskets = facts.baskets(store, *PERIOD)
        return {
            "balance": store.balance("dana"),
            "journal": tuple(int(x) for x in rows),
            "baskets": [(b.op_id, b.member_id, b.total_minor, b.lines) for b in baskets],
            "returns": facts.returns(store, "", "~"),
            "members": len(store.members()),
        }
    finally:
        store.close()


def test_profile_and_consent_history_as_an_operator_sees_them(capsys, db):
    fill_profile(capsys, db)
    status, out, _ = run(capsys, db, "members", "show", "dana", "--json")
    shown = json.loads(out)
    assert status == 0 and (shown["email"], shown["phone"], shown["birth_date"]) == (
        "dana@example.org",
        "+49301234567",
        "1990-04-23",
    )
    assert shown["language"] == "de" and shown["labels"] == ["oat", "vip"]
    assert [n["note"] for n in shown["notes"]] == ["likes oat milk"]
    assert [(c["channel"], c["given"], c["source"], c["wording"]) for c in shown["consents"]] == [
        ("email", True, "kiosk", "v1"),
        ("email", False, "web", "v2"),
        ("sms", True, "staff", "v1"),
    ]
    assert shown["consents"][0]["address"] == "dana@example.org"
    assert shown["consent_now"]["email"]["given"] is False
    _, text, _ = run(capsys, db, "members", "show", CARD)
    assert "consent email: withdrawn" in text and "consent sms: given" in text
    store = LedgerStore(db)
    assert store.birth_month("dana") == 4  # birthday promotions see the new date
    store.close()


@pytest.mark.parametrize(
    "argv, message",
    [
        (("members", "update", "dana", "--email", "dana at home"), "is not an address"),
        (("members", "update", "dana", "--phone", "12"), "6 to 15 digits"),
        (("members", "update", "dana", "--birth-date", "23.04.1990"), "like 1990-04-23"),
        (("members", "update", "dana", "--language", "German"), "like de, en or pt-BR"),
        (("members", "update", "dana", "--label", "V I P"), "a-z 0-9 -"),
        (
            ("consent", "give", "dana", "--channel", "fax", "--where", "staff", "--wording", "v1"),
            "must be one of email, sms",
        ),
        (
            (
                "consent",
                "give",
                "dana",
                "--channel",
                "email",
                "--where",
                "phone",
                "--wording",
                "v1",
            ),
            "must be one of kiosk, web, staff",
        ),
    ],
)
def test_bad_values_are_refused_with_the_rule(capsys, db, argv, message):
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--db", db])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_unknown_member_and_empty_update_say_so(capsys, db):
    assert run(capsys, db, "members", "update", "nobody", "--language", "de")[::2] == (
        1,
        "ledger: no member or card 'nobody'\n",
    )
    status, _, err = run(capsys, db, "members", "update", "dana")
    assert status == 2 and "nothing to update" in err


def test_export_holds_what_was_stored(capsys, db):
    fill_profile(capsys, db)
    status, out, _ = run(capsys, db, "members", "export", "dana")
    data = json.loads(out)
    assert status == 0 and data["profile"]["email"] == "dana@example.org"
    assert data["profile"]["name"] == "Dana Scully" and data["cards"] == [f"card:{CARD}"]
    assert len(data["profile"]["consents"]) == 3 and data["profile"]["notes"][0]["operator"]
    assert sorted(b["basket_id"] for b in data["baskets"]) == ["b-1", "b-2"]
    assert data["member"]["balance"] == sum(e["points"] for e in data["journal"])


def test_forget_erases_personal_data_and_keeps_every_sum(capsys, db):
    fill_profile(capsys, db)
    before = sums(db)
    status, out, _ = run(capsys, db, "members", "forget", CARD)
    assert status == 0 and "1 card(s) unbound" in out
    assert sums(db) == before
    _, out, _ = run(capsys, db, "members", "export", "dana")
    assert not [p for p in PERSONAL if p in out], "personal data left after forget"
    data = json.loads(out)
    assert data["profile"]["name"] == "forgotten" and data["profile"]["forgotten_at"]
    assert data["cards"] == [] and data["profile"]["labels"] == []
    assert [c["channel"] for c in data["profile"]["consents"]] == ["email", "email", "sms"]
    store = LedgerStore(db)
    # The card is an unknown card now.
    assert store.member_of(f"card:{CARD}") is None and store.find(CARD) is None
    assert store.birth_month("dana") is None
    store.close()
    assert run(capsys, db, "members", "update", "dana", "--email", "x@example.org")[0] == 1
    assert run(capsys, db, "members", "forget", "dana")[0] == 1  # once


def test_no_personal_value_reaches_a_log_line(capsys, caplog, db):
    from program.engine import DefaultProgram

    caplog.set_level(logging.DEBUG)
    fill_profile(capsys, db)
    store = LedgerStore(db)
    program = DefaultProgram()
    with store.transaction():
        apply_op(store, program, sale("b-9", redeem=[{"reward_id": "nope", "points": 5}]), ORIGIN)
    assert lookup(store, program, {"v": 1, "token": {"kind": "uid", "value": CARD}})["found"]
    store.close()
    for argv in (
        ("members", "show", "dana"),
        ("members", "export", "dana"),
        ("members", "forget", "dana"),
    ):
        run(capsys, db, *argv)
    logged = caplog.text
    assert "profile updated (email, phone, birth_date, language, labels, note)" in logged
    assert "consent email withdrawn" in logged and "forgotten" in logged
    assert not [p for p in (*PERSONAL, "Dana", "example.org") if p in logged], logged
