"""What the two reward automations share: members with points, the rewards each may have, and
the redemption cycle (a new one starts with every redemption, so a member who spends their
points and saves up again is told again)."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.automations.occasion import LIVE, Context
from ledger.memberstate import member_state
from program.engine import MemberState, Reward


def holders(ctx: Context) -> Iterator[tuple[MemberState, int]]:
    """Each live member with points: their state (with segments when rewards are targeted) and
    how many redemptions they made so far."""
    rows = ctx.store.db.execute(
        "SELECT m.member_id, m.tier, COALESCE(SUM(j.points), 0),"
        " COUNT(CASE WHEN j.kind = 'redeem' THEN 1 END)"
        f" FROM members m JOIN journal j ON j.member_id = m.member_id WHERE {LIVE}"
        " GROUP BY m.member_id, m.tier HAVING COALESCE(SUM(j.points), 0) > 0 ORDER BY m.member_id"
    ).fetchall()
    targeted = bool(ctx.program.targeted_segments())
    for member_id, tier, balance, redeemed in rows:
        if targeted:
            state = member_state(ctx.store, ctx.program, member_id, now=ctx.now)
        else:
            state = MemberState(member_id, int(balance), tier)
        yield state, int(redeemed)


def offered(ctx: Context, state: MemberState) -> list[Reward]:
    """The rewards the member may have, cheapest first."""
    return sorted(ctx.program.rewards(state), key=lambda r: (r.cost, r.reward_id))


def figures(state: MemberState, reward: Reward) -> dict:
    return {"balance": state.balance, "reward": reward.name, "reward_id": reward.reward_id,
            "cost": reward.cost, "points_needed": max(0, reward.cost - state.balance)}
