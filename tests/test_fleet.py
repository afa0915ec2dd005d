"""`ledger fleet` from the broker's retained statuses: a kiosk killed while holding unsynced ops
is flagged (its last will carries no figures; the last full status seen does)."""

import datetime as dt
import json
import signal
import subprocess
import sys
import uuid

from kiosk.outbox import Outbox
from ledger import fleet
from simulation.scenario import wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config


def fleet_cli(broker, state, *extra):
    return subprocess.run([sys.executable, "-m", "ledger.cli", "fleet", "--host", broker.host,
                           "--port", str(broker.port), "--state", str(state), "--wait", "0.5",
                           *extra], capture_output=True, text=True, timeout=60)


def rows(broker, state):
    out = fleet_cli(broker, state, "--json")
    return out.returncode, {r["kiosk"]: r for r in json.loads(out.stdout or "[]")}


def op(i):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i + 1, "kind": "sale",
            "token": {"kind": "uid", "value": "04A1B2C3D4E5F6"}, "basket_id": f"b-{i}",
            "currency": "EUR", "total_minor": 1000, "earn": 10, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1}


def test_fleet_flags_a_kiosk_offline_with_unsynced_ops(broker, tmp_path):
    state = tmp_path / "fleet.json"
    healthy = SimulatedKiosk(sim_config(broker.port, tmp_path / "k1")).start()
    # kiosk-2 holds three ops no ledger has taken (no ledger runs), then dies without a goodbye.
    box = Outbox(tmp_path / "k2" / "outbox.db")
    box.add_many([(op(i), "04A1B2C3D4E5F6", 10) for i in range(3)])
    box.close()
    conf = tmp_path / "k2.toml"
    conf.write_text(f'[kiosk]\nstore = "store-1"\nlane = "lane-2"\nid = "kiosk-2"\n'
                    f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n'
                    f'[outbox]\npath = "{tmp_path}/k2/outbox.db"\n')
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: rows(broker, state)[1].get("kiosk-2", {}).get("queue_depth") == 3,
                        30)
        rc, seen = rows(broker, state)
        assert rc == 0 and seen["kiosk-1"]["state"] == "online" and seen["kiosk-2"]["flag"] == ""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_for(lambda: rows(broker, state)[1]["kiosk-2"]["state"] == "offline", 30)
        rc, seen = rows(broker, state)
        assert rc == 1, seen
        assert seen["kiosk-2"]["queue_depth"] == 3
        assert seen["kiosk-2"]["flag"] == "OFFLINE WITH 3 UNSYNCED OPS"
        assert seen["kiosk-1"]["flag"] == ""
        text = fleet_cli(broker, state).stdout
        assert "kiosk-2" in text and "OFFLINE WITH 3 UNSYNCED OPS" in text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        healthy.stop()


def test_a_status_not_refreshed_counts_as_offline():
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    old = {"v": 1, "state": "online", "queue_depth": 2, "oldest_pending_s": 60.0,
           "at": "2026-01-01T11:50:00+00:00"}
    r = fleet.row("store-1", "kiosk-3", old, None, now)
    assert r.state == "offline" and r.flag == "OFFLINE WITH 2 UNSYNCED OPS"
    assert r.oldest_pending_s == 660.0
    fresh = {**old, "at": "2026-01-01T11:59:50+00:00"}
    assert fleet.row("store-1", "kiosk-3", fresh, None, now).flag == ""


def test_a_silent_kiosk_shows_offline_even_with_an_empty_queue():
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    old = {"v": 1, "state": "online", "queue_depth": 0, "oldest_pending_s": None,
           "at": "2026-01-01T11:55:00+00:00"}
    r = fleet.row("store-1", "kiosk-3", old, None, now, stale_s=60)
    assert (r.state, r.flag) == ("offline", "no status for 5 min")
    assert fleet.row("store-1", "kiosk-3", old, None, now, stale_s=600).state == "online"


def test_known_and_provisioned_kiosks_without_a_status_show_offline(broker, tmp_path):
    """kiosk-1 reported once, then its retained status went (a broker restarted without
    persistence); kiosk-9 is provisioned and never reported. Neither may vanish from the list."""
    from mqtt import messages, topics
    from mqtt.client import MqttLink

    state = tmp_path / "fleet.json"
    provisioned = tmp_path / "kiosks.txt"
    provisioned.write_text("# the shop's kiosks\nstore-1/lane-1/kiosk-1\nstore-1/lane-9/kiosk-9\n")
    link = MqttLink(host=broker.host, port=broker.port, client_id="test-kiosk-1")
    link.start()
    assert link.wait_connected(10)
    status = {"v": 1, "state": "online", "queue_depth": 2, "oldest_pending_s": 30.0,
              "at": dt.datetime.now(dt.UTC).isoformat()}
    link.publish(topics.status("store-1", "kiosk-1"), messages.encode("status", status), 1,
                 retain=True)
    assert wait_for(lambda: "kiosk-1" in rows(broker, state)[1], 10)
    link.publish(topics.status("store-1", "kiosk-1"), b"", 1, retain=True)  # retained gone
    link.stop()

    out = fleet_cli(broker, state, "--json", "--kiosks", str(provisioned))
    seen = {r["kiosk"]: r for r in json.loads(out.stdout)}
    assert (seen["kiosk-1"]["state"], seen["kiosk-1"]["flag"]) == \
        ("offline", "OFFLINE WITH 2 UNSYNCED OPS")
    assert (seen["kiosk-9"]["state"], seen["kiosk-9"]["flag"]) == ("offline", "never reported")
    assert out.returncode == 1  # offline holding ops
    text = fleet_cli(broker, state, "--kiosks", str(provisioned)).stdout
    assert "kiosk-9" in text and "never reported" in text


def test_a_bad_kiosks_file_is_named(broker, tmp_path):
    bad = tmp_path / "kiosks.txt"
    bad.write_text("store-1/kiosk-1\n")
    out = fleet_cli(broker, tmp_path / "fleet.json", "--kiosks", str(bad))
    assert out.returncode == 2
    assert f"--kiosks {bad}: kiosk 'store-1/kiosk-1': expected STORE/LANE/KIOSK" in out.stderr
