"""`make demo` without a terminal plays its scripted tour and checks what it shows."""

import subprocess
import sys


def test_demo_tour_runs_headless():
    res = subprocess.run([sys.executable, "-m", "simulation.demo"], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "demo tour OK" in res.stdout
    assert "expect balance 04B0B0B0B0B0B0 83" in res.stdout  # the offline sale was replayed
