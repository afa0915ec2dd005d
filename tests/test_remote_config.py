"""Signed remote config updates: applied through a restart, confirmed once the broker is reached
with them, dropped again (fall-back) when it is not; badly signed or unsafe updates refused."""

import json
import signal
import subprocess
import sys

import pytest

from codes.config_update import sign_update
from codes.keys import load_private, new_private_pem
from codes.provisioning import CodeRefused
from kiosk.config import load
from kiosk.remote_config import EXIT_RESTART, RemoteState, check_update
from ledger.store import LedgerStore
from simulation.local_broker import free_port
from simulation.scenario import wait_for
from tests.daemon_conf import kiosk_toml


@pytest.fixture
def keys(tmp_path):
    pem, public = new_private_pem()
    (tmp_path / "remote.pem").write_bytes(pem)
    other, _ = new_private_pem()
    (tmp_path / "other.pem").write_bytes(other)
    LedgerStore(tmp_path / "ledger.db").close()  # the audit log of `ledger config-update`
    return {"good": tmp_path / "remote.pem", "other": tmp_path / "other.pem", "public": public}


def write_conf(tmp_path, port, public):
    return kiosk_toml(tmp_path, port, tmp_path / "state" / "outbox.db",
                      f'[remote]\nkeys = ["{public}"]\nconfirm_s = 3\n', reconnect_max=0.5)


def update(broker, key, serial, *sets):
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "config-update", "--key", str(key),
                          "--store", "store-1", "--kiosk", "kiosk-1", "--serial", str(serial),
                          "--host", broker.host, "--port", str(broker.port),
                          "--db", str(key.parent / "ledger.db"),
                          *[x for s in sets for x in ("--set", s)]],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def state(tmp_path):
    return json.loads((tmp_path / "state" / "remote.json").read_text())


def test_update_applied_confirmed_and_fallen_back_from(broker, tmp_path, keys):
    conf = write_conf(tmp_path, broker.port, keys["public"])
    log = tmp_path / "kiosk.log"
    cmd = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)]

    def start():
        return subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)

    def seen(text):
        return text in log.read_text(errors="replace")

    kiosk = start()
    try:
        assert wait_for(lambda: seen("kiosk ready"), 20)
        update(broker, keys["good"], 1, "lookup.timeout_ms=900")
        assert kiosk.wait(20) == EXIT_RESTART  # systemd's Restart=on-failure would start it again
        assert state(tmp_path)["pending"]["set"] == {"lookup": {"timeout_ms": 900}}

        kiosk = start()
        assert wait_for(lambda: (state(tmp_path)["confirmed"] or {}).get("serial") == 1, 20)
        assert state(tmp_path)["pending"] is None
        # The retained update comes again: ignored while being confirmed, or as not newer after.
        assert wait_for(lambda: seen("serial 1 is not newer than 1")
                        or seen("update 1 is still being tried"), 10)
        assert kiosk.poll() is None

        # An update that cuts the kiosk off its broker is dropped again.
        update(broker, keys["good"], 2, f"broker.port={free_port()}")
        assert kiosk.wait(20) == EXIT_RESTART
        kiosk = start()
        assert kiosk.wait(30) == EXIT_RESTART, log.read_text()[-1500:]
        assert seen("config update 2 could not reach the broker")
        s = state(tmp_path)
        assert s["pending"] is None and s["refused"] == 2 and s["confirmed"]["serial"] == 1
        kiosk = start()
        assert wait_for(lambda: seen("serial 2 is not newer than 2"), 20)
        assert kiosk.poll() is None

        # Signed with a key the kiosk does not trust: refused, nothing changes.
        update(broker, keys["other"], 3, "lookup.timeout_ms=50")
        assert wait_for(lambda: seen("bad signature"), 10)
        assert kiosk.poll() is None and state(tmp_path)["confirmed"]["serial"] == 1
        assert load(conf)["lookup"]["timeout_ms"] == 400  # the provisioned file is never rewritten
        kiosk.send_signal(signal.SIGTERM)
        assert kiosk.wait(20) == 0
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait(10)


@pytest.mark.parametrize("sets,kiosk,reason", [
    ({"kiosk": {"id": "kiosk-9"}}, "kiosk-1", "cannot be changed remotely"),
    ({"remote": {"keys": []}}, "kiosk-1", "cannot be changed remotely"),
    ({"lookup": {"timeout_ms": 5}}, "kiosk-1", "out of range"),
    ({"lookup": {"timeout_ms": 900}}, "kiosk-2", "not this kiosk"),
])
def test_unsafe_updates_are_refused(tmp_path, keys, sets, kiosk, reason):
    conf = write_conf(tmp_path, 1883, keys["public"])
    text = sign_update(load_private(keys["good"]), "store-1", kiosk, 5, sets)
    with pytest.raises(CodeRefused, match=reason):
        check_update(text, load(conf), conf, RemoteState(tmp_path / "state"))
