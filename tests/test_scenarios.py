"""The shipped scenarios, played by `kiosk sim` as a user would run them: a private broker, a real
`ledger serve`, the POS simulator and a simulated kiosk; each checks screens, outbox and balances."""

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = sorted(Path(__file__).parent.joinpath("scenarios").glob("*.txt"))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(scenario):
    res = subprocess.run([sys.executable, "-m", "kiosk.cli", "sim", "--scenario", str(scenario)],
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"{scenario}: OK" in res.stdout


def test_unmet_expectation_fails_with_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("member Ada card=04AAAAAA balance=5\n"
                   "expect balance 04AAAAAA 6 within 1\n")
    res = subprocess.run([sys.executable, "-m", "kiosk.cli", "sim", "--scenario", str(bad)],
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 1
    assert "bad.txt line 2" in res.stderr and "is 5, not 6" in res.stderr


def test_malformed_step_is_named(tmp_path):
    bad = tmp_path / "typo.txt"
    bad.write_text("tapp 04AA\n")
    res = subprocess.run([sys.executable, "-m", "kiosk.cli", "sim", "--scenario", str(bad)],
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 1
    assert "unknown step 'tapp'" in res.stderr
