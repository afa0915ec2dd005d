"""paho-mqtt 2.x behind a small adapter: MQTT 5, persistent session, reconnect.

What the rest of the code sees: ``MqttLink.publish`` (False when not connected,
never raises), callbacks for connect/disconnect/message, and subscriptions that
are renewed on every connect (a broker that lost our session must not leave
us deaf). Reconnect uses capped exponential backoff with full jitter, so a
fleet of kiosks does not hammer a broker that just came back.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqtt.paho_tuned import TunedClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    retain: bool = False
    response_topic: str | None = None
    correlation: bytes | None = None


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass
class TlsOptions:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


def _no_delay(sock) -> None:
    """Small messages go out at once: with Nagle's algorithm each one waits for the peer's
    delayed ACK of the one before (about 40 ms), which would add up on every ack and lookup."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # not a TCP socket (a test double, a unix socket): nothing to tune


def backoff_delays(low: float, high: float, rng: random.Random | None = None):
    """Yield reconnect delays: full jitter over a doubling, capped window."""
    rng = rng or random.Random()
    window = low
    while True:
        yield low + rng.random() * (window - low) if window > low else low
        window = min(high, window * 2)


class MqttLink:
    """One MQTT 5 connection with its own network thread."""

    def __init__(self, *, host: str, port: int, client_id: str, username: str = "",
                 password: str = "", tls: TlsOptions | None = None, keepalive: int = 30,
                 clean_start: bool = False, session_expiry: int = 7 * 24 * 3600,
                 will: Will | None = None, reconnect_min: float = 0.5, reconnect_max: float = 30.0,
                 on_message: Callable[[Incoming], None] | None = None,
                 on_connect: Callable[[bool], None] | None = None,
                 on_disconnect: Callable[[str], None] | None = None,
                 on_loop: Callable[[], None] | None = None,
                 max_inflight: int = 200) -> None:
        """``on_loop``, when given, runs on the network thread after each pass of its loop, once
        every packet read so far has been handed to ``on_message``: work done there does not
        contend for the GIL with the network thread (the ledger applies ops there). It must
        be brief: while it runs, nothing is read or sent. ``max_inflight`` 0: no limit."""
        self.host, self.port, self.keepalive = host, port, keepalive
        self.clean_start, self.session_expiry = clean_start, session_expiry
        self.reconnect_min, self.reconnect_max = reconnect_min, reconnect_max
        self.on_message, self.on_connect, self.on_disconnect = on_message, on_connect, on_disconnect
        self.on_loop = on_loop
        self.subscriptions: list[tuple[str, int]] = []
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker acknowledged every subscription
        self._pending_subs: set[int] = set()
        self._stop = threading.Event()
        self._fresh_connect = False
        self._thread: threading.Thread | None = None
        self._client = TunedClient(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=paho.MQTTv5)
        self._client.read_gate = threading.Lock()  # reads_held()
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        if username:
            self._client.username_pw_set(username, password or None)
        if tls is not None:
            self._client.tls_set(ca_certs=tls.ca_file or None, certfile=tls.cert_file or None,
                                 keyfile=tls.key_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will is not None:
            self._client.will_set(will.topic, will.payload, will.qos, will.retain)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    # -- life cycle ---------------------------------------------------------------
    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Add a subscription; it is (re)made on every connect."""
        self.subscriptions.append((topic, qos))
        if self.connected.is_set():
            self._client.subscribe(topic, qos)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.port}", daemon=True)
        self._thread.start()

    def stop(self, final: tuple[str, bytes, bool] | None = None) -> None:
        """Disconnect cleanly; ``final`` (topic, payload, retain) is published first."""
        self._stop.set()
        if final is not None and self.connected.is_set():
            info = self._client.publish(final[0], final[1], qos=1, retain=final[2])
            try:
                info.wait_for_publish(timeout=2.0)
            except (RuntimeError, ValueError):
                pass
        try:
            self._client.disconnect()
        except Exception:  # noqa: BLE001 - already gone is fine at shutdown
            pass
        if self._thread:
            self._thread.join(timeout=5)

    @contextmanager
    def reads_held(self) -> Iterator[None]:
        """While the body runs, the network thread reads nothing: it waits for the body to
        end, without Python's GIL, and then handles what arrived. For brief work only (the
        kiosk's frame): keepalives wait too."""
        with self._client.read_gate:
            yield

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    # -- publishing -----------------------------------------------------------------
    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                response_topic: str | None = None, correlation: bytes | None = None) -> bool:
        """Queue a publish on the live connection; False when offline (caller retries)."""
        if not self.connected.is_set():
            return False
        props = None
        if response_topic is not None or correlation is not None:
            props = Properties(PacketTypes.PUBLISH)
            if response_topic is not None:
                props.ResponseTopic = response_topic
            if correlation is not None:
                props.CorrelationData = correlation
        try:
            info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        except (ValueError, OSError) as exc:
            log.warning("publish to %s failed: %s", topic, exc)
            return False
        return info.rc == paho.MQTT_ERR_SUCCESS

    # -- network thread ---------------------------------------------------------------
    def _connect_props(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        return props

    def _run(self) -> None:
        delays = backoff_delays(self.reconnect_min, self.reconnect_max)
        first = True
        while not self._stop.is_set():
            try:
                if first:
                    self._client.connect(self.host, self.port, self.keepalive,
                                         clean_start=self.clean_start,
                                         properties=self._connect_props())
                    first = False
                else:
                    self._client.reconnect()
            except (OSError, ValueError) as exc:
                delay = next(delays)
                log.info("broker %s:%s unreachable (%s); retry in %.1fs", self.host, self.port,
                         exc, delay)
                self._stop.wait(delay)
                continue
            rc = paho.MQTT_ERR_SUCCESS
            while not self._stop.is_set() and rc == paho.MQTT_ERR_SUCCESS:
                rc = self._client.loop(timeout=0.2)
                if self.on_loop is not None and rc == paho.MQTT_ERR_SUCCESS:
                    rc = self._client.read_buffered()
                    self._safe(self.on_loop)
            self._mark_down(f"network loop ended ({paho.error_string(rc)})")
            if self._fresh_connect:
                delays = backoff_delays(self.reconnect_min, self.reconnect_max)
                self._fresh_connect = False
            if not self._stop.is_set():
                self._stop.wait(next(delays))
        self._client.loop(timeout=0.1)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        _no_delay(client.socket())
        self.subscribed.clear()
        self._pending_subs = {client.subscribe(topic, qos)[1] for topic, qos in self.subscriptions}
        if not self._pending_subs:
            self.subscribed.set()
        self.connected.set()
        self._fresh_connect = True
        log.info("connected to %s:%s (session present: %s)", self.host, self.port,
                 flags.session_present)
        if self.on_connect:
            self._safe(self.on_connect, flags.session_present)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [str(rc) for rc in reason_codes if rc.is_failure]
        if failed:
            log.warning("broker refused a subscription: %s", ", ".join(failed))
        self._pending_subs.discard(mid)
        if not self._pending_subs:
            self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._mark_down(str(reason_code))

    def _mark_down(self, reason: str) -> None:
        if not self.connected.is_set():
            return
        self.connected.clear()
        self.subscribed.clear()
        log.info("disconnected from %s:%s: %s", self.host, self.port, reason)
        if self.on_disconnect:
            self._safe(self.on_disconnect, reason)

    def _on_message(self, client, userdata, msg) -> None:
        props = getattr(msg, "properties", None)
        incoming = Incoming(msg.topic, msg.payload, bool(msg.retain),
                            getattr(props, "ResponseTopic", None),
                            getattr(props, "CorrelationData", None))
        if self.on_message:
            self._safe(self.on_message, incoming)

    @staticmethod
    def _safe(fn, *args) -> None:
        # One bad handler must never kill the network thread.
        try:
            fn(*args)
        except Exception:  # noqa: BLE001
            log.exception("MQTT callback %s failed", getattr(fn, "__name__", fn))
