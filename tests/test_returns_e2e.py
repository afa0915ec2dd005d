"""Returns end to end: the shop's two brokers, a real `ledger serve`, a simulated kiosk and a
POS that publishes refunds (paho, as mosquitto_pub would) on the lane's refund topic and reads
the kiosk's notices. The balance goes back, a refund sent twice counts once, a void after
paid refunds the whole basket, and a refund of a basket the ledger never saw is refused."""

import json
import queue
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from mqtt import messages, topics
from mqtt.client import MqttLink
from simulation.pos import parse_item
from simulation.scenario import Runner, World, wait_for

CARD = "04A1B2C3D4E5F6"
LANE = ("store-1", "lane-1")
DOCS = Path(__file__).parent.parent / "docs"


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def till(world):
    """The POS's own connection: publishes refunds and voids, collects notices."""
    notices = queue.Queue()
    link = MqttLink(
        host=world.store_broker.host,
        port=world.store_broker.port,
        client_id="pos-returns",
        clean_start=True,
        on_message=lambda m: notices.put(json.loads(m.payload)),
    )
    link.subscribe(topics.notice(*LANE), 1)
    link.start()
    assert link.wait_connected(10)
    link.notices = notices
    yield link
    link.stop()


def play(world, text):
    Runner(world).run(text.strip().splitlines(), "test")


def sell(world, balance=240):
    play(
        world,
        f"""
member Ada card={CARD} balance={balance}
open coffee:2:350:drinks cake:1:420:food
tap {CARD}
expect screen "{balance} pts"
pay
expect balance {CARD} {balance + 11}
expect outbox 0
""",
    )
    return world.pos.basket["basket_id"]


def send_refund(till, body):
    assert till.publish(topics.refund(*LANE), json.dumps(body).encode(), 1)


def next_notice(till, within=15):
    return till.notices.get(timeout=within)


def test_a_refund_on_the_lane_takes_the_points_back_and_the_pos_is_told(world, till):
    basket_id = sell(world)
    send_refund(
        till,
        {"v": 1, "refund_id": "r-1", "basket_id": basket_id, "lines": [{"sku": "cake", "qty": 1}]},
    )
    notice = next_notice(till)
    messages.validate("notice", notice)
    assert notice["kind"] == "return_applied" and notice["refund_id"] == "r-1"
    assert notice["points"] == -4 and notice["balance"] == 247  # 11 x 420 / 1120 = 4.1
    send_refund(till, {"v": 1, "refund_id": "r-2", "basket_id": basket_id})  # the rest
    assert next_notice(till)["balance"] == 240
    assert world.ledger.balance(CARD) == 240


def test_the_same_refund_sent_twice_is_applied_once(world, till):
    basket_id = sell(world)
    refund = {"v": 1, "refund_id": "r-7", "basket_id": basket_id}
    send_refund(till, refund)
    send_refund(till, refund)
    first = next_notice(till)
    assert first["kind"] == "return_applied" and first["balance"] == 240
    assert wait_for(lambda: world.kiosk.outbox_depth() == 0, 15)
    send_refund(till, refund)  # later again, long after it was acked: a duplicate
    again = next_notice(till)
    assert again["balance"] == 240 and again["points"] == first["points"] == -11
    history = json.loads(world.ledger.cli("history", CARD, "--json"))
    assert [e["points"] for e in history if e["kind"] == "refund"] == [-11]


def test_a_void_after_paid_refunds_the_whole_basket_once(world, till):
    basket_id = sell(world)
    paid = dict(world.pos.basket)
    void = messages.encode("basket", {**paid, "seq": paid["seq"] + 1, "status": "void"})
    assert till.publish(topics.basket(*LANE), void, 1, retain=True)
    notice = next_notice(till)
    assert notice["kind"] == "return_applied" and "refund_id" not in notice
    assert notice["basket_id"] == basket_id and notice["balance"] == 240
    # The retained void seen again after a kiosk restart makes no second refund.
    world.kiosk.stop()
    world.start_kiosk()
    with pytest.raises(queue.Empty):
        next_notice(till, within=3)
    assert world.ledger.balance(CARD) == 240


def test_a_refund_the_ledger_cannot_match_is_refused_with_its_reason(world, till):
    sell(world)
    send_refund(till, {"v": 1, "refund_id": "r-9", "basket_id": "b-never-sold"})
    notice = next_notice(till)
    assert notice["kind"] == "return_refused" and notice["reason"].startswith("unknown_basket")
    assert world.ledger.balance(CARD) == 251


def test_a_bad_refund_message_is_dropped_and_the_kiosk_keeps_going(world, till):
    basket_id = sell(world)
    for bad in (
        b"not json",
        json.dumps({"v": 1, "refund_id": "R 1", "basket_id": basket_id}),
        json.dumps(
            {
                "v": 1,
                "refund_id": "r-1",
                "basket_id": basket_id,
                "lines": [{"sku": "cake", "qty": 1}, {"sku": "cake", "qty": 1}],
            }
        ),
    ):
        assert till.publish(
            topics.refund(*LANE), bad if isinstance(bad, bytes) else bad.encode(), 1
        )
    send_refund(till, {"v": 1, "refund_id": "r-2", "basket_id": basket_id})
    assert next_notice(till)["balance"] == 240  # only the good one made an op


def test_the_returns_examples_in_the_pos_guide_run_as_written(world, till):
    section = (DOCS / "pos-integration.md").read_text().split("## Returns and post-voids")[1]
    commands = [c for c in re.findall(r"^mosquitto_pub .*$", section.split("\n## ")[0], re.M)]
    assert len(commands) == 3
    [example] = re.findall(r"```json\n(.*?)```", section, re.S)
    assert messages.validate("notice", json.loads(example))
    play(world, f"member Ada card={CARD} balance=240")
    world.pos.open([parse_item("coffee:2:350:drinks"), parse_item("cake:1:420:food")], "b-1001")
    play(
        world,
        f"""
tap {CARD}
expect screen "240 pts"
pay
expect balance {CARD} 251
""",
    )
    port = str(world.store_broker.port)
    for command, balance in zip(commands, (247, 240, 240), strict=True):
        argv = [port if a == "1883" else a for a in shlex.split(command)]
        subprocess.run(argv, check=True, timeout=20)
        notice = next_notice(till)
        assert notice["kind"] == "return_applied" and notice["balance"] == balance, notice
    assert notice["reason"] == "already refunded in full"  # the post-void after the refunds
