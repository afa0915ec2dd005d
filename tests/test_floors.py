"""The floor plan holds (import-linter's contracts in setup.cfg), and breaking it is caught.

`lint-imports` is the real tool `make lint` runs. The second test copies the packages to a scratch
directory, adds one forbidden import per contract kind, and checks the tool refuses each, naming
the contract, so a contract that silently matches nothing cannot pass here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["kiosk", "drivers", "display", "mqtt", "ledger", "program", "codes", "simulation",
            "tests"]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first, so the copy is analysed, not the installed checkout.
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), str(root / "setup.cfg"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_the_floor_plan_holds():
    out = _lint(REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("floors")
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "setup.cfg", root / "setup.cfg")
    return root


@pytest.mark.parametrize("module, line, contract", [
    ("drivers/qr_token.py", "import ledger.store", "The kiosk, drivers and display never import"),
    ("ledger/fleet.py", "from kiosk import outbox", "The ledger never imports the kiosk"),
    ("display/views.py", "import kiosk.session", "Display and drivers never import the kiosk"),
    ("program/engine.py", "import ledger.db", "The shared packages"),
    ("kiosk/app.py", "import simulation.demo", "Only the kiosk's simulation commands"),
    ("simulation/pos.py", "import tests.conftest", "Nothing that is installed imports the tests"),
    ("codes/keys.py", "from codes import member_qr", "No import circles"),
])
def test_a_forbidden_import_breaks_the_build(scratch, module, line, contract):
    path = scratch / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # added by tests/test_floors.py\n")
    try:
        out = _lint(scratch)
    finally:
        path.write_text(original)
    assert out.returncode != 0, f"{line!r} in {module} went unnoticed:\n{out.stdout}"
    broken = [row for row in out.stdout.splitlines() if " BROKEN" in row]
    # An import can break more than one contract (kiosk -> program -> ledger is also the kiosk
    # reaching the ledger); the one this line is about must be among them.
    assert any(row.startswith(contract) for row in broken), out.stdout
