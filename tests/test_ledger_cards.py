"""Registering card numbers and UIDs (`ledger members add`, `ledger cards`): what is registered
is what a kiosk's tap is looked up by, bad values are refused naming them, and the documented
commands run as documented."""

from __future__ import annotations

import json
import re
import shlex
import uuid
from pathlib import Path

import pytest

from ledger.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ledger(capsys, tmp_path, monkeypatch):
    """Run `ledger ARGS` in this process on a temporary SQLite file: (status, stdout, stderr)."""
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.db"))

    def run(*args: str) -> tuple[int, str, str]:
        try:
            status = main(list(args))
        except SystemExit as exc:  # argparse refuses a value with exit status 2
            status = exc.code
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


def found(ledger, kind: str, value: str) -> str | None:
    """The member a kiosk's lookup of this token finds (the answer `ledger serve` sends)."""
    status, out, _ = ledger("lookup", kind, value)
    return json.loads(out)["member"]["id"] if status == 0 else None


def test_card_number_given_with_card_is_found_by_the_kiosk_lookup(ledger):
    assert ledger("members", "add", "--name", "Ada", "--id", "ada", "--card", "MEMBER-0042")[0] == 0
    assert found(ledger, "ndef", "MEMBER-0042") == "ada"  # the token a tapped card gives
    assert ledger("members", "add", "--name", "Bo", "--card", "MEMBER-0042")[0] == 1  # no duplicate


def test_card_number_and_uid_options(ledger):
    status, out, err = ledger(
        "members",
        "add",
        "--name",
        "Ada",
        "--id",
        "ada",
        "--card-number",
        "MEMBER-0042",
        "--uid",
        "04a1b2c3d4e5f6",
    )
    assert (status, out, err) == (0, "ada\n", "")
    assert found(ledger, "ndef", "MEMBER-0042") == "ada"
    assert found(ledger, "uid", "04A1B2C3D4E5F6") == "ada"
    assert found(ledger, "sun", "04A1B2C3D4E5F6") == "ada"  # the same chip, SUN-verified
    assert found(ledger, "uid", "MEMBER-0042") is None


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--card-number", "MEMBER 0043", "is not 4 to 32 of A-Z a-z 0-9 -"),
        ("--card-number", "M-1", "is not 4 to 32"),
        ("--uid", "04zz", "is not 8 to 20 hex digits"),
        ("--uid", "04A1B2C3D", "is not 8 to 20 hex digits"),
        ("--card", "04AA", "use --card-number for a number printed on a card"),
        ("--card", "caf\u00e9-0001", "is not 4 to 32"),
    ],
)
def test_bad_card_values_exit_2_naming_the_value(ledger, option, value, words):
    status, _, err = ledger("members", "add", "--name", "Ada", option, value)
    assert status == 2 and repr(value) in err and words in err and option in err
    assert ledger("members")[1] == ""  # nobody was created
    status, _, err = ledger(
        "cards",
        "add",
        "--member",
        "ada",
        *(["--uid", value] if option == "--card" else [option, value]),
    )
    assert status == 2 and repr(value) in err


def test_hex_only_card_is_a_uid_and_says_so(ledger):
    status, out, err = ledger(
        "members",
        "add",
        "--name",
        "Ada",
        "--id",
        "ada",
        "--card",
        "12345678",
        "--card",
        "04A1B2C3D4E5F6",
    )
    assert (status, out) == (0, "ada\n")
    assert "--card 12345678 registered as a UID" in err and "04A1B2C3D4E5F6" not in err
    assert found(ledger, "uid", "12345678") == "ada"
    assert ledger("cards", "replace", "--uid", "12345678", "--new-card-number", "12345678")[0] == 0
    assert found(ledger, "ndef", "12345678") == "ada" and found(ledger, "uid", "12345678") is None


def test_add_replace_remove_keep_the_member_and_points(ledger):
    ledger(
        "members",
        "add",
        "--name",
        "Ada",
        "--id",
        "ada",
        "--card-number",
        "MEMBER-0042",
        "--balance",
        "50",
    )
    assert ledger("cards", "add", "--member", "MEMBER-0042", "--uid", "04A1B2C3D4E5F6") == (
        0,
        "ada: UID 04A1B2C3D4E5F6\n",
        "",
    )
    assert (
        ledger("cards", "add", "--member", "ada", "--uid", "04A1B2C3D4E5F6")[1]
        == "ada: UID 04A1B2C3D4E5F6 (registered already)\n"
    )
    assert (
        ledger(
            "cards", "replace", "--card-number", "MEMBER-0042", "--new-card-number", "MEMBER-0107"
        )[0]
        == 0
    )
    assert found(ledger, "ndef", "MEMBER-0042") is None  # the lost card finds nobody
    assert found(ledger, "ndef", "MEMBER-0107") == "ada"
    assert json.loads(ledger("lookup", "ndef", "MEMBER-0107")[1])["balance"] == 50
    assert ledger("cards", "remove", "--uid", "04a1b2c3d4e5f6")[0] == 0
    assert found(ledger, "uid", "04A1B2C3D4E5F6") is None
    listed = [json.loads(line) for line in ledger("cards", "list", "--json")[1].splitlines()]
    assert [(c["card"], c["member_id"]) for c in listed] == [("card number MEMBER-0107", "ada")]


def test_conflicts_and_unknowns_exit_1_saying_why(ledger):
    ledger("members", "add", "--name", "Ada", "--id", "ada", "--card-number", "MEMBER-0042")
    ledger("members", "add", "--name", "Bo", "--id", "bo", "--card-number", "MEMBER-0099")
    cases = [
        (("add", "--member", "ada", "--card-number", "MEMBER-0099"), "belongs to member bo"),
        (
            ("add", "--member", "nobody", "--card-number", "MEMBER-0100"),
            "no member or card 'nobody'",
        ),
        (
            ("replace", "--card-number", "MEMBER-0042", "--new-card-number", "MEMBER-0099"),
            "card number MEMBER-0099 belongs to member bo already",
        ),
        (
            ("replace", "--card-number", "MEMBER-0042", "--new-card-number", "MEMBER-0042"),
            "the new card is the old card",
        ),
        (("remove", "--card-number", "MEMBER-0500"), "card number MEMBER-0500 is not registered"),
    ]
    for args, words in cases:
        status, _, err = ledger("cards", *args)
        assert status == 1 and words in err, (args, err)
    assert (
        found(ledger, "ndef", "MEMBER-0042") == "ada"
        and found(ledger, "ndef", "MEMBER-0099") == "bo"
    )
    both = ledger(
        "cards", "add", "--member", "ada", "--card-number", "MEMBER-0100", "--uid", "04A1B2C3"
    )
    assert both[0] == 2 and "not allowed with argument" in both[2]
    assert ledger("cards", "replace", "--card-number", "MEMBER-0042")[0] == 2  # no new card


def test_sale_by_card_number_applies_to_the_registered_member(ledger_db):
    """The apply path on SQLite and PostgreSQL: an op carrying the tapped card number."""
    from ledger.apply import apply_op
    from ledger.cards import add_card, replace_card
    from ledger.store import LedgerStore
    from program.engine import DefaultProgram

    store = LedgerStore(ledger_db)
    store.add_member("Ada", member_id="ada", opening_balance=10)
    add_card(store, "ada", "ndef:MEMBER-0042")
    op = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 1,
        "kind": "sale",
        "token": {"kind": "ndef", "value": "MEMBER-0042"},
        "basket_id": "b-1",
        "currency": "EUR",
        "total_minor": 1000,
        "earn": 10,
        "redeem": [],
        "program_version": 1,
        "created_at": "2026-11-26T12:00:00Z",
    }
    with store.transaction():
        result = apply_op(store, DefaultProgram(), op, ("s", "k", 1))
    assert result["status"] == "applied" and store.balance("ada") == 10 + result["earned"] > 10
    replace_card(store, "ndef:MEMBER-0042", "ndef:MEMBER-0107")
    assert (
        store.member_of("ndef:MEMBER-0107") == "ada" and store.member_of("ndef:MEMBER-0042") is None
    )


def test_migration_turns_card_numbers_kept_as_uids_into_card_numbers(tmp_path):
    from yoyo import get_backend, read_migrations

    from ledger import db as dbm
    from ledger.store import LedgerStore

    path = str(tmp_path / "old.db")
    backend = get_backend(dbm.yoyo_uri(path))
    migrations = read_migrations(str(ROOT / "ledger" / "migrations"))
    with backend.lock():
        backend.apply_migrations(
            backend.to_apply(migrations.filter(lambda m: m.id != "0011.card_numbers"))
        )
    conn = backend.connection
    for who in ("ada", "bo"):
        conn.execute(
            "INSERT INTO members(member_id, name, created_at) VALUES (?, ?, 'x')",
            (who, who.title()),
        )
    for key, who in (
        ("card:MEMBER-0042", "ada"),
        ("card:04A1B2C3", "ada"),
        ("card:MEMBER-0099", "ada"),
        ("ndef:MEMBER-0099", "bo"),
    ):
        conn.execute("INSERT INTO tokens VALUES (?, ?, 'x')", (key, who))
    conn.commit()
    backend.connection.close()
    store = LedgerStore(path)  # brings the file up to date
    assert sorted(store.cards("ada")) == ["card:04A1B2C3", "card:MEMBER-0099", "ndef:MEMBER-0042"]
    assert store.member_of("ndef:MEMBER-0099") == "bo"  # a duplicate is left for the operator


# --- the documented commands run, and print what the docs say -------------------------------


def console_steps(markdown: str, heading: str) -> list[tuple[str, list[str]]]:
    """(command, output lines shown) for each `$ ledger ...` in ``console`` blocks under
    ``heading``."""
    section = markdown.split(heading, 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


def test_docs_ledger_card_example_runs_as_shown(ledger):
    steps = console_steps((ROOT / "docs" / "ledger.md").read_text(), "## Members and their cards")
    assert len(steps) >= 6 and any(c.startswith("ledger cards replace") for c, _ in steps)
    for command, shown in steps:
        words = shlex.split(command)
        assert words[0] == "ledger"
        status, out, err = ledger(*words[1:])
        assert status == 0, (command, err)
        if shown:
            assert out.splitlines() == shown, command
    assert found(ledger, "ndef", "MEMBER-0107") == "dana"


def test_readme_member_and_card_commands_run(ledger, tmp_path):
    block = (ROOT / "README.md").read_text().split("## Ledger", 1)[1].split("```sh\n", 1)[1]
    lines = [
        line
        for line in block.split("```", 1)[0].splitlines()
        if line.startswith(("ledger members add", "ledger cards"))
    ]
    assert len(lines) >= 2
    for line in lines:
        words = shlex.split(line, comments=True)
        words[words.index("--db") + 1] = str(tmp_path / "readme.db")
        status, _, err = ledger(*words[1:])
        assert status == 0, (line, err)
    status, out, _ = ledger("lookup", "ndef", "MEMBER-0042", "--db", str(tmp_path / "readme.db"))
    assert status == 0 and json.loads(out)["member"]["name"] == "Ada"
