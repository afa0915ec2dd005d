"""`ledger program ...` and `ledger db ...` as an operator runs them."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "program.toml"
EXAMPLE_YAML = EXAMPLE.with_suffix(".yaml")

# Every migration the ledger ships, in the order yoyo applies them (their names sort so).
MIGRATIONS = sorted(p.stem for p in (Path(__file__).parent.parent / "ledger" / "migrations").glob("0*.py"))


def ledger(*args):
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_program_check_load_show(tmp_path):
    db = str(tmp_path / "ledger.db")
    shown = ledger("program", "show", "--db", db)
    assert shown.returncode == 0 and "no program loaded: the default program" in shown.stdout
    assert ledger("program", "check", str(EXAMPLE)).returncode == 0
    loaded = ledger("program", "load", str(EXAMPLE), "--db", db)
    assert loaded.returncode == 0 and "version 2 loaded" in loaded.stdout
    again = ledger("program", "load", str(EXAMPLE), "--db", db)
    assert again.returncode == 1 and "version 2 is loaded already" in again.stderr
    text = ledger("program", "show", "--db", db).stdout
    for words in ("Bean There Rewards (version 2", "category coffee: x2",
                  "tier silver (Silver): 500 pts in 365 days, x1.25",
                  "reward gold-10 (10% off, Gold only): 150 pts, 10% off, tiers gold",
                  "promotion happy-hour (Happy hour): x2 +0 pts, days mon,tue,wed,thu,fri,"
                  " hours 15:00-17:00", "honoured for 48 h"):
        assert words in text
    assert '"name": "Bean There Rewards"' in ledger("program", "show", "--json", "--db", db).stdout
    missing = ledger("program", "show", "--version", "7", "--db", db)
    assert missing.returncode == 1 and "no version 7 (have [2])" in missing.stderr


def test_bad_program_file_names_file_and_key(tmp_path):
    bad = tmp_path / "shop.toml"
    bad.write_text(EXAMPLE.read_text().replace("min_points = 500", "min_points = -5"))
    out = ledger("program", "load", str(bad), "--db", str(tmp_path / "ledger.db"))
    assert out.returncode == 1
    assert f"{bad}: tiers[0].min_points must be bigger than or equal to 1" in out.stderr
    assert "Traceback" not in out.stderr


def test_yaml_program_loads_and_shows_as_the_toml_one(tmp_path):
    shown = {}
    for example in (EXAMPLE, EXAMPLE_YAML):
        db = str(tmp_path / f"{example.suffix}.db")
        checked = ledger("program", "check", str(example))
        assert checked.returncode == 0 and "version 2 is valid" in checked.stdout
        assert ledger("program", "load", str(example), "--db", db).returncode == 0
        text = ledger("program", "show", "--db", db).stdout
        shown[example.suffix] = (re.sub(r"loaded [^,]+,", "loaded ...,", text),
                                 ledger("program", "show", "--json", "--db", db).stdout)
    assert shown[".toml"] == shown[".yaml"]


def test_bad_yaml_program_file_exits_1_naming_file_line_and_key(tmp_path):
    db = str(tmp_path / "ledger.db")
    bad = tmp_path / "shop.yaml"
    bad.write_text(EXAMPLE_YAML.read_text().replace("unknown_token: enrol", "unknown_token: no"))
    other = tmp_path / "shop.json"
    other.write_text("{}")
    for path, words in ((bad, f"{bad}: unknown_token (line 14, column 16): no is read by YAML"
                               " as a boolean"),
                        (other, f"{other}: unknown program file type .json")):
        for action in (("check", str(path)), ("load", str(path), "--db", db)):
            out = ledger("program", *action)
            assert out.returncode == 1 and words in out.stderr, out.stderr
            assert "Traceback" not in out.stderr
    assert "no program loaded" in ledger("program", "show", "--db", db).stdout


def test_program_new_key_refuses_to_overwrite(tmp_path):
    key = tmp_path / "program.pem"
    first = ledger("program", "new-key", str(key))
    assert first.returncode == 0 and len(first.stdout.strip()) == 43
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    second = ledger("program", "new-key", str(key))
    assert second.returncode == 1 and "exists" in second.stderr


def test_db_upgrade_and_status_on_postgresql(pg_cluster):
    url = pg_cluster.database()
    assert ledger("db", "status", "--db", url).stdout.strip() == \
        "pending: " + ", ".join(MIGRATIONS)
    refused = ledger("balance", "ada", "--db", url)  # the ledger will not run on an old schema
    assert refused.returncode == 2 and "run `ledger db upgrade --db URL` first" in refused.stderr
    assert ledger("db", "upgrade", "--db", url).stdout.strip() == \
        "applied: " + ", ".join(MIGRATIONS)
    assert ledger("db", "status", "--db", url).stdout.strip() == "schema is up to date"
    assert ledger("members", "add", "--name", "Ada", "--id", "ada", "--db", url).returncode == 0


def test_unreachable_database_is_named_without_its_password():
    url = "postgresql://ledger:s3cret@127.0.0.1:1/loyalty"
    for args in (("balance", "ada"), ("db", "upgrade"), ("serve", "--port", "1")):
        out = ledger(*args, "--db", url)
        assert out.returncode in (1, 2), args
        assert "postgresql://ledger:***@127.0.0.1:1/loyalty" in out.stderr, args
        assert "s3cret" not in out.stderr and "Traceback" not in out.stderr, args


def test_program_expire_sweeps_every_member(tmp_path):
    import sqlite3

    db = str(tmp_path / "ledger.db")
    assert ledger("members", "add", "--name", "Ada", "--id", "ada", "--balance", "120",
                  "--db", db).returncode == 0
    assert ledger("program", "load", str(EXAMPLE), "--db", db).returncode == 0  # 730 days
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE journal SET at='2020-01-01T00:00:00.000+00:00'")
    out = ledger("program", "expire", "--db", db)
    assert out.returncode == 0 and out.stdout.strip() == "120 points expired from 1 members"
    assert ledger("program", "expire", "--db", db).stdout.strip() == "0 points expired from 0 members"
    assert "ada Ada: 0 pts" in ledger("balance", "ada", "--db", db).stdout


def test_program_review_moves_down_whose_review_is_past(tmp_path):
    from ledger.store import LedgerStore

    db = str(tmp_path / "ledger.db")
    program = tmp_path / "p.yaml"
    program.write_text("version: 2\nname: B\ncurrency: EUR\ntimezone: UTC\ntier_review: 01-01\n"
                       "tier_grace_days: 30\ntiers:\n  - {id: silver, min_points: 500}\n")
    assert ledger("program", "load", str(program), "--db", db).returncode == 0
    assert "tiers are reviewed every year on 01-01 (UTC)" in ledger("program", "show", "--db",
                                                                    db).stdout
    store = LedgerStore(db)
    for who in ("ada", "bob"):
        store.add_member(who.title(), member_id=who, tier="silver")
    with store.transaction():  # silver since 2020; only bob still has the points for it
        store.journal("bob", "earn", 600)
        store.db.execute("UPDATE members SET tier_since='2020-01-01T00:00:00.000+00:00'")
    store.close()
    out = ledger("program", "review", "--dry-run", "--db", db)
    assert out.returncode == 0 and out.stdout.splitlines() == [
        "ada Ada: silver -> member",
        "2 members reviewed: 1 moved down, 0 moved up, 0 kept in grace; dry run, nothing written"]
    early = ledger("program", "review", "--dry-run", "--at", "2027-01-10T12:00Z", "--db", db)
    assert early.stdout.strip() == "2 members reviewed: 0 moved down, 0 moved up, 1 kept in" \
        " grace; dry run, nothing written"
    for bad, words in ((("--at", "2027-01-10T12:00Z"), "--at needs --dry-run"),
                       (("--dry-run", "--at", "soon"), "'soon' is not an ISO time")):
        refused = ledger("program", "review", *bad, "--db", db)
        assert refused.returncode == 2 and words in refused.stderr, refused.stderr
    assert ledger("program", "review", "--db", db).stdout.splitlines() == [
        "ada Ada: silver -> member",
        "2 members reviewed: 1 moved down, 0 moved up, 0 kept in grace"]
    assert ledger("program", "review", "--db", db).stdout.splitlines() == [
        "2 members reviewed: 0 moved down, 0 moved up, 0 kept in grace"]
    assert "ada Ada: 0 pts (member)" in ledger("balance", "ada", "--db", db).stdout


def test_birthday_month_promotion_from_the_members_birth_month(tmp_path):
    import json
    import uuid

    from ledger.apply import apply_op
    from ledger.programs import ProgramBook
    from ledger.store import LedgerStore

    db = str(tmp_path / "ledger.db")
    bad = ledger("members", "add", "--name", "Bo", "--birth-month", "13", "--db", db)
    assert bad.returncode == 2 and "must be a number from 1 to 12" in bad.stderr
    for who, card, month in (("ada", "04AAAAAA", "11"), ("bob", "04BBBBBB", "5")):
        assert ledger("members", "add", "--name", who, "--id", who, "--card", card,
                      "--birth-month", month, "--db", db).returncode == 0
    program = tmp_path / "p.toml"
    program.write_text('version = 2\nname = "B"\ncurrency = "EUR"\n[[promotions]]\n'
                       'id = "birthday"\nbirthday_month = true\nbonus_points = 50\n')
    assert ledger("program", "load", str(program), "--db", db).returncode == 0
    store = LedgerStore(db)
    book = ProgramBook.load(store)
    earned = {}
    for card in ("04AAAAAA", "04BBBBBB"):
        op = {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
              "token": {"kind": "uid", "value": card}, "basket_id": "b-1", "currency": "EUR",
              "total_minor": 1000, "earn": 0, "redeem": [], "program_version": 2,
              "created_at": "2026-11-26T12:00:00Z"}
        with store.transaction():
            earned[card] = apply_op(store, book.for_op(op), op, ("s", "k", 1))["earned"]
    assert earned == {"04AAAAAA": 60, "04BBBBBB": 10}  # November: Ada's birthday month
    assert json.loads(ledger("balance", "ada", "--json", "--db", db).stdout)["balance"] == 60


def test_manual_adjustment_with_reason_and_operator(tmp_path):
    import json

    db = str(tmp_path / "ledger.db")
    assert ledger("members", "add", "--name", "Ada", "--id", "ada", "--card", "04A1A1A1",
                  "--balance", "30", "--db", db).returncode == 0
    added = ledger("adjust", "04a1a1a1", "20", "--reason", "spilt coffee", "--operator", "sam",
                   "--db", db)
    assert added.returncode == 0 and added.stdout.strip() == \
        "ada: +20 pts (spilt coffee, by sam); balance 50"
    too_much = ledger("adjust", "ada", "-60", "--reason", "fraud", "--operator", "sam",
                      "--db", db)
    assert too_much.returncode == 1 and "would make the balance negative" in too_much.stderr
    for bad, words in ((["ada", "0"], "non-zero"), (["ada", "x"], "whole number"),
                       (["ada", "5", "--operator", "a b"], "--operator 'a b'")):
        args = ["adjust", *bad, "--reason", "r", "--db", db]
        if "--operator" not in bad:
            args += ["--operator", "sam"]
        out = ledger(*args)
        assert out.returncode == 2 and words in out.stderr, out.stderr
    history = json.loads(ledger("history", "ada", "--json", "--db", db).stdout)
    assert [(e["kind"], e["points"], e["reason"], e["operator"]) for e in history] == [
        ("adjust", 30, "opening balance", None), ("adjust", 20, "spilt coffee", "sam")]
    assert "spilt coffee (by sam)" in ledger("history", "ada", "--db", db).stdout
