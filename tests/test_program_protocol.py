"""The Program protocol is complete: both programs (DefaultProgram and a rule program built from
a program file) have every member it declares, of the declared kind and type, and with the
declared parameters; no caller probes a program with getattr/hasattr; and DefaultProgram's
neutral values make the tier, expiry and promotion code paths do nothing."""

import ast
import datetime as dt
import inspect
import re
import subprocess
import typing
from pathlib import Path

import pytest

from program import engine
from program.engine import Basket, DefaultProgram, MemberState, Program, TierReview
from program.files import check_body, load_file, program_from_body

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "program.toml"
MINIMAL = {"version": 1, "name": "Test", "currency": "EUR"}
IMPLEMENTATIONS = {
    "default": DefaultProgram,
    "example file": lambda: program_from_body(load_file(EXAMPLE)),
    "minimal file": lambda: program_from_body(check_body(MINIMAL)),
}


def protocol_members() -> tuple[dict[str, object], dict[str, inspect.Signature]]:
    """The values (name -> type) and the methods (name -> signature) Program declares."""
    hints = typing.get_type_hints(Program, vars(engine))
    values = {n: t for n, t in hints.items() if not n.startswith("_")}
    methods = {}
    for name, member in vars(Program).items():
        if isinstance(member, property):
            values[name] = typing.get_type_hints(member.fget, vars(engine))["return"]
        elif inspect.isfunction(member) and not name.startswith("_"):
            methods[name] = inspect.signature(member)
    return values, methods


def has_type(value: object, expected: object) -> bool:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin is tuple:  # tuple[X, ...]
        return isinstance(value, tuple) and all(isinstance(v, args[0]) for v in value)
    if expected is float:  # PEP 484: an int is acceptable where a float is expected
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, expected)


def test_the_protocol_declares_what_the_callers_used_to_probe_for():
    values, methods = protocol_members()
    probed = {
        "punch_cards",
        "overdraft_points",
        "needs_facts",
        "promotions",
        "expire_after_days",
        "review",
        "tier_rank",
    }
    assert probed <= set(values) | set(methods)
    assert {"quote", "rewards", "reward", "tier_for", "review", "tier_rank"} <= set(methods)


@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
def test_every_declared_value_is_there_with_its_type(kind):
    program = IMPLEMENTATIONS[kind]()
    values, _ = protocol_members()
    for name, expected in values.items():
        assert hasattr(program, name), f"{kind} program has no {name}"
        value = getattr(program, name)
        assert not inspect.ismethod(value), f"{kind}: {name} should be a value, is a method"
        assert has_type(value, expected), f"{kind}: {name} = {value!r}, expected {expected}"


@pytest.mark.parametrize("kind", IMPLEMENTATIONS)
def test_every_declared_method_is_there_with_its_parameters(kind):
    program = IMPLEMENTATIONS[kind]()
    _, methods = protocol_members()
    for name, declared in methods.items():
        method = getattr(program, name, None)
        assert inspect.ismethod(method), f"{kind} program has no method {name}"
        wanted = [(p.name, p.kind, p.default) for p in declared.parameters.values()][1:]
        actual = [
            (p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()
        ]
        assert actual == wanted, f"{kind}: {name}{inspect.signature(method)} is not {declared}"


PROBE = re.compile(r"\b(getattr|hasattr)\(\s*(self\.)?_?(program|prog|active)\b")


def test_no_caller_probes_a_program():
    # The tracked sources only: build/ and .venv/ hold copies that are not ours to check.
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True)
    sources = [ROOT / name for name in tracked.stdout.split()] or [
        p for p in ROOT.rglob("*.py") if not {".venv", "build"} & set(p.parts)]
    probes = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in sources
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if PROBE.search(line) and p.name != Path(__file__).name
    ]
    assert probes == []


def annotated_program_names(fn: ast.FunctionDef) -> set[str]:
    return {
        a.arg
        for a in fn.args.args + fn.args.kwonlyargs
        if a.annotation is not None and re.search(r"\bProgram\b", ast.unparse(a.annotation))
    }


def test_callers_use_only_declared_members():
    """Every attribute read on a parameter typed ``Program`` is one the protocol declares, so
    DefaultProgram has it too (a member only a rule program has would need a probe)."""
    values, methods = protocol_members()
    declared = set(values) | set(methods)
    undeclared = []
    for path in [*ROOT.glob("ledger/**/*.py"), *ROOT.glob("kiosk/**/*.py")]:
        for fn in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(fn, ast.FunctionDef):
                continue
            names = annotated_program_names(fn)
            undeclared += [
                f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}"
                for node in ast.walk(fn)
                if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in names
                and node.attr not in declared
            ]
    assert undeclared == []


def test_the_default_program_is_neutral():
    program = DefaultProgram()
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert (program.needs_facts, program.promotions, program.punch_cards) == (False, (), ())
    assert (program.overdraft_points, program.expire_after_days) == (0, 0)
    assert program.review("gold", 0, now) == TierReview("gold")  # kept, nothing recorded
    assert program.review_reads_dates("gold", 0) is False
    assert (program.tier_rank("member"), program.tier_rank("gold")) == (0, -1)
    basket = Basket("b-1", "EUR", 1500, at="2026-11-26T23:30:00Z")
    assert program.applied_promotions(program.quote(basket, MemberState())) == set()
    assert program.local_day(basket) == "2026-11-26"
    assert DefaultProgram(timezone="Europe/Berlin").local_day(basket) == "2026-11-27"


def test_a_rule_program_without_tiers_ranks_and_reviews_like_the_default():
    rule, default = program_from_body(check_body(MINIMAL)), DefaultProgram()
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    for tier in ("member", "gold"):
        assert rule.tier_rank(tier) == default.tier_rank(tier)
        assert rule.review(tier, 10_000, now) == default.review(tier, 10_000, now)
