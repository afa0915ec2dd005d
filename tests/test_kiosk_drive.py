"""`kiosk tap|press|scan|remove` drive a real `kiosk run` process (simulated drivers) on a private
broker, with a real `ledger serve`: what the POS sees on the broker is what a tapped card and
pressed buttons make. Bad values and a kiosk that is not running end with exit status 2."""

import json
import socket
import subprocess
import sys
import threading

import pytest

from drivers import sim_control
from mqtt import messages, topics
from mqtt.client import MqttLink
from simulation.scenario import LedgerProcess, wait_for
from tests.daemon_conf import kiosk_toml

CARD = "04A1B2C3D4E5F6"


def kiosk_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=60
    )


class Watch:
    """The POS side: every message on the lane's and the kiosk's topics, decoded."""

    def __init__(self, broker):
        self.seen: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.link = MqttLink(
            host=broker.host,
            port=broker.port,
            client_id="pos-watch",
            clean_start=True,
            on_message=self._on,
        )
        for topic in ("loyalty/v1/stores/store-1/lanes/lane-1/+", topics.ops("store-1", "kiosk-1")):
            self.link.subscribe(topic, 1)
        self.link.start()
        assert self.link.wait_connected(10)

    def _on(self, msg):
        if msg.payload:
            with self.lock:
                self.seen.append((msg.topic.rsplit("/", 1)[-1], json.loads(msg.payload)))

    def of(self, leaf):
        with self.lock:
            return [body for topic, body in self.seen if topic == leaf]


def basket(seq, status):
    return messages.encode(
        "basket",
        {
            "v": 1,
            "basket_id": "b-7",
            "seq": seq,
            "status": status,
            "currency": "EUR",
            "total_minor": 1400,
        },
    )


@pytest.fixture
def world(broker, tmp_path):
    ledger = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    ledger.cli("members", "add", "--name", "Ada", "--card", CARD, "--balance", "240")
    ledger.start()
    conf = kiosk_toml(
        tmp_path,
        broker.port,
        tmp_path / "outbox.db",
        f'[reader]\ndriver = "sim"\npath = "{tmp_path}/control.sock"\n',
    )
    log = tmp_path / "kiosk.log"
    with open(log, "ab") as out:
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    watch = Watch(broker)
    try:
        assert wait_for(lambda: "connected to" in log.read_text(errors="replace"), 20), (
            log.read_text()
        )
        yield conf, watch, kiosk
    finally:
        kiosk.terminate()
        kiosk.wait(10)
        watch.link.stop()
        ledger.stop()


def test_tap_and_press_reach_the_pos_and_pay_makes_an_op(world, broker):
    conf, watch, _ = world
    pos = watch.link
    pos.publish(topics.basket("store-1", "lane-1"), basket(1, "open"), retain=True)
    assert wait_for(lambda: watch.of("basket"), 5)  # on the broker before the card comes
    res = kiosk_cli("tap", CARD, "--config", str(conf))
    assert res.returncode == 0, res.stderr
    assert wait_for(
        lambda: any(
            m["member"].get("name") == "Ada" and m["balance"] == 240 for m in watch.of("member")
        ),
        15,
    ), watch.seen
    assert watch.of("member")[-1]["basket_id"] == "b-7"

    for button in ("next", "select"):  # to the reward, then take it
        res = kiosk_cli("press", button, "--config", str(conf))
        assert res.returncode == 0, res.stderr
    assert wait_for(lambda: watch.of("redemption"), 10), watch.seen
    red = watch.of("redemption")[-1]
    assert (red["basket_id"], red["reward_id"], red["action"]) == ("b-7", "coffee", "apply")

    pos.publish(topics.basket("store-1", "lane-1"), basket(2, "paid"), retain=True)
    assert wait_for(lambda: watch.of("ops"), 15), watch.seen
    op = watch.of("ops")[0]
    assert op["basket_id"] == "b-7" and op["earn"] == 14
    assert op["token"]["value"] == CARD


def test_bad_values_are_refused_before_they_reach_the_kiosk(world):
    conf, watch, _ = world
    cases = [
        (("tap", "04A1", "--config", str(conf)), "8, 14 or 20 hex digits"),
        (("tap", CARD, "--kind", "qr", "--config", str(conf)), "uid, ndef, sun"),
        (("press", "jump", "--config", str(conf)), "next, select, cancel"),
        (("scan", "x" * 513, "--config", str(conf)), "at most 512"),
    ]
    for args, why in cases:
        res = kiosk_cli(*args)
        assert res.returncode == 2 and why in res.stderr, (args, res.stderr)
    assert watch.of("member") == []


def test_no_kiosk_running_is_exit_2(world, tmp_path):
    conf, _, kiosk = world
    kiosk.terminate()
    kiosk.wait(10)
    res = kiosk_cli("tap", CARD, "--config", str(conf))
    assert res.returncode == 2
    assert f"no simulated kiosk listens on {tmp_path}/control.sock" in res.stderr


def test_a_kiosk_without_a_simulated_reader_is_named(tmp_path):
    conf = kiosk_toml(tmp_path, 1883, tmp_path / "outbox.db", '[reader]\ndriver = "none"\n')
    res = kiosk_cli("press", "next", "--config", str(conf))
    assert res.returncode == 2 and 'driver = "sim"' in res.stderr, res.stderr


def test_stale_socket_of_a_killed_kiosk_is_no_kiosk(tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.close()  # the file stays, as after kill -9, but nobody reads it
    with pytest.raises(sim_control.NoSimulatedKiosk, match="no simulated kiosk"):
        sim_control.send(path, "remove")


@pytest.mark.parametrize(
    "text",
    [
        "tap 04A1B2C3D4E5F6",
        "present card-0042 ndef",
        "remove",
        "scan lk1.m.ada.1 x",
        "press cancel",
    ],
)
def test_client_and_server_share_one_format(text):
    cmd = sim_control.parse(text)
    assert sim_control.parse(cmd.text()) == cmd


@pytest.mark.parametrize(
    "text",
    ["", "tap", "tap 04A1B2C3D4E5F6 uid extra", "remove now", "press", "jump next", b"tap \xff"],
)
def test_malformed_datagrams_are_refused(text):
    with pytest.raises(sim_control.BadCommand):
        sim_control.parse(text)
