"""A seeded history for the report tests: members joining over half a year, visits at two
stores (three kiosks, three lanes), baskets with and without a member, redemptions, refunds
and points expiring, all applied through the real ledger path (ledger.apply.apply_op), on the
days they happened.

The clock is the one thing mocked (time-machine moves it to each op's moment: the past cannot
be run here); the ledger writes its journal and member times from it, as in production.

``History`` keeps the generator's own record of what happened (members, baskets, journal),
kept by the rules docs/program.md states (earn 1 point per EUR, double in the promotion's
days, expiry after EXPIRE_DAYS oldest first, tiers by points over the window), so a test can
compute every KPI from it in plain Python and compare; each ack is checked against it as the
history is applied.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

import time_machine

from ledger.apply import apply_op
from ledger.store import LedgerStore
from mqtt.timestamps import iso
from program.files import check_body, program_from_body

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAYS = 182  # to 2026-07-02
EXPIRE_DAYS = 60
COST = 40  # each reward
TIERS = (("silver", 150), ("gold", 400))
PROMO = ("spring-double", dt.date(2026, 5, 10), dt.date(2026, 5, 20))
KIOSKS = (("s1", "l1", "k1"), ("s1", "l2", "k2"), ("s2", "l1", "k3"))
PROGRAM = {
    "version": 1,
    "name": "Report test",
    "currency": "EUR",
    "timezone": "UTC",
    "point_value_minor": 0.5,
    "earning": {"points_per_unit": 1, "expire_after_days": EXPIRE_DAYS},
    "tiers": [{"id": t, "name": t.title(), "min_points": p, "multiplier": 1} for t, p in TIERS],
    "rewards": [
        {
            "id": "coffee",
            "name": "Free coffee",
            "cost": COST,
            "kind": "amount_off",
            "amount_minor": 250,
        },
        {
            "id": "cake",
            "name": "Free cake",
            "cost": COST,
            "kind": "amount_off",
            "amount_minor": 300,
        },
    ],
    "promotions": [
        {
            "id": PROMO[0],
            "name": "Double points",
            "multiplier": 2,
            "from": PROMO[1].isoformat(),
            "until": PROMO[2].isoformat(),
        }
    ],
}


@dataclass
class Member:
    member_id: str
    card: str
    created_at: str
    tier: str = "member"
    tier_since: str | None = None
    journal: list[tuple[str, int, str]] = field(default_factory=list)  # kind, points, at

    def balance(self) -> int:
        return sum(p for _, p, _ in self.journal)

    def window_points(self) -> int:  # the window (365 days) covers the whole history
        return sum(p for k, p, _ in self.journal if k in ("earn", "refund"))


@dataclass(frozen=True)
class Paid:
    store: str
    lane: str
    kiosk: str
    at: str
    member_id: str | None
    total_minor: int
    op_id: str
    basket_id: str


@dataclass
class History:
    members: dict[str, Member] = field(default_factory=dict)
    baskets: list[Paid] = field(default_factory=list)
    refundable: list[tuple[Paid, int]] = field(default_factory=list)  # sale, points earned


def tier_of(points: int) -> str:
    reached = [t for t, need in TIERS if points >= need]
    return reached[-1] if reached else "member"


def generate(ledger: LedgerStore, seed: int = 7) -> History:
    """Apply the seeded history to ``ledger`` (opened, empty) and return its own record."""
    rnd, history = random.Random(seed), History()
    program = program_from_body(check_body(PROGRAM))
    with time_machine.travel(START - dt.timedelta(days=1), tick=False) as clock:
        ledger.save_program(1, PROGRAM)
        for day in range(DAYS):
            if rnd.random() < 0.35:
                _join(ledger, history, clock, _moment(rnd, day), len(history.members))
            for _ in range(rnd.randint(3, 9)):
                _visit(ledger, program, history, clock, rnd, _moment(rnd, day))
    return history


def _moment(rnd: random.Random, day: int) -> dt.datetime:
    return START + dt.timedelta(days=day, seconds=rnd.randint(8 * 3600, 20 * 3600))


def _join(ledger, history: History, clock, at: dt.datetime, n: int) -> None:
    clock.move_to(at)
    card = f"04{n:012X}"
    member_id = ledger.add_member(f"Member {n}", [card], f"m-{n:04d}")
    history.members[member_id] = Member(member_id, card, iso(at.timestamp()))


def _visit(ledger, program, history: History, clock, rnd: random.Random, at: dt.datetime):
    clock.move_to(at)
    store, lane, kiosk = rnd.choice(KIOSKS)
    total = rnd.randint(1, 30) * 100  # whole euros: the points are exact, whatever the step
    when = iso(at.timestamp())
    member = (
        rnd.choice(list(history.members.values()))
        if history.members and rnd.random() < 0.7
        else None
    )
    if member is not None and history.refundable and rnd.random() < 0.08:
        _refund(ledger, program, history, rnd, when)
    op = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 1,
        "kind": "basket",
        "basket_id": f"b-{uuid.uuid4().hex[:10]}",
        "lane": lane,
        "currency": "EUR",
        "total_minor": total,
        "items": [],
        "created_at": when,
        "clock_synced": True,
        "program_version": 1,
    }
    if member is not None:
        _expire(member, at)
        redeem = (
            [rnd.choice(["coffee", "cake"])]
            if member.balance() >= COST and rnd.random() < 0.5
            else []
        )
        op.update(
            kind="sale",
            redeem=[{"reward_id": r, "points": COST} for r in redeem],
            token={"kind": "uid", "value": member.card, "verified": False},
        )
    result = _apply(ledger, program, op, (store, kiosk))
    paid = Paid(
        store, lane, kiosk, when, member and member.member_id, total, op["op_id"], op["basket_id"]
    )
    history.baskets.append(paid)
    if member is not None:
        _sold(history, member, paid, redeem, result)


def _sold(history: History, member: Member, paid: Paid, redeem: list[str], result: dict):
    promo = PROMO[1] <= dt.date.fromisoformat(paid.at[:10]) <= PROMO[2]
    earned = paid.total_minor // 100 * (2 if promo else 1)
    for reward_id in redeem:
        member.journal.append(("redeem:" + reward_id, -COST, paid.at))
    member.journal.append(("earn", earned, paid.at))
    if (result["earned"], result["redeemed"]) != (earned, COST * len(redeem)):
        raise AssertionError(f"the ledger priced {paid} as {result}, the history {earned}")
    reached = tier_of(member.window_points())
    if reached != member.tier:
        member.tier, member.tier_since = reached, paid.at
    if not redeem:  # a refund of it takes back exactly what it earned (no reward to return)
        history.refundable.append((paid, earned))


def _refund(ledger, program, history: History, rnd, when: str) -> None:
    sale, earned = history.refundable.pop(rnd.randrange(len(history.refundable)))
    member = history.members[sale.member_id]
    _expire(member, dt.datetime.fromisoformat(when))
    taken = min(earned, max(0, member.balance()))
    if tier_of(member.window_points() - taken) != member.tier:
        return  # no refund that would take a member below their tier (not modelled)
    op = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 1,
        "kind": "refund",
        "basket_id": sale.basket_id,
        "created_at": when,
        "program_version": 1,
    }
    _apply(ledger, program, op, (sale.store, sale.kiosk))  # at the store it was sold
    if taken:
        member.journal.append(("refund", -taken, when))


def _expire(member: Member, at: dt.datetime) -> None:
    """What the ledger expires before a member's op: points credited before the cutoff, less
    everything ever taken off (spending oldest first)."""
    cutoff = iso((at - dt.timedelta(days=EXPIRE_DAYS)).timestamp())
    old = sum(p for _, p, t in member.journal if p > 0 and t < cutoff)
    taken = -sum(p for _, p, _ in member.journal if p < 0)
    if old > taken:
        member.journal.append(("expire", taken - old, iso(at.timestamp())))


def _apply(ledger: LedgerStore, program, op: dict, origin: tuple[str, str]) -> dict:
    seq = ledger.op_count() + 1
    with ledger.transaction():
        result = apply_op(ledger, program, {**op, "kiosk_seq": seq}, (*origin, seq))
    if result["status"] not in ("applied", "recorded"):
        raise AssertionError(f"op {op['kind']} not applied: {result}")
    return result
