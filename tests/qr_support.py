"""Shared by the QR input tests: a signing key, a [qr] section trusting it, an event sink."""

from __future__ import annotations

import queue
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from codes import keys
from codes import member_qr as qrcodes
from drivers.base import ReaderHealth

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def section(**kw) -> dict:
    base = {"driver": "sim", "device": "", "program": "loyalty", "keys": [keys.public_text(KEY)],
            "period": 30, "grace": 30, "skew": 15, "cards": True, "url_prefix": "", "fps": 30,
            "resolution": "640x480", "layout": "us", "baud": 9600}
    return {**base, **kw}


def card(member: str = "ada", issue: int = 1) -> str:
    return qrcodes.card_code(KEY, "loyalty", member, issue)


def app(member: str = "ada") -> str:
    return qrcodes.app_code(KEY, "loyalty", member)


class Sink:
    """The session's queue, as far as a reader can tell."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def __call__(self, event) -> None:
        self.q.put(event)

    def next(self, kind=None, timeout: float = 10.0):
        """The next event of ``kind`` (default: any but health reports); fails after ``timeout``."""
        end = time.monotonic() + timeout
        while True:
            ev = self.q.get(timeout=max(0.01, end - time.monotonic()))
            if isinstance(ev, kind) if kind else not isinstance(ev, ReaderHealth):
                return ev

    def drain(self) -> list:
        out = []
        while not self.q.empty():
            out.append(self.q.get())
        return out
