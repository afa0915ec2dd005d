"""paho's client with two system calls per packet taken out, for the ledger's throughput.

Measured on a ledger worker (docs/benchmarks.md, ledger section): these calls, and the hand-over
of Python's GIL that each one causes between paho's thread and the thread applying ops, were a
large share of its CPU at thousands of ops per second.

1. Reads: paho 2.x reads every packet in at least three ``recv`` calls (the type byte, the
   remaining length a byte at a time, the body), a system call each. ``ReadAheadSocket`` reads
   up to 64 KiB at once and hands paho the bytes from memory. paho's loop already asks its
   socket for ``pending()`` bytes before it waits in select (it does so for TLS sockets), so
   buffered packets are handled at once, not after the next network event.
2. Wake-ups: paho writes a byte to an internal socket pair for every packet it queues, so that
   its loop wakes from select to send it, even when it has just sent the packet itself. Here
   the byte is written only when the packet is still waiting and the caller is not the loop.

3. A read gate: ``loop_read`` runs under ``read_gate``, so a thread that must not be
   interrupted (the kiosk drawing a frame, MqttLink.reads_held) can hold paho's thread back;
   it waits on the lock without Python's GIL.

The first two lean on paho internals (``_create_socket``, ``_packet_queue``), hence the upper bound on
paho's version in setup.cfg; tests/test_paho_tuned.py checks the behaviour they must keep.
``python -m bench.bench_paho_tuned`` measures each patch on and off (docs/benchmarks.md, replay
section): re-measure it before raising that bound, and drop a patch that no longer pays.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as paho

READ_AHEAD = 64 * 1024


class ReadAheadSocket:
    """A socket whose ``recv`` reads ahead; everything else goes to the real socket."""

    def __init__(self, sock) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._sock.recv(max(size, READ_AHEAD))  # raises as the real one would
            if len(data) <= size:
                return data
            self._buf, self._pos = data, 0
        chunk = self._buf[self._pos:self._pos + size]
        self._pos += len(chunk)
        return chunk

    def pending(self) -> int:
        inner = getattr(self._sock, "pending", None)  # a TLS socket's decrypted bytes
        return len(self._buf) - self._pos + (inner() if inner else 0)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class TunedClient(paho.Client):
    """paho.Client driven by our own ``loop()`` calls (MqttLink), with the two changes above."""

    _loop_thread: int | None = None
    read_gate = None  # a threading.Lock when MqttLink may hold reads back

    def loop_read(self, max_packets: int = 1) -> paho.MQTTErrorCode:
        if self.read_gate is None:
            return super().loop_read(max_packets)
        with self.read_gate:
            return super().loop_read(max_packets)

    def loop(self, timeout: float = 1.0) -> paho.MQTTErrorCode:
        self._loop_thread = threading.get_ident()
        return super().loop(timeout)

    def read_buffered(self) -> paho.MQTTErrorCode:
        """Handle every packet already read ahead (paho reads a few per ``loop()`` pass)."""
        rc = paho.MQTTErrorCode.MQTT_ERR_SUCCESS
        while rc == paho.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None \
                and self._sock.pending():
            rc = self.loop_read()
        return rc

    def _create_socket(self):
        return ReadAheadSocket(super()._create_socket())

    def _packet_queue(self, command: int, packet: bytes | bytearray, mid: int, qos: int,
                      info: paho.MQTTMessageInfo | None = None) -> paho.MQTTErrorCode:
        if self._thread is not None or self._on_socket_register_write is not None:
            return super()._packet_queue(command, packet, mid, qos, info)  # not our set-up
        self._out_packet.append({"command": command, "mid": mid, "qos": qos, "pos": 0,
                                 "to_process": len(packet), "packet": packet, "info": info})
        rc = paho.MQTTErrorCode.MQTT_ERR_SUCCESS
        if self._in_callback_mutex.acquire(False):  # as paho: write now unless in a callback
            self._in_callback_mutex.release()
            rc = self.loop_write()
        if self.want_write() and threading.get_ident() != self._loop_thread:
            self._wake_loop()  # still queued: the loop may be asleep in select
        return rc

    def _wake_loop(self) -> None:
        if self._sockpairW is not None:
            try:
                self._sockpairW.send(b"\0")
            except BlockingIOError:
                pass  # the pair is full of wake-ups already
