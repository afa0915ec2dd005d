"""Each side installs and runs with only its own extras: a Pi gets `.[kiosk]`, a server `.[ledger]`.

Two virtualenvs are built once per test run from this checkout (a real `pip install`, so the
resolved requirement sets are the ones a user gets, not a reading of setup.cfg). In them a real
`kiosk run` (simulated devices) and a real `ledger serve` sell to each other through a private
Mosquitto: a card registered with the ledger is tapped at the kiosk, the basket is paid, and the
ledger's balance moves. Building the venvs costs about a minute; checking the import graph against
the requirement lists instead would not catch a lazy import that only fails at run time.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from simulation.pos import PosSimulator
from simulation.scenario import wait_for
from tests.daemon_conf import kiosk_toml

REPO = Path(__file__).resolve().parent.parent
CARD = "04A1B2C3D4E5F6"
SERVER_ONLY = ["psycopg", "yoyo", "yaml"]  # segno is on both: QR codes on the kiosk's screen
HARDWARE_ONLY = ["gpiozero", "luma", "nfc", "smartcard", "PIL"]


def _wheel(root: Path) -> Path:
    """One wheel of this checkout, built from a copy so the work tree gets no build/ litter."""
    src = root / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                          "--disable-pip-version-check", "-w", str(root / "dist"), str(src)],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"building the wheel failed:\n{out.stderr[-3000:]}"
    return next((root / "dist").glob("*.whl"))


def _install(wheel: Path, where: Path, extra: str) -> Path:
    venv.create(where, with_pip=True)
    out = subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet",
                          "--disable-pip-version-check", f"{wheel}[{extra}]"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"pip install .[{extra}] failed:\n{out.stderr[-3000:]}"
    return where / "bin"


@pytest.fixture(scope="session")
def side_venvs(tmp_path_factory) -> dict[str, Path]:
    """{"kiosk": bin dir, "ledger": bin dir}, installed side by side from one wheel."""
    root = tmp_path_factory.mktemp("extras")
    wheel = _wheel(root)
    with ThreadPoolExecutor(2) as pool:
        jobs = {x: pool.submit(_install, wheel, root / x, x) for x in ("kiosk", "ledger")}
        return {x: job.result() for x, job in jobs.items()}


def _importable(bin_dir: Path, module: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(bin_dir / "python"), "-c", probe]).returncode == 0


def test_kiosk_venv_holds_nothing_of_the_server(side_venvs):
    assert [m for m in SERVER_ONLY if _importable(side_venvs["kiosk"], m)] == []
    assert _importable(side_venvs["kiosk"], "luma.oled") and _importable(side_venvs["kiosk"], "gpiozero")


def test_ledger_venv_holds_nothing_of_the_hardware(side_venvs):
    assert [m for m in HARDWARE_ONLY if _importable(side_venvs["ledger"], m)] == []
    assert _importable(side_venvs["ledger"], "psycopg") and _importable(side_venvs["ledger"], "yoyo")


def _tap(control: Path, card: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(f"tap {card}".encode(), str(control))


def _balance(ledger: Path, db: Path) -> int | None:
    out = subprocess.run([str(ledger), "balance", CARD, "--json"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "LEDGER_DB": str(db)})
    return json.loads(out.stdout)["balance"] if out.returncode == 0 else None


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def test_kiosk_and_ledger_sell_to_each_other_each_with_only_its_extras(side_venvs, broker, tmp_path):
    ledger, kiosk = side_venvs["ledger"] / "ledger", side_venvs["kiosk"] / "kiosk"
    db, control = tmp_path / "ledger.db", tmp_path / "reader.sock"
    env = {**os.environ, "LEDGER_DB": str(db)}
    add = subprocess.run([str(ledger), "members", "add", "--name", "Ada", "--card", CARD,
                          "--balance", "240"], capture_output=True, text=True, timeout=60, env=env)
    assert add.returncode == 0, add.stderr
    conf = kiosk_toml(tmp_path, broker.port, tmp_path / "outbox.db",
                      more=f'[reader]\ndriver = "sim"\npath = "{control}"\n')
    serve = subprocess.Popen([str(ledger), "serve", "--host", "127.0.0.1", "--port",
                              str(broker.port)], stderr=subprocess.PIPE, text=True, env=env)
    run = subprocess.Popen([str(kiosk), "run", "--config", str(conf)], stderr=subprocess.PIPE,
                           text=True, cwd=tmp_path)
    pos = PosSimulator(host="127.0.0.1", port=broker.port, store="store-1", lane="lane-1").start()
    try:
        assert wait_for(control.exists, 30), "kiosk run never opened its simulated reader"
        pos.open([{"sku": "coffee", "qty": 2, "unit_minor": 350, "category": "drinks"},
                  {"sku": "cake", "qty": 1, "unit_minor": 420, "category": "food"}])
        time.sleep(0.5)  # the kiosk takes the retained basket before the tap
        _tap(control, CARD)
        assert wait_for(lambda: pos.member is not None, 30), "the kiosk never attached the member"
        pos.pay()
        assert wait_for(lambda: _balance(ledger, db) == 251, 30), f"balance {_balance(ledger, db)}"
    finally:
        pos.stop()
        errors = {"kiosk": _stop(run), "ledger": _stop(serve)}
    for side, err in errors.items():
        assert "Traceback" not in err and "ModuleNotFoundError" not in err, f"{side}:\n{err[-3000:]}"
    assert run.returncode == 0 and serve.returncode == 0, errors


def test_the_test_interpreter_is_not_one_of_them(side_venvs):
    # The sale above ran in the two venvs, not in the full one the suite runs in.
    assert all(not str(Path(sys.executable)).startswith(str(b.parent)) for b in side_venvs.values())
