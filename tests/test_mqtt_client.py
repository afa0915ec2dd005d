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


def test_reads_held_keep_messages_for_after_the_body(broker):
    """The kiosk draws a frame with paho's reads held: what arrives meanwhile is handled after
    it, nothing is lost."""
    got = []
    sub = MqttLink(host=broker.host, port=broker.port, client_id="held", clean_start=True,
                   on_message=lambda m: got.append(m.payload))
    sub.subscribe("t/held", 1)
    pub = MqttLink(host=broker.host, port=broker.port, client_id="pub-held")
    sub.start()
    pub.start()
    try:
        assert sub.subscribed.wait(10) and pub.wait_connected(10)
        with sub.reads_held():
            for i in range(3):
                assert pub.publish("t/held", f"m{i}".encode())
            assert not wait_for(lambda: got, 0.5), "read while held"
        assert wait_for(lambda: len(got) == 3, 10), got
        assert got == [b"m0", b"m1", b"m2"]
    finally:
        sub.stop()
        pub.stop()
