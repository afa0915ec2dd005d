"""The MQTT client benchmark (bench/bench_mqtt_clients.py) runs at a tiny size: each client,
the ledger's MqttLink with and without paho_tuned's patches, paho as released and gmqtt, answers
every message it is sent (the benchmark exits non-zero when one does not) and gets its row. No
time is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_client_answers_every_message_and_gets_a_row():
    out = subprocess.run([sys.executable, "-m", "bench.bench_mqtt_clients", "--messages", "300",
                          "--rounds", "1", "--no-ledger"], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("## MQTT clients")
    rows = re.findall(r"^\| ([^|]+) \| ([\d,]+) \(", out.stdout, re.M)
    assert [label.split()[0] for label, _ in rows] == ["paho", "the", "paho", "gmqtt"], out.stdout
    assert all(int(rate.replace(",", "")) > 0 for _, rate in rows)
