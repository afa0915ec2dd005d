"""What the customer sees after a sale is the ledger's word (property test).

Random rule programs (program.files bodies within the documented rule kinds), baskets, holds,
the discounts a POS confirms, members known or not: the session (tests/test_session.py's
Counter, fake clock, real outbox) asks the real ledger (ledger.apply on SQLite, in process) for
the lookup and the ack. After the ack every figure on the result screen is the ledger's; before
it, for a program the kiosk can fully preview (pricing reads no history), the preview is what
the ledger then reaches.
"""

import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from display import views as v
from drivers.base import ButtonPressed, Token, TokenRead
from kiosk import events as e
from ledger.apply import apply_op, lookup
from ledger.store import LedgerStore
from mqtt import messages
from program.files import check_body, program_from_body
from tests.test_session import Counter

MULT = st.sampled_from([0, 0.5, 1, 2])
REWARDS = st.lists(st.fixed_dictionaries(
    {"id": st.sampled_from(["coffee", "cake", "gold-10", "mug"]),
     "name": st.sampled_from(["Free coffee", "Cake"]), "cost": st.integers(1, 200),
     "kind": st.just("amount_off"), "amount_minor": st.integers(0, 400)},
    optional={"limit_per_member": st.integers(1, 2), "stock": st.integers(1, 3),
              "tiers": st.just(["member"])}),
    min_size=1, max_size=3, unique_by=lambda r: r["id"])
BODIES = st.fixed_dictionaries(
    {"version": st.just(1), "name": st.just("Prop"), "currency": st.just("EUR"),
     "unknown_token": st.sampled_from(["enrol", "reject"]),
     "earning": st.fixed_dictionaries({
         "points_per_unit": st.sampled_from([0.5, 1, 2]),
         "rounding": st.sampled_from(["down", "nearest", "up"]),
         "min_spend_minor": st.sampled_from([0, 300]),
         "max_points_per_basket": st.sampled_from([0, 40]),
         "categories": st.fixed_dictionaries({"drinks": MULT, "food": MULT})},
         optional={"first_visit_bonus": st.integers(1, 50),  # history: not previewable
                   "enrolment_bonus": st.integers(1, 50)}),
     "rewards": REWARDS},
    optional={"tiers": st.just([{"id": "silver", "name": "Silver", "min_points": 50,
                                 "multiplier": 1.5}])})
ITEMS = st.lists(st.tuples(st.sampled_from(["latte", "cake"]), st.integers(1, 3),
                           st.integers(0, 1500), st.sampled_from(["drinks", "food", ""])),
                 min_size=1, max_size=3)


class Shop:
    """A kiosk session and the ledger it talks to, for one example."""

    def __init__(self, workdir: Path, body: dict) -> None:
        self.program = program_from_body(check_body(body))
        self.ledger = LedgerStore(str(workdir / "ledger.db"))
        self.counter = Counter(workdir)
        self.counter.session = self.counter.new_session(self.program)

    def close(self) -> None:
        self.counter.outbox.close()
        self.ledger.close()

    def tap(self, card: str) -> None:
        c = self.counter
        c.handle(TokenRead(Token("uid", card, "sim", verified=True)))
        request = c.of_kind("lookup")[-1]
        reply = lookup(self.ledger, self.program, request.body)
        c.handle(e.LookupAnswered(request.correlation.decode(),
                                  messages.validate("lookup_reply", reply)))

    def basket(self, status: str, items, discounts=()) -> None:
        lines = [{"sku": s, "qty": q, "unit_minor": u, **({"category": k} if k else {})}
                 for s, q, u, k in items]
        gross = sum(i["qty"] * i["unit_minor"] for i in lines)
        msg = {"v": 1, "basket_id": "b-1", "seq": {"open": 1, "paid": 2}[status],
               "status": status, "currency": "EUR", "items": lines,
               "total_minor": max(0, gross - sum(m for _, m in discounts))}
        if discounts:
            msg["discounts"] = [{"reward_id": r, "discount_minor": m} for r, m in discounts]
        self.counter.handle(e.BasketUpdate(messages.validate("basket", msg)))

    def hold(self, presses: int) -> list[tuple[str, int]]:
        """Press next and select ``presses`` times; the (reward, discount) asked of the POS."""
        for _ in range(presses):
            self.counter.handle(ButtonPressed("next"))
            self.counter.handle(ButtonPressed("select"))
        return [(s.body["reward_id"], s.body["discount_minor"])
                for s in self.counter.of_kind("redemption") if s.body["action"] == "apply"]

    def ledger_apply(self) -> dict:
        (op,) = self.counter.queued()
        with self.ledger.transaction():
            ack = apply_op(self.ledger, self.program, op, ("store-1", "kiosk-1", 1))
        self.counter.ack(ack["op_id"], **{k: val for k, val in ack.items()
                                         if k not in ("v", "op_id")})
        return ack


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, ITEMS, st.sampled_from([True, True, True, False]), st.integers(0, 600),
       st.integers(0, 3), st.data())
def test_the_result_screen_is_the_ledgers_word(body, items, known, opening, presses, data):
    with tempfile.TemporaryDirectory() as tmp:
        shop = Shop(Path(tmp), body)
        try:
            check_sale(shop, items, known, opening, presses, data)
        finally:
            shop.close()


def check_sale(shop: Shop, items, known: bool, opening: int, presses: int, data) -> None:
    card = uuid.uuid4().hex[:14].upper()
    if known:
        who = shop.ledger.add_member("Ada", [card], opening_balance=opening)
    shop.basket("open", items)
    shop.tap(card)
    if not known:  # the customer joins: only a select does that (the defect 9)
        shop.counter.handle(ButtonPressed("select"))
    asked = shop.hold(presses if known else 0)
    confirmed = data.draw(st.lists(st.sampled_from(asked), unique=True) if asked else st.just([]))
    shop.basket("paid", items, confirmed)
    preview = shop.counter.screen
    assert isinstance(preview, v.PointsAdded) and not preview.confirmed
    ack = shop.ledger_apply()
    shown = shop.counter.screen
    if ack["status"] == "rejected":
        assert shown == v.NotApplied(ack["reason"])
        return
    balance = shop.ledger.balance(ack["member_id"])
    assert (shown.earned, shown.redeemed, shown.balance, shown.tier) == \
        (ack["earned"], ack["redeemed"], balance, ack["tier"]) and shown.confirmed
    event(f"redeemed {bool(ack['redeemed'])}, released {bool(shown.released)}")
    if known:
        # whatever the ledger's earn, the preview spent what it spent, and only once
        assert preview.redeemed == ack["redeemed"] and "reason" not in ack, ack
        assert preview.balance - preview.earned == balance - ack["earned"] == opening - \
            ack["redeemed"]
    if known and not shop.program.needs_facts:
        event(f"previewable, redeemed {bool(preview.redeemed)}")
        # the kiosk can price this program fully: its preview is what the ledger reached
        assert (preview.earned, preview.redeemed, preview.balance) == \
            (ack["earned"], ack["redeemed"], balance), (preview, ack)
        assert shop.ledger.balance(who) == balance
