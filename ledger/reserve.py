"""Answering a kiosk's reserve request (contract v1.1): hold one of a limited reward for the
member whose card the kiosk read, if the stock and the member's limit leave one, counting the
reservations other lanes hold; or give one back.

Runs inside the caller's transaction, with the reward's stock and the member locked, so two
PostgreSQL workers (or two lanes racing for the last one) cannot both be granted it.
"""

from __future__ import annotations

import logging
import time

from ledger import blocks, reservations
from ledger.apply import NO_KEYS, _asked, _over_limit
from ledger.memberstate import expiring, member_state
from ledger.policy import PolicyRefused
from ledger.proof import ProofRefused
from ledger.store import LedgerStore
from ledger.trust import Trust
from program.engine import Program

log = logging.getLogger(__name__)


def answer(
    store: LedgerStore,
    program: Program,
    request: dict,
    asker: tuple[str, str],
    trust: Trust = NO_KEYS,
    now: float | None = None,
    hold_s: float = reservations.HOLD_S,
) -> dict | None:
    """The reserve_reply body for ``request`` from kiosk ``asker``; None for a release (not
    answered)."""
    now = time.time() if now is None else now
    if request["action"] == "release":
        if "reservation_id" not in request:
            log.warning("release from %s/%s names no reservation_id: ignored", *asker)
        elif not reservations.release(store, request["reservation_id"], asker):
            log.info(
                "release from %s/%s: %s not held (lapsed or consumed)",
                *asker,
                request["reservation_id"],
            )
        return None
    reward_id = request["reward_id"]
    member_id, why = _holder(store, program, request, asker, trust, now)
    if why:
        log.info("reservation of %s for %s/%s refused: %s", reward_id, *asker, why)
        return {"v": 1, "reward_id": reward_id, "granted": False, "reason": why[:200]}
    reservation_id = reservations.add(
        store, reward_id, member_id, asker, request.get("basket_id"), now, hold_s
    )
    return {
        "v": 1,
        "reward_id": reward_id,
        "granted": True,
        "reservation_id": reservation_id,
        "expires_in_s": int(hold_s),
    }


def _holder(
    store: LedgerStore,
    program: Program,
    request: dict,
    asker: tuple[str, str],
    trust: Trust,
    now: float,
) -> tuple[str, str]:
    """(member_id, "") when the reward can be held for the card's member, else ("", why)."""
    try:
        member_id = _asked(store, program, request.get("token"), asker, trust)
    except (ProofRefused, PolicyRefused) as exc:
        return "", str(exc)
    if member_id is None:
        return "", "unknown_member: the card is not a member here"
    return member_id, _refusal(store, program, request["reward_id"], member_id, now)


def _refusal(
    store: LedgerStore, program: Program, reward_id: str, member_id: str, now: float
) -> str:
    """Why one of ``reward_id`` cannot be held for the member ("" when it can)."""
    reward = program.reward(reward_id)
    store.lock_member(member_id)
    if why := blocks.member_refusal(store, member_id):  # the sale would be refused too
        return why
    state = member_state(store, program, member_id)
    if reward is None or reward.reward_id not in {r.reward_id for r in program.rewards(state)}:
        return f"not_offered: {reward_id} is not offered to this member"
    balance = state.balance - expiring(store, program, member_id)
    if reward.cost > balance + program.overdraft_points:
        return f"not_affordable: {reward.reward_id} needs {reward.cost} points, balance {balance}"
    if reward.stock:
        store.lock_reward(reward.reward_id)
    reservations.purge(store, now)  # lazily, under the reward's lock
    used = reservations.counts(store, [reward.reward_id], member_id, now)
    if why := _over_limit(reward, *used.get(reward.reward_id, (0, 0))):
        return f"sold_out: {why}"
    return ""
