"""The sale path end to end in one process: the shop's two brokers, a real `ledger serve`, the POS
simulator and a simulated kiosk whose display is luma's dummy device."""

import json
import subprocess
import sys

import pytest

from display import views as v
from display.screens import render
from mqtt import topics
from mqtt.client import MqttLink
from simulation.scenario import Runner, World, wait_for

CARD = "04A1B2C3D4E5F6"


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    w.start()
    yield w
    w.stop()


def play(world, text):
    Runner(world).run([line for line in text.strip().splitlines()], "test")


def test_online_sale_reaches_the_ledger_and_the_display(world):
    play(world, f"""
member Ada card={CARD} balance=240
open coffee:2:350:drinks cake:1:420:food
tap {CARD}
expect screen "240 pts"
pay
expect balance {CARD} 251
expect outbox 0
""")
    view = world.kiosk.screen.last_view
    assert view == v.PointsAdded(earned=11, redeemed=0, balance=251, saved_offline=False,
                                 confirmed=True, tier="member")  # the ledger's ack, on screen
    frame = world.kiosk.frame()
    assert frame.size == (128, 64) and frame.getbbox() is not None  # something is lit
    assert frame.tobytes() == render(view, (128, 64), "1").tobytes()


def test_uplink_cut_during_three_sales_applied_once_in_order(world):
    play(world, f"""
member Ada card={CARD} balance=0
network down
open coffee:1:350:drinks
tap {CARD}
pay
expect screen "Points saved"
open tea:1:300:drinks
tap {CARD}
pay
open cake:2:420:food
tap {CARD}
pay
expect outbox 3
network up
expect outbox 0 within 30
expect balance {CARD} 14
""")
    entries = json.loads(world.ledger.cli("history", CARD, "--json"))
    earns = [e for e in entries if e["kind"] == "earn"]
    assert [e["points"] for e in earns] == [3, 3, 8]
    assert [e["kiosk_seq"] for e in earns] == [1, 2, 3]
    assert len({e["op_id"] for e in earns}) == 3


def test_offline_redemption_is_limited(world):
    world.cfg["offline"]["max_redeem_points"] = 100
    play(world, f"""
member Chen card={CARD} balance=1000
open coffee:1:350:drinks
tap {CARD}
expect screen Chen
press cancel
network down
open coffee:9:350:drinks
tap {CARD}
press next
press select
expect screen "Reward applied"
press next
press select
expect screen "Rewards need the network"
""")


def test_pos_sim_cli_scripts_a_basket(world):
    k = world.cfg["kiosk"]
    base = [sys.executable, "-m", "kiosk.cli", "pos-sim", "--port", str(world.store_broker.port),
            "--host", "127.0.0.1", "--store", k["store"], "--lane", k["lane"]]
    out = subprocess.run(base + ["open coffee:2:350:drinks", "total"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    states = [json.loads(line) for line in out.stdout.splitlines()]
    assert [s["status"] for s in states] == ["open", "total"] and states[1]["total_minor"] == 700
    # A second run carries on with the retained basket; a bad step is named, the rest still runs.
    out = subprocess.run(base + ["sing", "pay"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "unknown step 'sing'" in out.stderr
    paid = json.loads(out.stdout.splitlines()[-1])
    assert paid["status"] == "paid" and paid["basket_id"] == states[0]["basket_id"]
    bad = subprocess.run(base + ["open coffee:two:350"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "qty and unit_minor must be whole numbers" in bad.stderr


def test_outbox_nearing_its_limit_is_said_on_display_and_status(tmp_path):
    w = World(tmp_path)
    w.cfg["outbox"].update(max_ops=10, warn_ratio=0.3)
    statuses = []
    w.start()
    try:
        spy = MqttLink(host=w.broker.host, port=w.broker.port, client_id="spy", clean_start=True,
                       on_message=lambda m: statuses.append(json.loads(m.payload)))
        spy.subscribe(topics.status("store-1", "kiosk-1"), 1)  # on the central broker
        spy.start()
        sales = "\n".join(f"open tea:1:300\ntap {CARD}\npay" for _ in range(3))
        play(w, f"member Ada card={CARD} balance=0\nledger down\n{sales}\nexpect outbox 3")
        play(w, "expect screen \"3 ops waiting\" within 10")
        assert wait_for(lambda: statuses and statuses[-1]["queue_warning"], 10), statuses[-1:]
        assert statuses[-1]["queue_depth"] == 3 and statuses[-1]["queue_limit"] == 10
        play(w, f"ledger up\nexpect outbox 0 within 30\nexpect balance {CARD} 9")
        spy.stop()
    finally:
        w.stop()
