"""The member commands as an operator runs them (`ledger members search|block|unblock|merge`,
and the audit of every member-changing command), on SQLite and PostgreSQL."""

import json

import pytest

from ledger import audit
from ledger.audit import cli_actor
from ledger.cli import main
from ledger.store import LedgerStore


@pytest.fixture
def ledger(capsys, ledger_db):
    def run(*argv: str) -> tuple[int, str, str]:
        try:
            status = main([*argv, "--db", ledger_db])
        except SystemExit as exc:  # argparse refuses a value with exit status 2
            status = exc.code
        out = capsys.readouterr()
        return status, out.out, out.err

    run.db = ledger_db
    return run


def actions(db) -> list[tuple[str, str, str, str | None]]:
    store = LedgerStore(db)
    try:
        return [(e.actor, e.via, e.action, e.target) for e in reversed(audit.entries(store.db))]
    finally:
        store.close()


def test_every_member_changing_command_is_audited_as_the_cli_user(ledger):
    me = cli_actor()
    steps = [
        ("members", "add", "--name", "Dana", "--id", "dana", "--card-number", "MEMBER-0042"),
        ("members", "add", "--name", "Dana S", "--id", "dana-2", "--uid", "04D1D2D3D4D5D6"),
        ("members", "update", "dana", "--email", "dana@example.org"),
        ("consent", "give", "dana", "--channel", "email", "--where", "staff", "--wording", "v1"),
        ("adjust", "dana", "20", "--reason", "goodwill", "--operator", "sam"),
        ("cards", "add", "--member", "dana", "--uid", "04E1E2E3E4E5E6"),
        ("cards", "replace", "--card-number", "MEMBER-0042", "--new-card-number", "MEMBER-0107",
         "--reason", "lost at the gym"),
        ("cards", "remove", "--uid", "04E1E2E3E4E5E6"),
        ("members", "block", "dana-2", "--reason", "suspected duplicate"),
        ("members", "unblock", "dana-2", "--reason", "checked"),
        ("members", "merge", "dana", "dana-2", "--reason", "same person"),
        ("members", "forget", "dana"),
    ]
    for step in steps:
        status, _, err = ledger(*step)
        assert status == 0, (step, err)
    assert actions(ledger.db) == [
        (me, "cli", action, target) for action, target in (
            ("member.add", "dana"), ("member.add", "dana-2"), ("member.update", "dana"),
            ("consent.give", "dana"), ("points.adjust", "dana"), ("card.add", "dana"),
            ("card.replace", "dana"), ("card.remove", "dana"), ("member.block", "dana-2"),
            ("member.unblock", "dana-2"), ("member.merge", "dana"), ("member.forget", "dana"))]


def test_the_audit_log_holds_no_contact_data(ledger):
    ledger("members", "add", "--name", "Dana", "--id", "dana")
    ledger("members", "update", "dana", "--email", "dana@example.org", "--phone", "+4930123456")
    store = LedgerStore(ledger.db)
    rows = store.db.execute("SELECT detail FROM audit_log").fetchall()
    store.close()
    assert not [r for r in rows if "example.org" in r[0] or "4930123456" in r[0]]


def test_search_prints_the_members_found(ledger):
    ledger("members", "add", "--name", "Ada Lovelace", "--id", "ada", "--balance", "12")
    ledger("members", "add", "--name", "Grace Hopper", "--id", "grace")
    status, out, _ = ledger("members", "search", "LOVE")
    assert status == 0 and out.split() == ["ada", "12", "pts", "member", "Ada", "Lovelace"]
    status, out, _ = ledger("members", "search", "' OR 1=1 --", "--json")
    assert (status, out) == (0, "")
    _, out, err = ledger("members", "search", "", "--limit", "1", "--json")
    assert json.loads(out)["member_id"] == "ada" and "--offset 1" in err


@pytest.mark.parametrize("argv, message", [
    (("members", "block", "ada", "--reason", " "), "reason must be 1 to 200"),
    (("members", "merge", "ada", "grace"), "--reason"),
    (("adjust", "ada", "5", "--reason", "", "--operator", "sam"), "--reason must be printable"),
    (("adjust", "ada", "5", "--operator", "sam"), "--reason"),
    (("members", "search", "a", "--limit", "500"), "--limit '500' must be a number from 1 to 50"),
])
def test_bad_arguments_are_refused_with_a_message(ledger, argv, message):
    ledger("members", "add", "--name", "Ada", "--id", "ada")
    ledger("members", "add", "--name", "Grace", "--id", "grace")
    status, _, err = ledger(*argv)
    assert status == 2 and message in err
    assert [a for _, _, a, _ in actions(ledger.db)] == ["member.add", "member.add"]


def test_block_merge_and_unknown_members_say_what_went_wrong(ledger):
    ledger("members", "add", "--name", "Ada", "--id", "ada")
    assert ledger("members", "block", "nobody", "--reason", "x")[2] == \
        "ledger: no member or card 'nobody'\n"
    assert ledger("members", "unblock", "ada", "--reason", "x")[2] == \
        "ledger: member ada is not blocked\n"
    assert ledger("members", "merge", "ada", "ada", "--reason", "x")[2] == \
        "ledger: cannot merge member ada into itself\n"
