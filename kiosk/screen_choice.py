"""Which screen fits the moment: pure functions from what the session knows to a view model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from display import views as v
from kiosk.customer import Customer, Member, offers_enrolment
from kiosk.redemptions import offered
from program.engine import Program


def reward_choices(program: Program, member: Member, balance: int,
                   listed: Iterable[str] | None = None,
                   online: bool = True, held: Sequence[str] = ()) -> list[v.RewardChoice]:
    """The rewards offered this member (kiosk.redemptions.offered: ``listed`` are the ids of
    the ledger's lookup reply), each marked affordable from ``balance``."""
    state = member.state(balance)
    return [v.RewardChoice(r.reward_id, r.name, r.cost, r.cost <= balance)
            for r in offered(program, state, listed, online, held)]


def next_affordable(rewards: Sequence[v.RewardChoice], selected: int) -> int:
    """The next affordable reward after ``selected``, wrapping round; ``selected`` if none."""
    affordable = [i for i, r in enumerate(rewards) if r.affordable]
    if not affordable:
        return selected
    later = [i for i in affordable if i > selected]
    return later[0] if later else affordable[0]


def customer_view(c: Customer, balance: int, projected_earn: int, pending: int,
                  rewards: Sequence[v.RewardChoice]) -> v.View:
    """The member screen, or the offer to join for a card nobody knows."""
    if offers_enrolment(c) and not c.enrol:
        return v.EnrolOffer()
    return v.MemberRecognised(
        name=c.member.name, balance=balance, tier=c.member.tier, projected_earn=projected_earn,
        pending=pending, balance_is_cached=not c.answered, rewards=tuple(rewards),
        selected=c.selected, unverified=c.token.kind == "uid" and not c.token.verified,
        offers=tuple(c.member.offers.values()))


def technician_view(kiosk_id: str, address: str, link_state: str, queue_depth: int,
                    readers: Mapping[str, str]) -> v.Technician:
    """``link_state``: "online", "uplink offline" or "broker offline" (Ports.link_state)."""
    return v.Technician(kiosk_id, address, link_state, queue_depth,
                        tuple(f"{k}: {s}" for k, s in readers.items()))


@dataclass(frozen=True)
class Counter:
    """What the screen shows when nobody is being served depends on."""

    program_name: str
    online: bool
    queue_depth: int
    queue_warning: bool
    basket: dict | None = None
    projected_earn: int = 0


def idle_view(m: Counter) -> v.View:
    """A full queue first (staff must act), then the open basket, then offline, then idle."""
    if m.queue_warning:
        return v.Trouble("queue", f"{m.queue_depth} ops waiting")
    if m.basket is not None:
        return v.BasketTotal(m.basket["total_minor"], m.basket["currency"], m.projected_earn)
    if not m.online and m.queue_depth:
        return v.Offline(m.queue_depth)
    return v.Idle(m.program_name, offline=not m.online)
