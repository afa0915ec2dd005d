"""A POS simulator speaking contract v1: publishes the lane's basket and applies redemptions.

It behaves as an integrator's POS should: every change of the basket is published retained with
a higher ``seq``; a redemption request from the kiosk changes the basket total by the discount
(cancelling gives it back) while the basket is open, and the basket carries the discounts it
applied in ``discounts`` (contract v1.1: only those are spent); the member the kiosk attached is
shown. ``ignore_redemptions=True`` plays a POS that misses or ignores redemption requests.
Used by `kiosk pos-sim`, the demo, the scenarios and the tests.
"""

from __future__ import annotations

import logging
import threading
import uuid

from mqtt import messages, topics
from mqtt.client import Incoming, MqttLink

log = logging.getLogger(__name__)


def parse_item(text: str) -> dict:
    """``sku:qty:unit_minor[:category]`` as typed on a command line or in a scenario."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(f"item {text!r} must be sku:qty:unit_minor[:category]")
    try:
        qty, unit = int(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"item {text!r}: qty and unit_minor must be whole numbers") from None
    item = {"sku": parts[0], "qty": qty, "unit_minor": unit}
    if len(parts) == 4:
        item["category"] = parts[3]
    messages.validate("basket", {"basket_id": "check", "seq": 0, "status": "open",
                                 "currency": "EUR", "total_minor": 0, "items": [item]})
    return item


class PosSimulator:
    def __init__(self, *, host: str, port: int, store: str, lane: str, currency: str = "EUR",
                 client_id: str | None = None, ignore_redemptions: bool = False) -> None:
        self.store, self.lane, self.currency = store, lane, currency
        self.ignore_redemptions = ignore_redemptions
        self.basket: dict | None = None
        self.discounts: dict[str, int] = {}  # reward_id -> minor units off
        self.member: dict | None = None  # last member message for this basket
        self.changed = threading.Condition()
        self._lock = threading.Lock()
        self.link = MqttLink(host=host, port=port, client_id=client_id or f"pos-{store}-{lane}",
                             clean_start=True, on_message=self._on_message)
        self.link.subscribe(topics.basket(store, lane), 1)
        self.link.subscribe(topics.member(store, lane), 1)
        self.link.subscribe(topics.redemption(store, lane), 1)

    def start(self, timeout: float = 10.0) -> PosSimulator:
        self.link.start()
        if not self.link.wait_connected(timeout):
            raise ConnectionError("POS simulator could not reach the broker")
        return self

    def stop(self) -> None:
        self.link.stop()

    # -- the cashier ------------------------------------------------------------------------
    def open(self, items: list[dict], basket_id: str | None = None) -> dict:
        with self._lock:
            self.discounts.clear()
            self.member = None
            self.basket = {"v": 1, "basket_id": basket_id or "b-" + uuid.uuid4().hex[:10],
                           "seq": 1, "status": "open", "currency": self.currency,
                           "total_minor": 0, "items": items}
            return self._publish()

    def total(self) -> dict:
        return self._move("total")

    def pay(self) -> dict:
        return self._move("paid")

    def void(self) -> dict:
        return self._move("void")

    def _move(self, status: str) -> dict:
        with self._lock:
            if self.basket is None or self.basket["status"] in ("paid", "void"):
                raise RuntimeError(f"no open basket to mark {status}: open one first")
            self.basket["status"] = status
            self.basket["seq"] += 1
            return self._publish()

    def _publish(self) -> dict:
        b = self.basket
        gross = sum(i["qty"] * i["unit_minor"] for i in b["items"])
        b["total_minor"] = max(0, gross - sum(self.discounts.values()))
        if self.discounts:  # the kiosk spends points only for the discounts listed here
            b["discounts"] = [{"reward_id": r, "discount_minor": m}
                              for r, m in self.discounts.items()]
        else:
            b.pop("discounts", None)
        payload = messages.encode("basket", b)
        if not self.link.publish(topics.basket(self.store, self.lane), payload, 1, retain=True):
            raise ConnectionError("POS simulator is offline: basket not published")
        return dict(b)

    # -- the kiosk's messages ---------------------------------------------------------------------
    def _on_message(self, msg: Incoming) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        if kind == "basket" and not msg.payload:
            return
        try:
            body = messages.decode(kind, msg.payload)
        except messages.BadMessage as exc:
            log.warning("POS: bad message on %s: %s", msg.topic, exc)
            return
        with self._lock:
            if kind == "basket":
                self._adopt(body)
            elif self.basket is None or body["basket_id"] != self.basket["basket_id"]:
                return
            elif kind == "member":
                self.member = body
            elif self.basket["status"] in ("open", "total"):
                self._redeem(body)
        with self.changed:
            self.changed.notify_all()

    def _adopt(self, basket: dict) -> None:
        """Carry on with the lane's retained basket (another `kiosk pos-sim` run left it)."""
        if self.basket is None:
            self.basket = basket

    def wait_for_basket(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.basket is not None, timeout)

    def _redeem(self, body: dict) -> None:
        if self.ignore_redemptions:
            log.info("POS: ignoring redemption of %s", body["reward_id"])
            return
        if body["action"] == "apply":
            self.discounts[body["reward_id"]] = body.get("discount_minor", 0)
        else:
            self.discounts.pop(body["reward_id"], None)
        self.basket["seq"] += 1
        self._publish()
        log.info("POS: reward %s %s on basket %s", body["reward_id"], body["action"],
                 self.basket["basket_id"])
