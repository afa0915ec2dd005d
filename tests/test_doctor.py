"""`kiosk doctor`'s checks one by one, on real files and a real (absent) broker."""

import sqlite3
import time
import uuid

from kiosk.doctor import FAIL, OK, WARN, Result, check_network, check_outbox, verdict
from kiosk.doctor_hw import check_gpio
from kiosk.outbox import Outbox
from simulation.local_broker import free_port
from simulation.simulated_kiosk import sim_config


def test_outbox_with_an_old_op_warns_with_its_age(tmp_path):
    cfg = sim_config(1883, tmp_path)
    box = Outbox(cfg["outbox"]["path"])
    box.add_many([({"v": 1, "op_id": str(uuid.uuid4()), "kind": "sale"}, "k", 5)])
    box.close()
    assert check_outbox(cfg).level == OK
    with sqlite3.connect(cfg["outbox"]["path"]) as db:  # as if written two hours ago
        db.execute("UPDATE ops SET created_wall = ?", (time.time() - 7200,))
    r = check_outbox(cfg)
    assert r.level == WARN and "1 ops waiting" in r.detail and "120 min old" in r.detail
    assert "ledger" in r.fix


def test_full_outbox_fails(tmp_path):
    cfg = sim_config(1883, tmp_path, outbox={"max_ops": 10})
    box = Outbox(cfg["outbox"]["path"], 10)
    box.add_many([({"v": 1, "op_id": str(uuid.uuid4()), "kind": "sale"}, "k", 5)
                  for _ in range(10)])
    box.close()
    assert check_outbox(cfg).level == FAIL


def test_corrupt_outbox_fails_and_says_keep_a_copy(tmp_path):
    cfg = sim_config(1883, tmp_path)
    with open(cfg["outbox"]["path"], "wb") as f:
        f.write(b"SQLite format 3\x00" + b"\xff" * 4000)
    r = check_outbox(cfg)
    assert r.level == FAIL and "copy" in r.fix


def test_pin_clash_fails():
    cfg = sim_config(1883, gpio={"led_red": 5})
    r = check_gpio(cfg)
    assert r.level == FAIL and "GPIO 5" in r.detail


def test_unreachable_broker_fails_with_what_to_check():
    cfg = sim_config(free_port())  # nothing listens there
    broker, ledger = check_network(cfg, ledger_timeout=1)
    assert broker.level == FAIL and "unreachable" in broker.detail and "broker.host" in broker.fix
    assert ledger.level == FAIL and "not checked" in ledger.detail


def test_verdict_is_the_worst_level():
    assert verdict([Result(OK, "a", "")]) == 0
    assert verdict([Result(OK, "a", ""), Result(WARN, "b", "")]) == 1
    assert verdict([Result(WARN, "b", ""), Result(FAIL, "c", "")]) == 2
