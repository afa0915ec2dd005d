"""Where each of the kiosk's messages goes: its topic, schema and MQTT options (contract v1).

Every payload is validated before it leaves (mqtt.messages.encode), so a bug never reaches a peer.
"""

from __future__ import annotations

from collections.abc import Callable

from mqtt import batches, messages, topics


class Publisher:
    def __init__(self, publish: Callable[..., bool], store: str, lane: str, kiosk_id: str) -> None:
        self._publish = publish  # Ports.publish
        self.store, self.lane, self.kiosk_id = store, lane, kiosk_id

    def _send(self, topic: str, schema: str, body: dict, retain: bool = False,
              response_topic: str | None = None, correlation: bytes | None = None) -> bool:
        return self._publish(topic, messages.encode(schema, body), 1, retain, response_topic,
                             correlation)

    def member(self, body: dict) -> bool:
        return self._send(topics.member(self.store, self.lane), "member", body)

    def redemption(self, body: dict) -> bool:
        return self._send(topics.redemption(self.store, self.lane), "redemption", body)

    def notice(self, body: dict) -> bool:
        """Something the POS must know about a basket (contract v1.1): QoS 1, not retained."""
        return self._send(topics.notice(self.store, self.lane), "notice", body)

    def lookup(self, body: dict, correlation: bytes) -> bool:
        """A lookup request on this kiosk's own topic (only it may write there); the ledger
        answers on this kiosk's reply topic (MQTT 5)."""
        return self._send(topics.lookup(self.store, self.kiosk_id), "lookup_request", body,
                          response_topic=topics.lookup_reply(self.store, self.kiosk_id),
                          correlation=correlation)

    def reserve(self, body: dict, correlation: bytes) -> bool:
        """Ask the ledger to hold a limited reward (v1.1), answered on this kiosk's own
        reserve-reply topic (MQTT 5)."""
        return self._send(topics.reserve(self.store, self.kiosk_id), "reserve_request", body,
                          response_topic=topics.reserve_reply(self.store, self.kiosk_id),
                          correlation=correlation)

    def release(self, body: dict) -> bool:
        """Give a reservation back (not answered)."""
        return self._send(topics.reserve(self.store, self.kiosk_id), "reserve_request", body)

    def status(self, body: dict) -> bool:
        return self._send(topics.status(self.store, self.kiosk_id), "status", body, retain=True)

    def op(self, message: dict) -> bool:
        """One queued op as the replayer sends it; False when the link cannot take it."""
        return self._publish(topics.ops(self.store, self.kiosk_id), messages.encode("op", message),
                             1)

    def ops(self, bodies: list[dict]) -> int:
        """Queued ops in op_batch messages (contract v1.2; only to a ledger that said it reads
        them), as many to a message as the limits allow, a lone one as a plain op. Returns
        how many ops went out, in order, before the link refused one message."""
        topic = topics.ops(self.store, self.kiosk_id)
        sent = 0
        for group in batches.pack("op_batch", [messages.encode("op", b) for b in bodies]):
            payload = group[0] if len(group) == 1 else batches.join("op_batch", group)
            if not self._publish(topic, payload, 1):
                break
            sent += len(group)
        return sent
