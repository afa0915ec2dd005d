"""Sends queued ops to the ledger: creation order, a bounded in-flight window, resend on timeout.

The broker may drop QoS 1 messages for a slow subscriber (Mosquitto's
max_queued_messages), and an ack can be lost: so an op not acked within
``retry_s`` is sent again, whatever the broker promised. The ledger's op_id
key makes the repeat harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.outbox import Outbox, PendingOp
from mqtt.messages import BadMessage

log = logging.getLogger(__name__)


class Replayer:
    def __init__(self, outbox: Outbox, send: Callable[[dict], bool], window: int = 64,
                 retry_s: float = 5.0) -> None:
        self.outbox = outbox
        self.send = send  # publishes one op message; False when offline
        self.window = window
        self.retry_s = retry_s
        self.inflight: dict[str, tuple[PendingOp, float]] = {}  # op_id -> (op, sent at)
        self.sent_total = 0

    def pump(self, now: float, online: bool) -> int:
        """Resend overdue ops and fill the window; returns how many were published."""
        if not online:
            return 0
        sent = 0
        overdue = [op for op, at in self.inflight.values() if now - at >= self.retry_s]
        for op in sorted(overdue, key=lambda o: o.kiosk_seq):
            if (done := self._send(op, now)) is None:
                return sent
            log.info("resending op %s (seq %d): no ack in %.1fs", op.op_id, op.kiosk_seq,
                     self.retry_s)
            sent += done
        room = self.window - len(self.inflight)
        if room > 0:
            last = max((op.kiosk_seq for op, _ in self.inflight.values()), default=0)
            for op in self.outbox.pending(limit=room, after_seq=last):
                if (done := self._send(op, now)) is None:
                    break
                sent += done
        self.sent_total += sent
        return sent

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
