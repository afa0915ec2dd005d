"""Sends queued ops to the ledger: creation order, a bounded in-flight window, resend on timeout.

The broker may drop QoS 1 messages for a slow subscriber (Mosquitto's
max_queued_messages), and an ack can be lost: so an op not acked within
``retry_s`` is sent again, whatever the broker promised. The ledger's op_id
key makes the repeat harmless.

Once the ledger's capabilities message allows it (contract v1.2, ``use_batches``), several ops
travel in one message: the window is cut into about four messages, so the ledger applies one
while the next is on its way. Until then, and for a lone op, each op is its own message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.outbox import Outbox, PendingOp
from mqtt.messages import BadMessage

log = logging.getLogger(__name__)

MESSAGES_PER_WINDOW = 4  # batches in flight at once when the window is full


class Replayer:
    def __init__(self, outbox: Outbox, send: Callable[[dict], bool], window: int = 64,
                 retry_s: float = 5.0, send_batch: Callable[[list[dict]], int] | None = None
                 ) -> None:
        self.outbox = outbox
        self.send = send  # publishes one op message; False when offline
        self.send_batch = send_batch  # publishes ops in op_batch messages; how many went out
        self.window = window
        self.retry_s = retry_s
        self.batch_limit = 1  # ops per message the ledger reads; 1 until it says more
        self.inflight: dict[str, tuple[PendingOp, float]] = {}  # op_id -> (op, sent at)
        self.sent_total = 0

    def use_batches(self, most: int) -> None:
        """The ledger's capabilities: up to ``most`` ops per message (1: one per message)."""
        self.batch_limit = max(1, most)

    def pump(self, now: float, online: bool) -> int:
        """Resend overdue ops and fill the window; returns how many were published."""
        if not online:
            return 0
        overdue = sorted((op for op, at in self.inflight.values() if now - at >= self.retry_s),
                         key=lambda o: o.kiosk_seq)
        sent = self._send_all(overdue, now)
        for op in overdue[:sent]:
            log.info("resending op %s (seq %d): no ack in %.1fs", op.op_id, op.kiosk_seq,
                     self.retry_s)
        room = self.window - len(self.inflight)
        if sent == len(overdue) and room > 0:
            last = max((op.kiosk_seq for op, _ in self.inflight.values()), default=0)
            sent += self._send_all(self.outbox.pending(limit=room, after_seq=last), now)
        self.sent_total += sent
        return sent

    def _send_all(self, ops: list[PendingOp], now: float) -> int:
        """Send ``ops`` in order, in messages of up to the chunk size; stop at the first that
        the link does not take. Returns how many went out (each now in flight)."""
        size, sent, i = self._chunk(), 0, 0
        while i < len(ops):
            chunk = ops[i:i + size]
            went = self._send_batch(chunk, now) if len(chunk) > 1 else None
            if went is not None:
                sent, i = sent + went, i + went
                if went < len(chunk):
                    break
                continue
            for op in chunk:  # one by one: a single op, or a batch the contract refuses
                if (done := self._send(op, now)) is None:
                    return sent
                sent, i = sent + done, i + 1
        return sent

    def _chunk(self) -> int:
        if self.send_batch is None or self.batch_limit <= 1:
            return 1
        return max(1, min(self.batch_limit, self.window // MESSAGES_PER_WINDOW))

    def _send_batch(self, chunk: list[PendingOp], now: float) -> int | None:
        """Publish ``chunk`` as one batch: how many went out; None when the contract refuses one
        of them (they then go one by one, so only that one is set aside)."""
        try:
            went = self.send_batch([op.message() for op in chunk])
        except BadMessage:
            return None
        for op in chunk[:went]:
            self.inflight[op.op_id] = (op, now)
        return went

    def _send(self, op: PendingOp, now: float) -> int | None:
        """Publish one op: 1 sent, None when the link cannot take it. One the contract refuses
        (queued by an older version) is set aside in the outbox's rejected table, kept for
        reports, so it blocks no other op: 0."""
        try:
            if not self.send(op.message()):
                return None
        except BadMessage as exc:
            log.error("op %s (seq %d) cannot be sent, kept as rejected: %s", op.op_id,
                      op.kiosk_seq, exc)
            self.outbox.reject(op.op_id, f"cannot be sent: {exc}"[:200])
            self.inflight.pop(op.op_id, None)
            return 0
        self.inflight[op.op_id] = (op, now)
        return 1

    def acked(self, op_ids: list[str]) -> None:
        for op_id in op_ids:
            self.inflight.pop(op_id, None)

    def link_down(self) -> None:
        """Everything in flight is resent after the next connect, in order."""
        self.inflight.clear()
