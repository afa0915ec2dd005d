"""Two kiosks race for the last of a reward over real brokers: the shop's Mosquitto bridged to
the central one (simulation.local_broker's BRIDGE_TOPICS carry reserve up and reserve-reply
down) and a real `ledger serve` on a real SQLite file. One is granted, the other told sold out."""

import json
import threading
import uuid

from mqtt import messages, topics
from mqtt.client import MqttLink
from simulation.scenario import World, wait_for

ADA, BO = "04A1A1A1A1A1A1", "04B0B0B0B0B0B0"
PROGRAM = """
version = 1
name = "Mugs"
currency = "EUR"
allow_unverified_uid = true

[[rewards]]
id = "mug"
name = "Mug"
cost = 50
kind = "free_item"
sku = "mug"
amount_minor = 900
stock = 1
"""


class Kiosk:
    """A kiosk's reserve requests and the replies on its own reserve-reply topic."""

    def __init__(self, world: World, kiosk: str) -> None:
        self.kiosk, self.replies, self.lock = kiosk, [], threading.Lock()
        broker = world.store_broker
        self.link = MqttLink(
            host=broker.host,
            port=broker.port,
            client_id=f"test-{kiosk}",
            clean_start=True,
            on_message=self._heard,
        )
        self.link.subscribe(topics.reserve_reply("store-1", kiosk), 1)
        self.link.start()
        assert self.link.wait_connected(10)

    def _heard(self, msg) -> None:
        with self.lock:
            self.replies.append((msg.correlation, messages.decode("reserve_reply", msg.payload)))

    def reserve(self, card: str) -> bytes:
        correlation = uuid.uuid4().hex.encode()
        body = {
            "v": 1,
            "action": "reserve",
            "reward_id": "mug",
            "basket_id": "b-1",
            "token": {"kind": "uid", "value": card},
        }
        assert self.link.publish(
            topics.reserve("store-1", self.kiosk),
            json.dumps(body).encode(),
            1,
            response_topic=topics.reserve_reply("store-1", self.kiosk),
            correlation=correlation,
        )
        return correlation


def test_two_kiosks_race_for_the_last_one_over_the_brokers(tmp_path):
    world = World(tmp_path)
    kiosks = []
    try:
        world.start_brokers()
        (tmp_path / "program.toml").write_text(PROGRAM)
        world.ledger.cli("members", "add", "--name", "Ada", "--card", ADA, "--balance", "100")
        world.ledger.cli("members", "add", "--name", "Bo", "--card", BO, "--balance", "100")
        world.ledger.cli("program", "load", str(tmp_path / "program.toml"))
        world.ledger.serve_args = ("--reserve-minutes", "2")
        world.ledger.start()
        kiosks = [Kiosk(world, "kiosk-1"), Kiosk(world, "kiosk-2")]
        asked = [k.reserve(card) for k, card in zip(kiosks, (ADA, BO), strict=True)]
        assert wait_for(lambda: all(k.replies for k in kiosks), 15), (
            world.ledger.log_path.read_text()
        )
        answers = [k.replies[0] for k in kiosks]
        assert [corr for corr, _ in answers] == asked, "each on its own topic, its correlation"
        granted = sorted(body["granted"] for _, body in answers)
        assert granted == [False, True]
        (held,) = [body for _, body in answers if body["granted"]]
        assert held["expires_in_s"] == 120, "ledger serve --reserve-minutes 2"
        (refused,) = [body for _, body in answers if not body["granted"]]
        assert refused["reason"].startswith("sold_out: mug is out of stock")
    finally:
        for k in kiosks:
            k.link.stop()
        world.stop()
