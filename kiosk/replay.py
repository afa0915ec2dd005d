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
            if not self.send(op.message()):
                return sent
            log.info("resending op %s (seq %d): no ack in %.1fs", op.op_id, op.kiosk_seq,
                     self.retry_s)
            self.inflight[op.op_id] = (op, now)
            sent += 1
        room = self.window - len(self.inflight)
        if room > 0:
            last = max((op.kiosk_seq for op, _ in self.inflight.values()), default=0)
            for op in self.outbox.pending(limit=room, after_seq=last):
                if not self.send(op.message()):
                    break
                self.inflight[op.op_id] = (op, now)
                sent += 1
        self.sent_total += sent
        return sent

    def acked(self, op_ids: list[str]) -> None:
        for op_id in op_ids:
            self.inflight.pop(op_id, None)

    def link_down(self) -> None:
        """Everything in flight is resent after the next connect, in order."""
        self.inflight.clear()
