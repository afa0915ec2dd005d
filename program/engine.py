"""The program interface both sides call: the kiosk to preview, the ledger to decide.

Keep this module light (no database, no network): the kiosk imports it. The
full rule engine (tiers, promotions, caps...) implements the same ``Program``
protocol; ``DefaultProgram`` is the simple program a fresh ledger starts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Item:
    sku: str
    qty: int
    unit_minor: int
    category: str = ""


@dataclass(frozen=True)
class Basket:
    basket_id: str
    currency: str
    total_minor: int
    items: tuple[Item, ...] = ()
    at: str = ""  # ISO time the basket is priced at (an op's created_at); "" means now

    @classmethod
    def from_message(cls, msg: dict, at: str | None = None) -> Basket:
        items = tuple(Item(i["sku"], i["qty"], i["unit_minor"], i.get("category", ""))
                      for i in msg.get("items", ()))
        return cls(msg["basket_id"], msg["currency"], msg["total_minor"], items,
                   msg.get("created_at", "") if at is None else at)


@dataclass(frozen=True)
class Reward:
    reward_id: str
    name: str
    cost: int  # points
    discount_minor: int = 0  # amount off, in the basket's currency
    sku: str = ""  # free item, when the reward is one
    percent: int = 0  # percent off the basket, when the reward is one
    tiers: tuple[str, ...] = ()  # only members of these tiers may take it (empty: everyone)
    stock: int = 0  # redemptions in all, across members (0: no limit)
    limit_per_member: int = 0  # redemptions per member, ever (0: no limit)

    def discount_for(self, basket: Basket | None) -> int:
        """The discount in minor units this reward gives on ``basket``."""
        if basket is None:
            return self.discount_minor
        if self.percent:
            return basket.total_minor * self.percent // 100
        if self.sku:
            prices = [i.unit_minor for i in basket.items if i.sku == self.sku]
            return max(prices) if prices else self.discount_minor
        return self.discount_minor


@dataclass(frozen=True)
class MemberState:
    """What pricing may depend on; the engine can ask for more in later versions."""

    member_id: str = ""
    balance: int = 0
    tier: str = "member"
    # engine-specific facts the ledger computes from the journal: "visits" (sales so far),
    # "earned_today" (points earned today), "window_points" (points earned in the tier window)
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Quote:
    earn: int
    breakdown: tuple[tuple[str, int], ...] = ()  # (rule, points), for screens and reports


class Program(Protocol):
    version: int
    name: str
    currency: str
    allow_unverified_uid: bool
    unknown_token: str  # "enrol": create a member on apply; "reject"
    enrolment_bonus: int  # points a member gets when an op enrols them
    grace_hours: float  # ops priced with this version are honoured this long after the next

    def quote(self, basket: Basket, member: MemberState) -> Quote: ...

    def rewards(self, member: MemberState) -> list[Reward]: ...

    def reward(self, reward_id: str) -> Reward | None: ...

    def tier_for(self, member: MemberState) -> str: ...


@dataclass
class DefaultProgram:
    """One point per whole currency unit spent, one reward."""

    version: int = 1
    name: str = "Loyalty"
    currency: str = "EUR"
    allow_unverified_uid: bool = True
    unknown_token: str = "enrol"
    points_per_unit: int = 1
    catalogue: tuple[Reward, ...] = (Reward("coffee", "Free coffee", 100, 250),)
    enrolment_bonus: int = 0
    grace_hours: float = 0.0

    def quote(self, basket: Basket, member: MemberState) -> Quote:
        points = basket.total_minor // 100 * self.points_per_unit
        return Quote(points, (("base", points),))

    def rewards(self, member: MemberState) -> list[Reward]:
        return list(self.catalogue)

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.catalogue if r.reward_id == reward_id), None)

    def tier_for(self, member: MemberState) -> str:
        return member.tier  # no tiers: a member keeps the tier they were given
