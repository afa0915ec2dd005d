"""The systemd unit parses and is hardened; the daemon speaks sd_notify and its watchdog pings
stop when the event loop stalls (a unix datagram socket of the test's stands in for systemd)."""

import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from kiosk.watchdog import Watchdog, notify
from simulation.scenario import wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "kiosk.service"
needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze not installed (package systemd)")


@needs_analyze
def test_unit_verifies(tmp_path):
    # verify also checks that ExecStart exists: point it at a stand-in for the venv's `kiosk`.
    exe = tmp_path / "kiosk"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    unit = tmp_path / "kiosk.service"
    unit.write_text(UNIT.read_text().replace("/opt/kiosk/venv/bin/kiosk", str(exe)))
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "kiosk.service" not in out.stderr, out.stderr


@needs_analyze
def test_unit_security_rating_is_ok_or_better():
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
                         capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for kiosk.service: ([0-9.]+) (\w+)", out.stdout)
    assert m, out.stdout[-2000:] + out.stderr
    print(f"systemd-analyze security: {m.group(1)} {m.group(2)}")
    assert m.group(2) in ("SAFE", "OK"), m.group(0)
    text = UNIT.read_text()
    for line in ("Type=notify", "Restart=on-failure", "ProtectSystem=strict", "PrivateTmp=yes",
                 "NoNewPrivileges=yes", "DevicePolicy=closed", "ReadWritePaths=/var/lib/kiosk"):
        assert line in text


class FakeSystemd:
    """What systemd's notify socket receives: one datagram per sd_notify call."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def pings_since(self, t: float) -> int:
        return sum(1 for at, m in list(self.messages) if at >= t and "WATCHDOG=1" in m)

    def seen(self, text: str) -> bool:
        return any(text in m for _, m in list(self.messages))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Stall:
    """An event whose handler blocks the session thread until released (a hung driver call)."""

    def __init__(self) -> None:
        self.release = threading.Event()


def test_notify_without_systemd_is_a_no_op():
    assert notify("READY=1", env={}) is False
    assert Watchdog.from_env({"NOTIFY_SOCKET": "/nowhere"}) is None  # no WATCHDOG_USEC


def test_stalled_event_loop_stops_the_watchdog_pings(broker, tmp_path, monkeypatch):
    fake = FakeSystemd(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # pings every 0.2 s at most
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path / "kiosk"))
    stall = Stall()
    kiosk.start()
    kiosk.app.session.on_Stall = lambda ev: ev.release.wait(30)  # the session exists once started
    try:
        assert wait_for(lambda: fake.seen("READY=1"), 10)
        t0 = time.monotonic()
        assert wait_for(lambda: fake.pings_since(t0) >= 3, 10), fake.messages
        kiosk.app.events.put(stall)
        time.sleep(0.5)  # let a ping already on its way arrive
        t1 = time.monotonic()
        time.sleep(1.5)
        assert fake.pings_since(t1) == 0, "pings went on while the loop was stalled"
        stall.release.set()
        t2 = time.monotonic()
        assert wait_for(lambda: fake.pings_since(t2) >= 2, 10)
    finally:
        stall.release.set()
        kiosk.stop()
        fake.close()
    assert fake.seen("STOPPING=1")
