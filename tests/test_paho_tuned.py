"""mqtt/paho_tuned.py: paho with a read-ahead socket and fewer wake-ups must still deliver
every message, in order, without waiting for some later network event; and publishes from
another thread than paho's loop must still go out while that loop sleeps in select."""

import socket
import subprocess
import threading

from mqtt.client import MqttLink
from mqtt.paho_tuned import ReadAheadSocket, TunedClient
from simulation.scenario import wait_for


def test_read_ahead_socket_hands_out_the_bytes_in_order_and_reports_what_it_holds():
    a, b = socket.socketpair()
    try:
        a.sendall(b"\x30\x05hello" + b"\x40\x02\x00\x01")
        sock = ReadAheadSocket(b)
        assert sock.recv(1) == b"\x30"
        assert sock.pending() == 10  # the rest of both packets is in memory now
        assert sock.recv(1) == b"\x05"
        assert sock.recv(5) == b"hello"
        assert sock.recv(4) == b"\x40\x02\x00\x01"
        assert sock.pending() == 0
        assert sock.fileno() == b.fileno()  # everything else is the real socket's
        a.close()
        assert sock.recv(1) == b""  # end of stream, as paho expects it
    finally:
        b.close()


class Counter:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, msg) -> None:
        with self.lock:
            self.payloads.append(msg.payload)


def test_a_burst_arrives_whole_and_in_order(broker):
    """2,000 messages sent to the broker at once reach the subscriber many per read. The ones
    left in the read-ahead buffer must be handled at once: with nothing more on the wire, a
    message stuck there would wait for the next keepalive (30 s), past this test's wait."""
    got = Counter()
    sub = MqttLink(host=broker.host, port=broker.port, client_id="burst-sub", clean_start=True,
                   on_message=got)
    sub.subscribe("t/burst", 1)
    sub.start()
    assert sub.subscribed.wait(10)
    assert isinstance(sub._client, TunedClient)
    reads = []
    real = sub._client._sock._sock
    sub._client._sock._sock = _CountingSocket(real, reads)
    lines = b"".join(b"m%04d\n" % i for i in range(2000))
    out = subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-q", "1",
                          "-V", "5", "-t", "t/burst", "-l"], input=lines, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert wait_for(lambda: len(got.payloads) >= 2000, 20), len(got.payloads)
    assert got.payloads == [b"m%04d" % i for i in range(2000)]
    assert len(reads) < 1000, "expected many packets per read from the socket"
    sub.stop()


class _CountingSocket:
    def __init__(self, sock, reads: list) -> None:
        self._sock, self._reads = sock, reads

    def recv(self, size: int) -> bytes:
        self._reads.append(size)
        return self._sock.recv(size)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


def test_publishes_from_another_thread_go_out_while_the_loop_sleeps(broker):
    got = Counter()
    sub = MqttLink(host=broker.host, port=broker.port, client_id="t-sub", clean_start=True,
                   on_message=got)
    sub.subscribe("t/from-thread", 1)
    pub = MqttLink(host=broker.host, port=broker.port, client_id="t-pub", clean_start=True,
                   max_inflight=0)
    sub.start()
    pub.start()
    assert sub.subscribed.wait(10) and pub.wait_connected(10)
    threading.Event().wait(0.5)  # the publisher's loop is idle in select now
    for i in range(500):
        assert pub.publish("t/from-thread", b"%d" % i, 1)
    assert wait_for(lambda: len(got.payloads) >= 500, 20), len(got.payloads)
    assert got.payloads == [b"%d" % i for i in range(500)]
    assert wait_for(lambda: not pub._client._out_messages, 10)  # every PUBACK came back
    pub.stop()
    sub.stop()
