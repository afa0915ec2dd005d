"""Acks on the wire, after the commit: in the form each op came in (contract v1.2).

An op that came alone (a v1.0 kiosk, or one op) gets one ack message; ops that came in an
op_batch get ack_batch messages, one per kiosk and pass as far as the limits allow. Each ack is
checked against its schema on its own, so one ack that breaks the contract sinks no other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from mqtt import batches, messages, topics

log = logging.getLogger("ledger.service")  # operators grep one logger for the op path

Publish = Callable[[str, bytes, int], bool]


def publish_acks(publish: Publish, answers: Iterable[tuple[str, str, bool, dict]]) -> int:
    """Publish ``(store, kiosk, batched, ack)`` answers in order; returns messages sent."""
    grouped: dict[tuple[str, str], list[bytes]] = {}
    sent = 0
    for store, kiosk, batched, ack in answers:
        try:
            payload = messages.encode("ack", ack)
        except messages.BadMessage as exc:
            log.error(
                "ack for op %s from %s/%s not sent: %s; the op stays applied, and its "
                "kiosk resends it until an ack can carry the result",
                ack.get("op_id"),
                store,
                kiosk,
                exc,
            )
            continue
        if batched:
            grouped.setdefault((store, kiosk), []).append(payload)
        else:
            publish(topics.acks(store, kiosk), payload, 1)
            sent += 1
    for (store, kiosk), encoded in grouped.items():
        for group in batches.pack("ack_batch", encoded):
            publish(topics.acks(store, kiosk), batches.join("ack_batch", group), 1)
            sent += 1
    return sent
