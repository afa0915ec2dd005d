"""One MQTT client that answers each QoS 1 message with a QoS 1 reply, as a ledger worker answers
an op with its ack: for bench.bench_mqtt_clients only.

Run: python -m bench.mqtt_responder CLIENT PORT (CLIENT: link | link-unpatched | paho | gmqtt;
link is mqtt.client.MqttLink, paho with mqtt/paho_tuned.py driven by its own loop, as the ledger
runs it; link-unpatched the same without paho_tuned's two patches). It prints
``ready`` once subscribed and answers until it is killed; the benchmark reads its CPU time from
/proc, the same way for every client.
"""

from __future__ import annotations

import asyncio
import sys

TOPIC, REPLIES = "bench/ops/#", "bench/acks/1"
REPLY = b'{"v":1,"op_id":"00000000-0000-4000-8000-000000000000","status":"applied","balance":120}'


def with_link(port: int, patches: str = "both") -> None:
    import threading

    from bench import paho_variants
    from mqtt.client import MqttLink

    paho_variants.use(patches)  # "neither": MqttLink on paho's own socket reads and queueing

    link = MqttLink(host="127.0.0.1", port=port, client_id="responder-link", clean_start=True,
                    max_inflight=0,  # as ledger/service.py opens it
                    on_message=lambda msg: link.publish(REPLIES, REPLY, 1))
    link.subscribe(TOPIC, 1)
    link.start()
    link.subscribed.wait(10)
    print("ready", flush=True)
    threading.Event().wait()


def with_paho(port: int) -> None:
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="responder-paho",
                         protocol=paho.MQTTv5)
    client.max_inflight_messages_set(0)  # no limit, as the ledger sets its MqttLink

    def on_connect(c, userdata, flags, reason, props):
        c.subscribe(TOPIC, qos=1)

    def on_subscribe(c, userdata, mid, reasons, props):
        print("ready", flush=True)

    def on_message(c, userdata, msg):
        c.publish(REPLIES, REPLY, qos=1)

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect("127.0.0.1", port)
    client.loop_forever()


def with_gmqtt(port: int) -> None:
    from bench.gmqtt_variant import QueuingClient

    async def main() -> None:
        client = QueuingClient("responder-gmqtt")

        def on_message(c, topic, payload, qos, props):
            c.send(REPLIES, REPLY, 1)
            return 0  # PUBACK, reason "success"

        def on_subscribe(c, mid, qos, props):
            print("ready", flush=True)

        client.on_message, client.on_subscribe = on_message, on_subscribe
        await client.connect("127.0.0.1", port)
        client.subscribe(TOPIC, qos=1)
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__":
    name, port = sys.argv[1], int(sys.argv[2])
    {"link": with_link, "link-unpatched": lambda p: with_link(p, "neither"), "paho": with_paho,
     "gmqtt": with_gmqtt}[name](port)
