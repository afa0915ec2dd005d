"""`make install` / `make uninstall` staged into a DESTDIR (no root, no systemd needed).

Not tested here, because it needs a real system with systemd running as PID 1: creating the
`kiosk` user and its groups, `systemctl enable`, udev reload, and the service starting.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kiosk.outbox import Outbox

REPO = Path(__file__).resolve().parent.parent


def make(target, destdir, **env):
    return subprocess.run(["make", "-s", target], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "DESTDIR": str(destdir),
                                            "PREFIX": "/opt/kiosk-test", **env})


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    dest = tmp_path_factory.mktemp("dest")
    # --no-deps: the project itself, not its dependencies again (the suite already has them).
    out = make("install", dest, PIP_ARGS="--no-deps")
    assert out.returncode == 0, out.stdout + out.stderr
    return dest


def test_install_puts_every_file_in_place(staged):
    kiosk = staged / "opt/kiosk-test/venv/bin/kiosk"
    assert kiosk.exists()
    # The unit and rules also ship in the package, for `kiosk install` after a plain pip install.
    assert (staged / "opt/kiosk-test/venv/share/loyalty-kiosk/systemd/kiosk.service").exists()
    unit = (staged / "etc/systemd/system/kiosk.service").read_text()
    assert "ExecStart=/opt/kiosk-test/venv/bin/kiosk run" in unit and "/opt/kiosk/" not in unit
    for path in ("etc/udev/rules.d/60-kiosk.rules", "etc/modprobe.d/kiosk-nfc-blacklist.conf"):
        assert (staged / path).read_text() == (REPO / "systemd" / Path(path).name).read_text()
    assert oct((staged / "var/lib/kiosk").stat().st_mode & 0o777) == "0o750"
    example = staged / "etc/kiosk/kiosk.toml.example"
    out = subprocess.run([str(kiosk), "config", "check", str(example)], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr


def test_kiosk_install_stages_from_an_editable_install(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "install", "--root", str(tmp_path),
                          "--exec", "/usr/local/bin/kiosk"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    unit = (tmp_path / "etc/systemd/system/kiosk.service").read_text()
    assert "ExecStart=/usr/local/bin/kiosk run" in unit
    assert (tmp_path / "etc/modprobe.d/kiosk-nfc-blacklist.conf").exists()


def test_uninstall_keeps_the_outbox_unless_asked(staged):
    box = Outbox(staged / "var/lib/kiosk/outbox.db")
    box.add_many([({"v": 1, "op_id": str(uuid.uuid4()), "kind": "sale"}, "k", 5)])
    box.close()
    out = make("uninstall", staged)
    assert out.returncode == 0, out.stderr
    assert not (staged / "etc/systemd/system/kiosk.service").exists()
    assert not (staged / "opt/kiosk-test").exists()
    assert (staged / "var/lib/kiosk/outbox.db").exists()
    refused = make("uninstall", staged, PURGE="1")
    assert refused.returncode != 0 and "holds 1 ops" in refused.stderr
    assert (staged / "var/lib/kiosk/outbox.db").exists()
    assert make("uninstall", staged, PURGE="1", FORCE="1").returncode == 0
    assert not (staged / "var/lib/kiosk").exists() and not (staged / "etc/kiosk").exists()
