"""Reward available: the member can afford a reward; told about the dearest one they can have,
once per reward per redemption cycle, occasion ``<reward>:<redemptions so far>``."""

from __future__ import annotations

from ledger.automations.occasion import Context, Occasion
from ledger.automations.rewards import figures, holders, offered


def find(ctx: Context) -> list[Occasion]:
    out = []
    for state, redeemed in holders(ctx):
        affordable = [r for r in offered(ctx, state) if r.cost <= state.balance]
        if affordable:
            best = affordable[-1]
            out.append(Occasion("reward_available", state.member_id,
                                f"{best.reward_id}:{redeemed}", figures(state, best)))
    return out
