"""docs/pos-integration.md runs as written: every shell block of the page, taken from the Markdown
(not retyped), runs in order in one bash with `set -euo pipefail` on a free port, as an integrator
would paste them: its own Mosquitto, `ledger serve`, `kiosk run` with simulated drivers, `kiosk tap`
and `kiosk press`, mosquitto_pub and mosquitto_sub. Each step's output shows what the page says."""

import json
import os
import re
import signal
import subprocess
from pathlib import Path

from tests.mosquitto import free_port

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "pos-integration.md"
MARK = "@@@ block"
# Background jobs of the page (broker, ledger, kiosk) end with the script, however it ends.
PRELUDE = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)


def run_page(tmp_path) -> list[str]:
    blocks = shell_blocks(PAGE.read_text())
    script = PRELUDE + "".join(f"echo '{MARK} {i}'\n{b}" for i, b in enumerate(blocks))
    env = {**os.environ, "PORT": str(free_port()), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out[-4000:]
    outputs = re.split(rf"^{MARK} \d+\n", out, flags=re.M)[1:]
    assert len(outputs) == len(blocks), out[-4000:]
    return outputs


def test_the_pos_walkthrough_runs_as_written(tmp_path):
    blocks = shell_blocks(PAGE.read_text())
    out = run_page(tmp_path)

    def step(text: str) -> str:
        """What the block whose commands contain ``text`` printed."""
        return out[next(i for i, b in enumerate(blocks) if text in b)]

    assert '"state":"online"' in step("kiosk run --config")
    tap = step("-C 2 -W 5")
    assert '"id":"unknown"' in tap and '"balance_is_cached":true' in tap  # at once, from the kiosk
    assert '"name":"Ada"' in tap and '"balance":240' in tap  # then the ledger's answer
    red = step("/redemption &")
    assert '"reward_id":"coffee","action":"apply","points":100,"discount_minor":250' in red
    paid = step('"status":"paid"')
    assert '"status":"applied"' in paid and '"balance":148' in paid
    assert "Ada: 148 pts" in paid.splitlines()[-1]  # ledger balance
    void = step('"status":"void"')
    assert "0 queued" in void and "Ada: 148 pts" in void.splitlines()[-1]
    status = json.loads(step("-C 1 -W 5 -t loyalty/v1/stores/store-1/kiosks/kiosk-1/status"))
    assert status["state"] == "online" and status["queue_limit"] == 50000
    assert status["queue_depth"] in (0, 1)  # as of the last sale: it lags the ack by up to 30 s
    sim = step("kiosk pos-sim --port")
    for state in ("total", "paid", "void"):
        assert f'"status": "{state}"' in sim, sim
    assert "'basket_id': 'b-1003'" in step("my-basket.json")


def test_every_shell_block_is_taken():
    text = PAGE.read_text()
    assert text.count("```sh\n") == len(shell_blocks(text)) >= 8
