"""mqtt/paho_tuned.py's two patches switched on and off, for bench.bench_paho_tuned only.

``use(variant)`` makes every MqttLink built after it use that client, in this process; run as
``python -m bench.paho_variants serve ...`` with BENCH_PAHO=<variant> it is `ledger` with it.
"""

from __future__ import annotations

import os
import sys

import paho.mqtt.client as paho

from mqtt import client
from mqtt.paho_tuned import TunedClient

VARIANTS = ("both", "read-ahead only", "wake-ups only", "neither")


class _NoReadAhead(TunedClient):
    """paho's own socket: a packet read in several recv calls."""

    def _create_socket(self):
        return paho.Client._create_socket(self)

    def read_buffered(self) -> paho.MQTTErrorCode:
        return paho.MQTTErrorCode.MQTT_ERR_SUCCESS  # nothing is ever read ahead


class _NoWakeups(TunedClient):
    """paho's own queueing: a wake-up byte on the socket pair for every packet."""

    def _packet_queue(self, *args, **kwargs) -> paho.MQTTErrorCode:
        return paho.Client._packet_queue(self, *args, **kwargs)


class _Neither(_NoReadAhead, _NoWakeups):
    pass


CLASSES = {
    "both": TunedClient,
    "read-ahead only": _NoWakeups,
    "wake-ups only": _NoReadAhead,
    "neither": _Neither,
}


def use(variant: str) -> None:
    client.TunedClient = CLASSES[variant]


if __name__ == "__main__":
    from ledger.cli import main

    use(os.environ.get("BENCH_PAHO", "both"))
    sys.exit(main())
