"""Confirmed redemptions on real brokers: the shop's two Mosquittos, a real `ledger serve`, the
POS simulator (one that applies and carries the discount, one that ignores the request) and a
simulated kiosk. Balances are the ledger's; screens are what the kiosk drew."""

import json
import threading

import pytest

from display import views as v
from mqtt import topics
from mqtt.client import MqttLink
from simulation.scenario import Runner, World, wait_for

CARD = "04B0B0B0B0B0B0"
REDEEM = f"""
member Bo card={CARD} balance=250
open coffee:4:350:drinks
tap {CARD}
expect screen "Bo"
press next
press select
expect screen "Reward applied"
total
pay
"""


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    w.start()
    notices, lock = [], threading.Lock()

    def heard(msg):
        with lock:
            notices.append(json.loads(msg.payload))

    spy = MqttLink(host=w.store_broker.host, port=w.store_broker.port, client_id="pos-notices",
                   clean_start=True, on_message=heard)
    spy.subscribe(topics.notice("store-1", "lane-1"), 1)
    spy.start()
    assert spy.wait_connected(10)
    w.notices = notices
    yield w
    spy.stop()
    w.stop()


def play(world, text):
    Runner(world).run(text.strip().splitlines(), "test")


def test_a_pos_that_confirms_the_discount_spends_the_points(world):
    play(world, REDEEM + f"""
expect balance {CARD} 161
expect outbox 0
""")
    # 14.00 - 2.50 = 11.50 EUR: 11 points; the screen says the ledger's 161, once confirmed
    assert wait_for(lambda: world.kiosk.screen.last_view ==
                    v.PointsAdded(11, 100, 161, confirmed=True, tier="member"), 5)
    assert world.notices == []


def test_a_pos_that_ignores_the_redemption_spends_nothing_and_is_told(world):
    world.pos.ignore_redemptions = True
    play(world, REDEEM + f"""
expect screen "Free coffee: points kept"
expect balance {CARD} 264
expect outbox 0
""")
    # the full 14.00 was paid: 14 points earned, the coffee's 100 kept
    assert wait_for(lambda: world.kiosk.screen.last_view ==
                    v.PointsAdded(14, 0, 264, confirmed=True, tier="member",
                                  released=("Free coffee",)), 5)
    assert wait_for(lambda: len(world.notices) == 1, 5)
    (notice,) = world.notices
    assert notice["kind"] == "redemption_released" and notice["reward_id"] == "coffee"
    assert notice["points"] == 100 and notice["basket_id"] == world.pos.basket["basket_id"]
