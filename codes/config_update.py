"""Signed config updates (``lkc1.<payload>.<signature>``): the format, made by `ledger config-update`
and checked by the kiosk (kiosk.remote_config applies them). The payload names the store and kiosk,
a serial that only rises, an expiry, and ``set``: the keys to change."""

from __future__ import annotations

import time

from codes.provisioning import seal

VERSION = "lkc1"
DOMAIN = b"loyalty-kiosk config update v1\x00"


def sign_update(key, store: str, kiosk: str, serial: int, settings: dict,
                valid_s: int = 7 * 24 * 3600, now: float | None = None) -> str:
    now = time.time() if now is None else now
    body = {"v": 1, "store": store, "kiosk": kiosk, "serial": serial,
            "exp": int(now + valid_s), "set": settings}
    return seal(key, VERSION, DOMAIN, body)
