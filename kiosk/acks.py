"""Acks from the ledger: acked ops leave the outbox together, refused ones are kept for reports.

The session hands every ack here and calls :meth:`Acks.commit` once per batch of events, so a
replay burst costs one transaction, not one per op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.balances import Balances
from kiosk.outbox import Outbox, PendingOp
from kiosk.replay import Replayer

log = logging.getLogger("kiosk.session")  # operators grep one logger for the sale path


class Acks:
    def __init__(self, outbox: Outbox, replayer: Replayer, balances: Balances,
                 on_ack: Callable[[dict, dict], None] = lambda op, ack: None) -> None:
        self.outbox = outbox
        self.on_ack = on_ack  # (op body, ack): e.g. a refund's notice to the POS
        self.replayer = replayer
        self.balances = balances
        self._batch: list[str] = []  # applied or duplicate, deleted at the next commit

    def receive(self, msg: dict) -> PendingOp | None:
        """One validated ack message: record it and update the member's figures. Returns the
        queued op it answers (None: a repeat, or an op no longer queued)."""
        op_id = msg["op_id"]
        if op_id in self._batch:
            return None  # a second ack for the same op in this batch
        entry = self.replayer.inflight.get(op_id)
        op = entry[0] if entry else self.outbox.get(op_id)
        if op is None:
            log.debug("ack for op %s that is no longer queued", op_id)
            return None
        if msg["status"] == "rejected":
            log.warning("ledger rejected op %s: %s", op_id, msg.get("reason", ""))
            self.outbox.reject(op_id, msg.get("reason", "rejected"))
            self.replayer.acked([op_id])
        else:
            if msg.get("reason"):
                log.warning("ledger applied op %s in part: %s", op_id, msg["reason"])
                self.outbox.note_refusal(op_id, msg["reason"])
            self._batch.append(op_id)
        self.on_ack(op.body, msg)
        self.balances.acked(op.member_key, op.points_delta)
        if "balance" in msg and "member_id" in msg:
            self.balances.learn_from_ack(op.member_key, msg["member_id"], msg["balance"],
                                         msg.get("tier"))
        return op

    def commit(self) -> None:
        """Delete the batch's acked ops in one transaction and free their in-flight slots."""
        if self._batch:
            acked, self._batch = self._batch, []
            self.outbox.ack(acked)
            self.replayer.acked(acked)
