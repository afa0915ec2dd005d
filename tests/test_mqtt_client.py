"""The paho adapter: reconnect delays and resubscription after the broker comes back."""

import random
import threading

from mqtt.client import MqttLink, backoff_delays
from simulation.scenario import wait_for


def test_backoff_grows_is_capped_and_jittered():
    gen = backoff_delays(0.5, 30.0, random.Random(7))
    delays = [next(gen) for _ in range(40)]
    assert all(0.5 <= d <= 30.0 for d in delays)
    assert max(delays[:3]) <= 2.0 < max(delays[-10:])  # the window doubles up to the cap
    assert len({round(d, 3) for d in delays[-10:]}) > 5  # jitter: a fleet does not retry in step


def test_subscriptions_come_back_after_a_broker_restart(broker):
    got = threading.Event()
    sub = MqttLink(host=broker.host, port=broker.port, client_id="sub", clean_start=True,
                   reconnect_min=0.1, reconnect_max=0.5,
                   on_message=lambda m: got.set() if m.payload == b"after" else None)
    sub.subscribe("t/x", 1)
    pub = MqttLink(host=broker.host, port=broker.port, client_id="pub", reconnect_min=0.1,
                   reconnect_max=0.5)
    sub.start()
    pub.start()
    assert sub.subscribed.wait(10) and pub.wait_connected(10)
    broker.stop()  # clean_start: the broker forgets the session, only a resubscribe helps
    assert wait_for(lambda: not sub.connected.is_set() and not pub.connected.is_set(), 10)
    broker.start()
    assert sub.subscribed.wait(20) and pub.wait_connected(20)
    assert pub.publish("t/x", b"after")
    assert got.wait(10)
    sub.stop()
    pub.stop()
