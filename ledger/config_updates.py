"""Signed config updates for one kiosk, as `ledger config-update` and the fleet page send them.

The update (codes.config_update, ``lkc1.<payload>.<signature>``) is published retained on the
kiosk's config topic; the kiosk checks it and applies it (kiosk.remote_config). Whoever sends
one is written to the audit log with the keys it sets (values too: they are settings such as
``lookup.timeout_ms``, never a member's data).
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass

from codes.config_update import sign_update
from ledger import audit
from mqtt.client import MqttLink, TlsOptions
from mqtt.topics import ID_RE
from mqtt.topics import config as config_topic

ACTION = "kiosk.config_update"
MAX_SETTINGS = 50
MAX_VALID_DAYS = 365.0


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str = ""
    password: str = ""
    ca_file: str = ""


@dataclass(frozen=True)
class Update:
    store: str
    kiosk: str
    serial: int
    settings: dict
    text: str  # the signed message


def parse_settings(items: list[str]) -> dict:
    """``SECTION.KEY=VALUE`` items (VALUE a TOML value, or a bare word) as nested settings;
    ValueError names the item that is wrong."""
    if len(items) > MAX_SETTINGS:
        raise ValueError(f"{len(items)} settings, more than {MAX_SETTINGS} in one update")
    settings: dict = {}
    for item in items:
        name, eq, raw = item.partition("=")
        section, dot, key = name.strip().partition(".")
        if not (eq and dot and section and key):
            raise ValueError(f"{item!r}: expected SECTION.KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()  # a bare word is a string
        settings.setdefault(section, {})[key] = value
    return settings


def build(key, store: str, kiosk: str, items: list[str], serial: int | None = None,
          valid_days: float = 7.0) -> Update:
    """The signed update; ValueError names what is wrong (an id, a setting, the validity)."""
    for what, value in (("store", store), ("kiosk", kiosk)):
        if not ID_RE.match(value):
            raise ValueError(f"{what} {value!r} is not an id (a-z, 0-9, '-', up to 32)")
    if not items:
        raise ValueError("no setting to change: give at least one SECTION.KEY=VALUE")
    if not 0 < valid_days <= MAX_VALID_DAYS:
        raise ValueError(f"valid days must be above 0 and at most {MAX_VALID_DAYS:g}")
    settings = parse_settings(items)
    serial = serial if serial is not None else int(time.time())
    text = sign_update(key, store, kiosk, serial, settings, int(valid_days * 86400))
    return Update(store, kiosk, serial, settings, text)


def publish(broker: Broker, update: Update, client: str = "config-update") -> bool:
    """Publish the update retained (waits for the broker's PUBACK); False if unreachable."""
    link = MqttLink(host=broker.host, port=broker.port, client_id=f"{client}-{os.getpid()}",
                    username=broker.username, password=broker.password,
                    tls=TlsOptions(broker.ca_file) if broker.ca_file else None, clean_start=True,
                    session_expiry=0)
    link.start()
    if not link.wait_connected(10):
        link.stop()
        return False
    link.stop(final=(config_topic(update.store, update.kiosk), update.text.encode(), True))
    return True


def record(store, update: Update, actor: str, via: str) -> None:
    """The audit row of a sent update, in its own transaction."""
    with store.transaction() as db:
        audit.record(db, actor, via, ACTION, f"kiosk:{update.store}/{update.kiosk}",
                     {"serial": update.serial, "set": update.settings})
