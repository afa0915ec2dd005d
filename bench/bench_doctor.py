"""How long a technician waits for `kiosk doctor`, and the unit's hardening score.

Baseline in the same run: `kiosk config check` (interpreter start, imports, config load),
which every doctor run pays too; the difference is the checks themselves (broker connect,
ledger lookup round trip, outbox check).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, median

RUNS = 7


def timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, capture_output=True, timeout=120).returncode
    return time.perf_counter() - t0, rc


def security_score() -> str:
    if not shutil.which("systemd-analyze"):
        return "systemd-analyze not installed"
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                          "systemd/kiosk.service"], capture_output=True, text=True).stdout
    m = re.search(r"Overall exposure level for kiosk.service: ([0-9.]+ \w+)", out)
    return m.group(1) if m else "not measured"


def run() -> str:
    from simulation.local_broker import Mosquitto
    from simulation.scenario import LedgerProcess

    with tempfile.TemporaryDirectory(prefix="bench-doctor-") as tmp:
        tmp = Path(tmp)
        broker = Mosquitto(tmp / "broker")
        broker.start()
        ledger = LedgerProcess(tmp / "ledger.db", broker, tmp / "ledger.log")
        conf = tmp / "kiosk.toml"
        try:
            ledger.cli("members")
            ledger.start()
            subprocess.run([sys.executable, "-m", "kiosk.cli", "provision", "--store", "store-1",
                            "--lane", "lane-1", "--id", "kiosk-1", "--broker",
                            f"127.0.0.1:{broker.port}", "--reader", "sim", "--qr", "sim",
                            "--outbox", str(tmp / "outbox.db"), "--output", str(conf),
                            "--no-input"], check=True, capture_output=True)
            kiosk = [sys.executable, "-m", "kiosk.cli"]
            base = [timed(kiosk + ["config", "check", str(conf)]) for _ in range(RUNS)]
            doc = [timed(kiosk + ["doctor", "--config", str(conf)]) for _ in range(RUNS)]
        finally:
            ledger.stop()
            broker.stop()
    if any(rc == 2 for _, rc in doc):
        raise SystemExit("doctor reported a failure during the benchmark")
    t_base, t_doc = median([t for t, _ in base]), median([t for t, _ in doc])
    return "\n".join([
        "## Doctor: time to a verdict; unit hardening score", "",
        "Command: `.venv/bin/python -m bench.bench_doctor`  ", f"Machine: {machine()}", "",
        f"Median of {RUNS} runs each, as a technician types them, against a private Mosquitto and"
        " `ledger serve` on loopback with simulated hardware (real readers, panels and pins add"
        " their own open times).", "",
        "| command | median seconds | vs baseline |", "|---|---:|---:|",
        f"| `kiosk doctor` (all checks, ledger lookup round trip) | {t_doc:.2f} | {t_doc / t_base:.1f}x |",
        f"| baseline: `kiosk config check` (start-up and config load only) | {t_base:.2f} | 1.0x |",
        "",
        f"`systemd-analyze security --offline=true systemd/kiosk.service`: **{security_score()}**"
        " (exposure, lower is safer; see docs/operations.md).", ""])


if __name__ == "__main__":
    print(run())
