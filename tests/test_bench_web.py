"""The back office's load benchmark (bench/bench_web.py) runs at a tiny size and prints its
table: a private PostgreSQL, `ledger web` as a process, locust headless. No time is asserted
(the benchmark's job); what is checked is that every kind of request was made and none failed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.local_postgres import pg_bin

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL server binaries not installed")
def test_the_web_benchmark_runs_and_prints_its_table():
    out = subprocess.run([sys.executable, "-m", "bench.bench_web", "--members", "300",
                          "--baskets", "600", "--journal", "1500", "--users", "3",
                          "--seconds", "4", "--think", "0.05,0.1"],
                         capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("## Back office under load")
    for kind in ("dashboard", "chart", "member search", "login page (baseline)"):
        row = re.search(rf"^\| {re.escape(kind)} \| (\d+) \| (\d+) \|", out.stdout, re.M)
        assert row, f"no row {kind!r} in:\n{out.stdout}"
        assert int(row.group(1)) > 0 and row.group(2) == "0", row.group(0)
    assert "| all of them |" in out.stdout
