"""The fleet as the back office sees it: a background MQTT subscriber keeping every kiosk's
retained status in memory.

`ledger fleet` connects, collects the retained statuses for a moment and exits; the web process
instead stays subscribed, so the fleet page is always current: a kiosk whose process dies is
shown offline as soon as the broker publishes its last will. Each full status is also written to
the same state file as `ledger fleet` (ledger.fleet.save_known), so a kiosk that went away
holding unsynced ops is still flagged after a restart. Rows and flags are ledger.fleet's.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading

from ledger import fleet
from mqtt import messages, topics
from mqtt.client import Incoming, MqttLink, TlsOptions

log = logging.getLogger(__name__)


class FleetWatch:
    def __init__(self, host: str, port: int, username: str = "", password: str = "",
                 tls: TlsOptions | None = None, state_path: str = "",
                 expected: set[str] = frozenset(), stale_s: float = fleet.STALE_S) -> None:
        self.state_path, self.expected, self.stale_s = state_path, set(expected), stale_s
        self.statuses: dict[str, dict] = {}  # "store/kiosk" -> its last status
        self.known = fleet.load_known(state_path)
        self._lock = threading.Lock()  # paho's thread writes, request threads read
        self.link = MqttLink(host=host, port=port, client_id=f"ledger-web-fleet-{os.getpid()}",
                             username=username, password=password, tls=tls, clean_start=True,
                             session_expiry=0, reconnect_min=0.5, reconnect_max=10.0,
                             on_message=self._on_message)
        self.link.subscribe(topics.ALL_STATUS, 1)

    def start(self) -> None:
        messages.prepare("status")
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    @property
    def connected(self) -> bool:
        return self.link.subscribed.is_set() and self.link.connected.is_set()

    def _on_message(self, msg: Incoming) -> None:
        parts = topics.parse_kiosk_topic(msg.topic)
        if parts is None or parts[2] != "status":
            return
        key = f"{parts[0]}/{parts[1]}"
        if not msg.payload:  # the retained status was cleared: the kiosk was retired
            with self._lock:
                self.statuses.pop(key, None)
            return
        try:
            status = messages.decode("status", msg.payload)
        except messages.BadMessage as exc:
            log.warning("ignoring bad status on %s: %s", msg.topic, exc)
            return
        with self._lock:
            self.statuses[key] = status
            if "queue_depth" in status:
                try:
                    fleet.save_known(self.state_path, self.known, {key: status})
                except OSError as exc:  # the page still works from memory
                    log.warning("cannot write the fleet state %s: %s", self.state_path, exc)

    def rows(self, now: dt.datetime | None = None) -> list[fleet.KioskRow]:
        """Every kiosk seen, known from the state file or expected, sorted by store and kiosk."""
        with self._lock:
            statuses, known = dict(self.statuses), dict(self.known)
        return fleet.rows(statuses, known, self.expected, now or dt.datetime.now(dt.UTC),
                          self.stale_s)
