"""Nearing a reward (Square: 90 %): the member's balance is at least ``percent`` % of the
cheapest reward they cannot afford yet; occasion ``<reward>:<redemptions so far>``."""

from __future__ import annotations

from ledger.automations.occasion import Context, Occasion
from ledger.automations.rewards import figures, holders, offered


def find(ctx: Context) -> list[Occasion]:
    percent = ctx.settings.param("percent")
    out = []
    for state, redeemed in holders(ctx):
        target = next((r for r in offered(ctx, state) if r.cost > state.balance), None)
        if target is not None and state.balance * 100 >= target.cost * percent:
            out.append(Occasion("nearing_reward", state.member_id,
                                f"{target.reward_id}:{redeemed}", figures(state, target)))
    return out
