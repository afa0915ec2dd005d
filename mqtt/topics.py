"""Every topic name of contract v1 (v1.1: refund and notice added; v1.2: capabilities; v1.1 also reserve), in one
place."""

from __future__ import annotations

import re

ROOT = "loyalty/v1"
ID = r"[a-z0-9-]{1,32}"
ID_RE = re.compile(rf"^{ID}$")
LEDGER_SHARE_GROUP = "ledger"


def id_arg(text: str) -> str:
    """An id given on a command line (argparse ``type=``), refused with the rule it breaks."""
    import argparse

    if not ID_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} must match {ID_RE.pattern[1:-1]}")
    return text


def basket(store: str, lane: str) -> str:
    return f"{ROOT}/stores/{store}/lanes/{lane}/basket"


def member(store: str, lane: str) -> str:
    return f"{ROOT}/stores/{store}/lanes/{lane}/member"


def redemption(store: str, lane: str) -> str:
    return f"{ROOT}/stores/{store}/lanes/{lane}/redemption"


def refund(store: str, lane: str) -> str:
    """A refund or return of a paid basket (POS -> kiosk, QoS 1, not retained; v1.1)."""
    return f"{ROOT}/stores/{store}/lanes/{lane}/refund"


def notice(store: str, lane: str) -> str:
    """kiosk -> POS (contract v1.1): what the POS must know about a basket (notice.json)."""
    return f"{ROOT}/stores/{store}/lanes/{lane}/notice"


def ops(store: str, kiosk: str) -> str:
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/ops"


def acks(store: str, kiosk: str) -> str:
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/acks"


def lookup(store: str, kiosk: str) -> str:
    """Where this kiosk asks the ledger who holds a token: the ACL lets only this kiosk write
    it, so the ledger answers on this kiosk's own ``lookup_reply`` whatever the request says."""
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/lookup"


def lookup_reply(store: str, kiosk: str) -> str:
    """Where the ledger answers this kiosk's lookups (the MQTT 5 response topic)."""
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/lookup-reply"


def reserve(store: str, kiosk: str) -> str:
    """Where this kiosk asks the ledger to hold (or give back) a limited reward (v1.1): only it
    may write here, so the ledger answers on this kiosk's own ``reserve_reply``."""
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/reserve"


def reserve_reply(store: str, kiosk: str) -> str:
    """Where the ledger answers this kiosk's reservations (the MQTT 5 response topic)."""
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/reserve-reply"


def status(store: str, kiosk: str) -> str:
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/status"


def config(store: str, kiosk: str) -> str:
    """Signed config updates for one kiosk (ledger -> kiosk, retained), see kiosk.remote_config."""
    return f"{ROOT}/stores/{store}/kiosks/{kiosk}/config"


def uplink(store: str) -> str:
    """The store broker's bridge to the ledger's broker: "1" up, "0" down (retained).

    Mosquitto publishes it with ``notification_topic``; a kiosk on a broker with no bridge
    never sees it and counts the ledger reachable while its own connection is up.
    """
    return f"{ROOT}/stores/{store}/uplink"


# The first lookup topic, shared by every kiosk: the ledger cannot tell who asked, so it answers
# only on a kiosk's lookup-reply topic. Kept until every kiosk asks on its own ``lookup`` topic.
LOOKUP = f"{ROOT}/ledger/lookup"
PROGRAM = f"{ROOT}/program"
# What the ledger understands beyond v1.0 (ledger -> kiosks, retained; contract v1.2).
CAPABILITIES = f"{ROOT}/ledger/capabilities"
ALL_OPS = f"{ROOT}/stores/+/kiosks/+/ops"
ALL_LOOKUPS = f"{ROOT}/stores/+/kiosks/+/lookup"
ALL_RESERVES = f"{ROOT}/stores/+/kiosks/+/reserve"
ALL_STATUS = f"{ROOT}/stores/+/kiosks/+/status"


def shared(topic: str, group: str = LEDGER_SHARE_GROUP) -> str:
    """A shared subscription so several ledger workers split the messages."""
    return f"$share/{group}/{topic}"


_KIOSK_TOPIC = re.compile(rf"^{ROOT}/stores/({ID})/kiosks/({ID})/([a-z-]+)$")


def parse_kiosk_topic(topic: str) -> tuple[str, str, str] | None:
    """``(store, kiosk, leaf)`` of a per-kiosk topic, or None when it is not one."""
    m = _KIOSK_TOPIC.match(topic)
    return (m.group(1), m.group(2), m.group(3)) if m else None
