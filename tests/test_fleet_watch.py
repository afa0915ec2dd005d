"""The back office's fleet view (ledger.fleet_watch): a subscriber that stays connected sees a
real kiosk online with its figures, then offline holding unsynced ops when its process is killed
(its last will), remembered in the state file; alerts; config updates are signed and audited."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import uuid

from codes.keys import new_private_pem
from kiosk.outbox import Outbox
from ledger import audit, fleet
from ledger.fleet_watch import FleetWatch
from ledger.store import LedgerStore
from simulation.scenario import wait_for


def op(i):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i + 1, "kind": "sale",
            "token": {"kind": "uid", "value": "04A1B2C3D4E5F6"}, "basket_id": f"b-{i}",
            "currency": "EUR", "total_minor": 1000, "earn": 10, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1}


def kiosk_with_ops(broker, tmp_path, count):
    """A real `kiosk run` (simulated devices) whose outbox holds ops no ledger takes."""
    box = Outbox(tmp_path / "k2" / "outbox.db")
    box.add_many([(op(i), "04A1B2C3D4E5F6", 10) for i in range(count)])
    box.close()
    conf = tmp_path / "k2.toml"
    conf.write_text(f'[kiosk]\nstore = "store-1"\nlane = "lane-2"\nid = "kiosk-2"\n'
                    f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n'
                    f'[outbox]\npath = "{tmp_path}/k2/outbox.db"\n'
                    '[reader]\ndriver = "sim"\n[display]\ndriver = "dummy"\n')
    return subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def by_kiosk(watch):
    return {r.kiosk: r for r in watch.rows()}


def test_watch_sees_a_kiosk_go_offline_with_unsynced_ops(broker, tmp_path):
    state = tmp_path / "fleet.json"
    watch = FleetWatch(broker.host, broker.port, state_path=str(state),
                       expected={"store-1/kiosk-9"})
    watch.start()
    proc = kiosk_with_ops(broker, tmp_path, 3)
    try:
        assert wait_for(lambda: by_kiosk(watch).get("kiosk-2") is not None
                        and by_kiosk(watch)["kiosk-2"].queue_depth == 3, 30)
        row = by_kiosk(watch)["kiosk-2"]
        assert (row.state, fleet.alert(row)) == ("online", "")
        assert row.readers == {"sim-nfc": "ok"} and row.display == "ok"
        assert row.program_version == 1  # the default program, until a ledger publishes one
        assert by_kiosk(watch)["kiosk-9"].flag == "never reported"  # provisioned, silent
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_for(lambda: by_kiosk(watch)["kiosk-2"].state == "offline", 30)
        row = by_kiosk(watch)["kiosk-2"]
        assert row.queue_depth == 3 and fleet.alert(row) == "offline with 3 unsynced ops"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        watch.stop()
    # a new watch (the web process restarted) still knows what kiosk-2 held
    assert json.loads(state.read_text())["store-1/kiosk-2"]["queue_depth"] == 3
    again = FleetWatch(broker.host, broker.port, state_path=str(state))
    again.start()
    try:
        assert wait_for(lambda: "kiosk-2" in by_kiosk(again), 15)
        assert fleet.alert(by_kiosk(again)["kiosk-2"]) == "offline with 3 unsynced ops"
    finally:
        again.stop()


def test_an_old_pending_op_is_an_alert_even_online():
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    status = {"v": 1, "state": "online", "queue_depth": 2, "oldest_pending_s": 1200.0,
              "at": "2026-01-01T11:59:50+00:00"}
    row = fleet.row("store-1", "kiosk-1", status, None, now)
    assert fleet.alert(row) == "oldest pending op waiting 20 min (more than 15)"
    assert fleet.alert(row, pending_limit_s=3600) == ""
    assert fleet.alert(fleet.row("store-1", "kiosk-1", {**status, "queue_depth": 0,
                                                          "oldest_pending_s": None}, None, now)) == ""


def test_config_update_cli_is_audited_and_needs_a_ledger_database(broker, tmp_path):
    pem, _ = new_private_pem()
    key = tmp_path / "remote.pem"
    key.write_bytes(pem)
    db = tmp_path / "ledger.db"

    def update(*extra):
        return subprocess.run([sys.executable, "-m", "ledger.cli", "config-update", "--key",
                               str(key), "--store", "store-1", "--kiosk", "kiosk-1", "--serial",
                               "7", "--set", "lookup.timeout_ms=800", "--host", broker.host,
                               "--port", str(broker.port), *extra],
                              capture_output=True, text=True, timeout=60)

    missing = update("--db", str(db))
    assert missing.returncode == 2 and "no ledger database" in missing.stderr
    assert not db.exists()  # not created behind the operator's back
    LedgerStore(db).close()
    sent = update("--db", str(db))
    assert sent.returncode == 0, sent.stderr
    (entry,) = audit.entries(LedgerStore(db).db, target="kiosk:store-1/kiosk-1")
    assert (entry.action, entry.actor, entry.via) == ("kiosk.config_update", audit.cli_actor(),
                                                      "cli")
    assert entry.detail == {"serial": 7, "set": {"lookup": {"timeout_ms": 800}}}
    bad = update("--db", str(db), "--set", "nodot=1")
    assert bad.returncode == 2 and "'nodot=1': expected SECTION.KEY=VALUE" in bad.stderr
    assert len(audit.entries(LedgerStore(db).db)) == 1
