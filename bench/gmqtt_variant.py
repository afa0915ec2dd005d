"""`ledger` with its MQTT link on gmqtt in place of paho: for bench.bench_mqtt_clients only, to
measure what the client costs a worker end to end. Not the product's link: no TLS, no
reconnect, no persistent session (the benchmark needs none of them); see docs/benchmarks.md,
"MQTT clients", for why the ledger does not run on it.

Run by a benchmark as: python -m bench.gmqtt_variant serve ... (LedgerProcess(module=...)).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable

from gmqtt import Client

from mqtt.client import Incoming

log = logging.getLogger(__name__)


class QueuingClient(Client):
    """gmqtt raises when a QoS 1 publish finds no packet id free (past the broker's receive
    maximum) where paho queues: such publishes wait here until a PUBACK frees an id."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: deque = deque()

    def send(self, topic: str, payload: bytes, qos: int, **props) -> None:
        if self.waiting:
            self.waiting.append((topic, payload, qos, props))
            return
        try:
            self.publish(topic, payload, qos=qos, **props)
        except OverflowError:
            self.waiting.append((topic, payload, qos, props))

    def _remove_message_from_queue(self, mid):  # the PUBACK handler's call: an id is free
        super()._remove_message_from_queue(mid)
        while self.waiting:
            topic, payload, qos, props = self.waiting[0]
            try:
                self.publish(topic, payload, qos=qos, **props)
            except OverflowError:
                return
            self.waiting.popleft()


class GmqttLink:
    """The part of mqtt.client.MqttLink that ledger.service uses, on gmqtt's asyncio loop in a
    thread of its own. ``on_loop`` runs on that thread once the packets of a read are handled,
    as MqttLink runs it after each pass of paho's loop."""

    def __init__(self, *, host: str, port: int, client_id: str,
                 on_message: Callable[[Incoming], None] | None = None,
                 on_connect: Callable[[bool], None] | None = None,
                 on_loop: Callable[[], None] | None = None, **_ignored) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.on_message, self.on_connect, self.on_loop = on_message, on_connect, on_loop
        self.subscriptions: list[tuple[str, int]] = []
        self.connected, self.subscribed = threading.Event(), threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: QueuingClient | None = None
        self._pass_due = False
        self._stopped = threading.Event()

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.subscriptions.append((topic, qos))

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"mqtt-{self.port}", daemon=True).start()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def stop(self, final=None) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                response_topic: str | None = None, correlation: bytes | None = None) -> bool:
        if not self.connected.is_set() or self._loop is None:
            return False
        props = {"retain": retain}
        if response_topic is not None:
            props["response_topic"] = response_topic
        if correlation is not None:
            props["correlation_data"] = correlation
        if threading.current_thread().name == f"mqtt-{self.port}":
            self._client.send(topic, payload, qos, **props)
        else:
            self._loop.call_soon_threadsafe(lambda: self._client.send(topic, payload, qos,
                                                                      **props))
        return True

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        client = self._client = QueuingClient(self.client_id)
        client.on_message = self._message
        await client.connect(self.host, self.port)
        for topic, qos in self.subscriptions:
            client.subscribe(topic, qos=qos)
        self.connected.set()
        self.subscribed.set()
        if self.on_connect:
            self.on_connect(False)
        while not self._stopped.is_set():
            await asyncio.sleep(0.2)
            self._pass()  # as MqttLink's loop times out when idle: the ledger's idle work
        await client.disconnect()

    def _message(self, client, topic, payload, qos, props) -> int:
        response = props.get("response_topic")
        correlation = props.get("correlation_data")
        incoming = Incoming(topic, payload, False, response[0] if response else None,
                            correlation[0] if correlation else None)
        try:
            if self.on_message:
                self.on_message(incoming)
        except Exception:  # noqa: BLE001 - as MqttLink: a bad handler never stops the loop
            log.exception("message handler failed")
        if not self._pass_due:  # after every packet of this read is handled
            self._pass_due = True
            self._loop.call_soon(self._pass)
        return 0  # PUBACK "success"

    def _pass(self) -> None:
        self._pass_due = False
        if self.on_loop:
            try:
                self.on_loop()
            except Exception:  # noqa: BLE001
                log.exception("loop pass failed")


if __name__ == "__main__":
    from ledger import service
    from ledger.cli import main

    service.MqttLink = GmqttLink
    sys.exit(main())
