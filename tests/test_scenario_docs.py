"""docs/scenarios.md describes the language simulation/scenario.py runs: every step it accepts is
in the page's tables, and the example shown is the scenario file it names, as the tests play it."""

import inspect
import re
from pathlib import Path

from simulation.scenario import Runner

ROOT = Path(__file__).parent.parent
PAGE = (ROOT / "docs" / "scenarios.md").read_text()


def documented_steps() -> set[str]:
    """The first word of every step in the page's tables (`| `tap VALUE ...` | ... |`)."""
    return {m.group(1) for m in re.finditer(r"^\| `([a-z-]+)[ `]", PAGE, re.M)}


def test_every_step_the_runner_accepts_is_documented():
    accepted = {name[3:].replace("_", "-") for name in dir(Runner) if name.startswith("do_")}
    assert documented_steps() == accepted


def test_every_expectation_is_documented():
    kinds = set(re.findall(r'what == "([a-z]+)"', inspect.getsource(Runner.do_expect)))
    assert kinds
    for kind in kinds:
        assert f"| `expect {kind} " in PAGE, kind


def test_the_example_is_the_file_it_names():
    name = re.search(r"^\[tests/scenarios/([a-z_]+\.txt)\]", PAGE, re.M).group(1)
    shown = re.search(r"^```text\n(.*?)^```", PAGE, re.S | re.M).group(1)
    assert shown == (ROOT / "tests" / "scenarios" / name).read_text()


def test_every_shipped_scenario_is_linked():
    for path in (ROOT / "tests" / "scenarios").glob("*.txt"):
        assert f"{path.name}](../tests/scenarios/{path.name})" in PAGE, path.name
