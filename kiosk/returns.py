"""Returns at the counter: a POS refund or a post-void becomes one refund op in the outbox, and
the ledger's answer becomes a notice to the POS.

The op_id is derived from the request (uuid5 of the store and the refund id, or of the store and
the basket for a post-void), so the same refund sent twice, or by two lanes, is one op: the
outbox keeps it once while it waits, and the ledger answers a repeat as a duplicate. The op
carries no token: the ledger finds the member from the sale of the basket.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from kiosk.outbox import Outbox, OutboxFull
from kiosk.ports import Ports
from mqtt import messages

log = logging.getLogger(__name__)

NAMESPACE = uuid.UUID("6f0f3f1e-4b8e-5c51-9a57-0e1c2d7a9b10")  # never change: keys depend on it
Notify = Callable[[dict], bool]  # a notice body to the lane's POS (Publisher.notice)


def read_refund(payload: bytes | str) -> dict:
    """A refund message from the POS, checked against the contract; BadMessage says why not."""
    msg = messages.decode("refund", payload)
    skus = [line["sku"] for line in msg.get("lines", ())]
    if twice := sorted({s for s in skus if skus.count(s) > 1}):
        raise messages.BadMessage(f"refund: sku {twice[0]} listed twice; give it once with its qty")
    return msg


def refund_op_id(store: str, refund_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"refund/{store}/{refund_id}"))


def void_op_id(store: str, basket_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"void/{store}/{basket_id}"))


class Returns:
    """Builds and queues refund ops; tells the POS how each one ended."""

    def __init__(self, outbox: Outbox, store: str, lane: str, notify: Notify, ports: Ports) -> None:
        self.outbox, self.store, self.lane = outbox, store, lane
        self.notify, self.ports = notify, ports

    def refund(self, msg: dict, program_version: int) -> None:
        """Queue the refund a POS asked for (a validated refund message)."""
        op = self._op(
            refund_op_id(self.store, msg["refund_id"]),
            msg["basket_id"],
            program_version,
            refund_id=msg["refund_id"],
            **({"lines": msg["lines"]} if "lines" in msg else {}),
        )
        try:
            seq = self.outbox.add_once(op, msg["basket_id"])
        except OutboxFull as exc:
            log.error(
                "refund %s of basket %s NOT saved: %s", msg["refund_id"], msg["basket_id"], exc
            )
            self._notice(op, "return_refused", reason="kiosk queue full: send the refund again")
            return
        log.info(
            "refund %s of basket %s %s as op %s",
            msg["refund_id"],
            msg["basket_id"],
            "queued" if seq else "already queued",
            op["op_id"],
        )

    def post_void(self, basket: dict, program_version: int) -> None:
        """A void of a basket this kiosk settled as paid: refund it whole, once."""
        op = self._op(
            void_op_id(self.store, basket["basket_id"]), basket["basket_id"], program_version
        )
        try:
            seq = self.outbox.post_void(basket["basket_id"], op)
        except OutboxFull as exc:
            log.error("post-void of basket %s NOT saved: %s", basket["basket_id"], exc)
            self._notice(op, "return_refused", reason="kiosk queue full: void the basket again")
            return
        if seq is not None:
            log.info(
                "post-void of paid basket %s queued as op %s", basket["basket_id"], op["op_id"]
            )

    def acked(self, op: dict, ack: dict) -> None:
        """The ledger answered an op; for a refund op, tell the POS the outcome."""
        if op.get("kind") != "refund":
            return
        if ack["status"] == "rejected":
            self._notice(op, "return_refused", reason=ack.get("reason", "refused by the ledger"))
            return
        points = ack.get("returned", 0) - ack.get("taken_back", 0)
        extra = {"balance": ack["balance"]} if "balance" in ack else {}
        self._notice(op, "return_applied", reason=ack.get("reason", ""), points=points, **extra)

    def _op(self, op_id: str, basket_id: str, program_version: int, **more) -> dict:
        return {
            "v": 1,
            "op_id": op_id,
            "kind": "refund",
            "basket_id": basket_id,
            **more,
            "offline": not self.ports.online(),
            "created_at": self.ports.now_iso(),
            "clock_synced": self.ports.clock_synced(),
            "program_version": program_version,
        }

    def _notice(self, op: dict, kind: str, reason: str = "", **figures) -> None:
        body = {
            "v": 1,
            "basket_id": op["basket_id"],
            "kind": kind,
            **({"refund_id": op["refund_id"]} if "refund_id" in op else {}),
            **({"reason": reason[:200]} if reason else {}),
            **figures,
            "at": self.ports.now_iso(),
        }
        if not self.notify(body):
            log.warning("notice %s for basket %s not sent: broker unreachable", kind,
                        op["basket_id"])
