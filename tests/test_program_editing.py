"""Editing a program as the back office does: each problem points at its line, a basket is
previewed through the engine, a version is published with its text, who and when (audit), and
two versions are compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger import audit, program_versions
from ledger.program_check import check_text
from ledger.program_preview import preview
from ledger.programs import ProgramBook
from ledger.store import LedgerStore
from program.engine import DefaultProgram
from program.files import load_file, program_from_body

ROOT = Path(__file__).resolve().parent.parent
TOML = (ROOT / "docs/examples/program.toml").read_text()
YAML = (ROOT / "docs/examples/program.yaml").read_text()


def problem_line(text: str, fmt: str) -> tuple[str, str | None]:
    """The problem's message and the text of the line it points at."""
    problem = check_text(text, fmt).problem
    assert problem is not None, "expected a problem"
    return problem.message, text.splitlines()[problem.line - 1] if problem.line else None


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_examples_are_valid_in_both_formats():
    assert check_text(TOML, "toml").body == load_file(ROOT / "docs/examples/program.toml")
    assert check_text(YAML, "yaml").body["name"] == "Bean There Rewards"


@pytest.mark.parametrize(("old", "new", "message", "line"), [
    # a rule inside the second [[rewards]]: the line of its own key, not the first reward's
    ("cost = 80", "cost = -80", "rewards[1].cost must be bigger than or equal to 1", "cost = -80"),
    ('rounding = "down"', 'rounding = "sideways"', "earning.rounding must be one of",
     'rounding = "sideways"'),
    # an unknown key: the line that writes it
    ("max_points_per_day = 300", "max_points_per_day = 300\nbogus = 1",
     "earning must not contain {'bogus'}", "bogus = 1"),
    # a quoted key under a sub-table
    ('"beans-1kg" = 3', '"beans-1kg" = "x"', "earning.skus.beans-1kg must be number",
     '"beans-1kg" = "x"'),
    # a check the schema cannot express, with the item's id in the message
    ('sku = "croissant"\n', "", "rewards[1] (pastry): a free_item reward needs sku",
     "[[rewards]]"),
])
def test_a_toml_problem_points_at_its_line(old, new, message, line):
    got, at = problem_line(edited(TOML, old, new), "toml")
    assert message in got
    assert at is not None and at.split("#")[0].strip() == line


def test_a_toml_syntax_error_has_line_and_column():
    text = edited(TOML, "coffee = 2", "coffee = 2\nfoo = [1,")
    problem = check_text(text, "toml").problem
    assert "not valid TOML" in problem.message
    assert (problem.line, problem.column) == (31, 1)  # where tomllib gave up


def test_a_missing_key_is_about_the_whole_program():
    problem = check_text(edited(TOML, 'name = "Bean There Rewards"', ""), "toml").problem
    assert "must contain ['name']" in problem.message and problem.line is None


@pytest.mark.parametrize(("old", "new", "message", "line"), [
    ("cost: 80", "cost: -80", "rewards[1].cost must be bigger than or equal to 1", "cost: -80"),
    ("cost: 80", "cost: yes", "read by YAML as a boolean", "cost: yes"),
    ("cost: 80", "cost: [80", "not valid YAML", None),  # the line PyYAML names (the next one)
])
def test_a_yaml_problem_points_at_its_line(old, new, message, line):
    got, at = problem_line(edited(YAML, old, new), "yaml")
    assert message in got
    if line:
        assert at.strip() == line


def test_crlf_from_a_browser_and_a_wrong_format_are_handled():
    assert check_text(TOML.replace("\n", "\r\n"), "toml").body is not None
    assert "format must be one of toml, yaml" in check_text(TOML, "json").problem.message


def test_preview_prices_a_typed_basket_with_the_engine():
    body = load_file(ROOT / "docs/examples/program.toml")
    program = program_from_body(body)
    form = {"line-0-sku": "latte", "line-0-category": "coffee", "line-0-qty": "2",
            "line-0-price": "3.50", "line-1-sku": "cake", "line-1-price": "4.20",
            "balance": "90", "tier": "silver"}
    asked, result = preview(program, form, body)
    assert asked.errors == []
    assert result.total_minor == 1120
    # coffee counts double (7.00 EUR x2 = 14) plus the cake (4): 18, silver x1.25 -> 22
    assert result.earn == program.quote(*_basket_and_member(program, result)).earn == 22
    assert dict(result.breakdown)["tier:silver"] == 4
    assert {r.reward_id for r in result.affordable} == {"coffee", "pastry"}  # 112 points


def _basket_and_member(program, result):
    from program.engine import Basket, Item, MemberState

    items = (Item("latte", 2, 350, "coffee"), Item("cake", 1, 420, ""))
    facts = {"visits": 1, "earned_today": 0, "window_points": 0, "segments": ()}
    return Basket("x", "EUR", result.total_minor, items), MemberState("x", 90, "silver", facts)


def test_preview_names_every_wrong_field_and_prices_nothing():
    asked, result = preview(DefaultProgram(), {"line-0-sku": "latte", "line-0-qty": "two",
                                               "line-0-price": "2,50", "line-1-price": "1",
                                               "balance": "-5", "tier": "platinum"})
    assert result is None
    assert asked.errors == [
        "line 1 quantity: 'two' is not a whole number",
        "line 1 price: '2,50' is not an amount (like 2.50)",
        "line 2 sku: needed when the line has a quantity or price",
        "balance: -5 is not between 0 and 10000000",
        "tier: 'platinum' is not a tier of this program (member)",
    ]
    assert asked.values["line-0-price"] == "2,50"  # shown again as typed
    assert preview(DefaultProgram(), {})[0].errors == [
        "basket: fill in at least one line (sku, quantity and price)"]


def test_publish_stores_the_text_audits_it_and_the_book_uses_it(ledger_db):
    store = LedgerStore(ledger_db)
    body = program_versions.publish(store, TOML, "toml", "alice", "web")
    assert ProgramBook.load(store).version == body["version"] == 2
    assert program_versions.source(store, 2) == ("toml", TOML)
    (entry,) = audit.entries(store.db, target="program")
    assert (entry.actor, entry.via, entry.action) == ("alice", "web", "program.publish")
    assert entry.detail == {"version": 2, "name": "Bean There Rewards"}
    with pytest.raises(program_versions.PublishError, match="version 2 is loaded already"):
        program_versions.publish(store, TOML, "toml", "alice", "web")
    bad = edited(TOML, "version = 2 ", "version = 3 ").replace("cost = 80", "cost = 0")
    with pytest.raises(program_versions.PublishError) as refused:
        program_versions.publish(store, bad, "toml", "alice", "web")
    assert refused.value.checked.problem.line == 57
    assert ProgramBook.load(store).version == 2 and len(audit.entries(store.db)) == 1


def test_history_and_diff(ledger_db):
    store = LedgerStore(ledger_db)
    store.save_program(1, {**load_file(ROOT / "docs/examples/program.toml"), "version": 1})
    newer = edited(TOML, "cost = 80", "cost = 70")
    program_versions.publish(store, newer, "toml", "bob", "web")
    history = program_versions.history(store)
    assert [(v.version, v.actor) for v in history] == [(2, "bob"), (1, None)]
    changed = [line for line in program_versions.diff(store, 1, 2)
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert sorted(changed) == ['+      "cost": 70,', '+  "version": 2', '-      "cost": 80,',
                               '-  "version": 1']
    assert program_versions.diff(store, 1, 9) is None
    # a version with no text of its own is edited from its body, which checks as it is
    fmt, text = program_versions.editable(store, 1, store.programs()[0][1])
    assert fmt == "yaml" and check_text(text, "yaml").body == store.programs()[0][1]


def test_cli_program_load_is_audited(tmp_path):
    db = str(tmp_path / "ledger.db")
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "program", "load",
                          str(ROOT / "docs/examples/program.yaml"), "--db", db],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    store = LedgerStore(db)
    (entry,) = audit.entries(store.db, target="program")
    assert entry.actor == audit.cli_actor() and entry.via == "cli"
    assert program_versions.source(store, 2)[0] == "yaml"
