"""Start-up that fails half-way: what was opened is closed again and the daemon says why.

The device that fails is a real one: a HID QR scanner configured without its
evdev path, which the driver refuses when the kiosk opens it, after the
outbox, the GPIO pins, the display and the card reader are open.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import pytest

from kiosk.app import KioskApp, StartupError
from simulation.simulated_kiosk import sim_config
from tests.daemon_conf import kiosk_toml

NO_HID_PATH = "qr.device: give the HID scanner's evdev path"


def care_threads() -> int:
    return sum(t.name == "display-care" for t in threading.enumerate())


def test_device_failing_after_the_outbox_closes_everything_opened(tmp_path):
    cfg = sim_config(1883, tmp_path, qr={"driver": "hid", "device": ""})
    before = care_threads()
    app = KioskApp(cfg)
    with pytest.raises(StartupError) as failed:
        app.run()
    assert (
        str(failed.value) == f"cannot open the QR input (qr.driver = 'hid'): {NO_HID_PATH},"
        " e.g. /dev/input/by-id/usb-...-event-kbd"
    )
    assert failed.value.exit_code == 2  # a config mistake: restarting cannot fix it
    outbox = tmp_path / "outbox.db"
    assert outbox.exists()  # opened first...
    with pytest.raises(sqlite3.ProgrammingError):
        app.outbox.db.execute("SELECT 1")  # ...and closed
    assert not (tmp_path / "outbox.db-wal").exists()  # SQLite removes it on the last close
    d = app.devices
    assert all(dev.closed for dev in (*d.feedback.leds.values(), d.feedback.buzzer))
    assert d.screen is not None and care_threads() == before  # its care thread ended
    assert d.qr is None and app.session is None


def test_outbox_that_cannot_open_leaves_the_devices_unopened(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    cfg = sim_config(1883, tmp_path, outbox={"path": str(tmp_path / "file" / "outbox.db")})
    app = KioskApp(cfg)
    with pytest.raises(StartupError) as failed:
        app.run()
    assert str(failed.value).startswith(f"cannot open the outbox {tmp_path}/file/outbox.db: ")
    assert failed.value.exit_code == 1  # maybe a disk not yet mounted: systemd tries again
    d = app.devices
    assert (d.reader, d.qr, d.buttons, d.feedback, d.screen) == (None,) * 5


def test_kiosk_run_exits_with_the_reason_and_no_traceback(tmp_path):
    conf = kiosk_toml(
        tmp_path, 1883, tmp_path / "outbox.db", '[qr]\ndriver = "hid"\n[reader]\ndriver = "sim"\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert (
        "kiosk cannot start: cannot open the QR input (qr.driver = 'hid'): "
        f"{NO_HID_PATH}" in out.stderr
    )
    assert "Traceback" not in out.stderr
    assert (tmp_path / "outbox.db").exists() and not (tmp_path / "outbox.db-wal").exists()
