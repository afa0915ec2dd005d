"""The automations' systemd service and timer parse (systemd-analyze verify) and the service
runs the command the docs name."""

import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parent.parent / "systemd"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed (package systemd)")
def test_service_and_timer_verify(tmp_path):
    exe = tmp_path / "ledger"  # verify checks that ExecStart exists: a stand-in for the venv's
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    for name in ("ledger-automations.service", "ledger-automations.timer"):
        text = (SYSTEMD / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/loyalty-ledger/venv/bin/ledger", str(exe)))
    out = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "ledger-automations.timer"),
                          str(tmp_path / "ledger-automations.service")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ledger-automations" not in out.stderr, out.stderr
    service = (SYSTEMD / "ledger-automations.service").read_text()
    assert "ExecStart=/opt/loyalty-ledger/venv/bin/ledger automations run\n" in service
