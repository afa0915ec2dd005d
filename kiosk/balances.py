"""The kiosk's balance projection: cached members, points queued but not acked, held rewards.

Every figure here is a preview: the ledger's answer (lookup reply or ack) replaces it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace

from kiosk.customer import Member
from program.engine import Basket, MemberState, Program


def projected_balance(last_balance: int, pending: int, held: int) -> int:
    """Last known balance + points queued but not acked - points held on this basket."""
    return last_balance + pending - held


def held_points(program: Program, held: Iterable[str]) -> int:
    """What the held rewards cost, as the current program prices them."""
    return sum(r.cost for r in map(program.reward, held) if r is not None)


def projected_earn(program: Program, basket: dict | None, member: Member | None,
                   at: str = "") -> int:
    """What ``basket`` would earn ``member`` (the ledger's last balance and tier), at ``at``."""
    if basket is None:
        return 0
    state = member.state() if member else MemberState()
    return program.quote(Basket.from_message(basket, at), state).earn


class Balances:
    """Per token key: the member last seen (LRU), pending points, points redeemed offline."""

    # Limits are passed on each call, not kept: they are read from the config when used.
    def __init__(self, pending: dict[str, int]) -> None:
        self.cache: OrderedDict[str, Member] = OrderedDict()
        self.pending = pending  # key -> points queued in the outbox, not yet acked
        self.offline_redeemed: dict[str, int] = {}

    def cached(self, key: str) -> Member | None:
        return self.cache.get(key)

    def remember(self, key: str, member: Member, cache_size: int) -> None:
        """The ledger's answer for ``key``; past ``cache_size`` (config lookup.cache_size) the
        least recently answered member goes."""
        self.cache[key] = replace(member)
        self.cache.move_to_end(key)
        while len(self.cache) > cache_size:
            self.cache.popitem(last=False)

    def forget(self, key: str) -> None:
        """The ledger refuses this card now (blocked): its cached member is not shown again."""
        self.cache.pop(key, None)

    def learn_from_ack(self, key: str, member_id: str, balance: int, tier: str | None) -> None:
        """An ack carries the member's balance after the op: the freshest figure there is."""
        cached = self.cache.get(key) or Member(name="Member")
        self.cache[key] = replace(cached, member_id=member_id, balance=balance,
                                  tier=cached.tier if tier is None else tier, known=True)

    def pending_for(self, key: str) -> int:
        return self.pending.get(key, 0)

    def queued(self, key: str, delta: int, redeemed_offline: int = 0) -> None:
        """An op for ``key`` is in the outbox: ``delta`` points, ``redeemed_offline`` of them
        spent while the ledger could not check them."""
        self.pending[key] = self.pending.get(key, 0) + delta
        if redeemed_offline:
            self.offline_redeemed[key] = self.offline_redeemed.get(key, 0) + redeemed_offline

    def acked(self, key: str, delta: int) -> None:
        """The ledger answered an op of ``delta`` points: its balance now includes them."""
        self.pending[key] = self.pending.get(key, 0) - delta

    def may_redeem_offline(self, key: str, held: int, cost: int, limit: int) -> bool:
        """Offline, a member may spend only ``limit`` here (config offline.max_redeem_points)."""
        return self.offline_redeemed.get(key, 0) + held + cost <= limit

    def projected(self, key: str, member: Member, held: int) -> int:
        return projected_balance(member.balance, self.pending_for(key), held)
