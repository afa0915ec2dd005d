"""Applying one op: resolve who, price it with the program, write the journal, remember the
result under the op_id, all inside the caller's transaction.

A repeated op_id changes nothing and gets the first result back (status ``duplicate``, or
``rejected`` again for an op that was refused, so a kiosk whose ack was lost still learns it).
The ledger's own pricing is the one that counts; the kiosk's ``earn`` is only its preview, and
its token's ``verified`` only its opinion: the ledger checks the token's proof itself and bounds
what the kiosk may do by its policy (ledger.trust: proof keys and kiosk policy).
"""

from __future__ import annotations

import logging

from codes.tokens import token_key
from ledger import acks, blocks, facts, op_events, reservations
from ledger import db as dbm
from ledger.memberstate import count_promotions, expire_points, expiring, member_state, review_tier
from ledger.offers import personal_offers
from ledger.policy import KioskRules, PolicyRefused, over_cap, redeemed_today
from ledger.proof import Checked, ProofRefused
from ledger.refunds import RefundRefused, apply_refund
from ledger.sales import record_sale
from ledger.store import LedgerStore, new_member_id
from ledger.trust import Trust
from program.engine import Basket, MemberState, Program, Reward
from program.refunds import sale_of

log = logging.getLogger(__name__)

Origin = tuple[str, str, int]  # store, kiosk, kiosk_seq
NO_KEYS = Trust()  # no proof keys, no kiosk policy


class Rejected(Exception):
    """The op cannot be applied at all; the reason goes back in the ack."""


def apply_op(store: LedgerStore, program: Program, op: dict, origin: Origin,
             trust: Trust = NO_KEYS) -> dict:
    """Apply ``op`` (a validated op message) inside an open transaction; return the ack body."""
    earlier = store.applied(op["op_id"])
    if earlier is not None:
        return acks.repeated(earlier)
    try:
        if op["kind"] == "refund":
            result = apply_refund(store, program, op, origin)
        elif op["kind"] == "basket":
            result = facts.apply_basket(store, op, origin)
        else:
            result = _apply_new(store, program, op, origin, trust)
    except (ProofRefused, PolicyRefused) as exc:
        result = acks.rejected(op["op_id"], str(exc))
        log.warning("op %s from %s/%s refused: %s", op["op_id"], origin[0], origin[1], exc)
    except (Rejected, RefundRefused) as exc:
        result = acks.rejected(op["op_id"], str(exc))
        log.warning("op %s from %s/%s rejected: %s", op["op_id"], origin[0], origin[1], exc)
        if isinstance(exc, RefundRefused) and not exc.final:
            return result  # nothing written: the same op may be tried again later
        if facts.has_basket(op):  # refused points, but the basket was paid all the same
            facts.record(store, facts.Fact.of(op, origin, None))
    store.record_op(op["op_id"], origin, result)
    return result


def apply_in_savepoint(store: LedgerStore, program: Program, op: dict, origin: Origin,
                       attempts: int = 3, trust: Trust = NO_KEYS) -> dict:
    """``apply_op`` under a savepoint of the open transaction, so a failing op undoes only
    itself; a clash with another worker's transaction (db.retryable) is tried again, and then
    finds the other worker's result. Other errors propagate, with the op undone."""
    for attempt in range(attempts):
        store.db.execute("SAVEPOINT op")
        try:
            result = apply_op(store, program, op, origin, trust)
            store.sync()  # a pipelined write's error belongs to this op
        except Exception as exc:
            store.db.execute("ROLLBACK TO op")
            store.db.execute("RELEASE op")
            if not (dbm.retryable(exc) and attempt + 1 < attempts):
                raise
            log.info("op %s clashed with another worker (%s); again", op["op_id"],
                     type(exc).__name__)
            continue
        store.db.execute("RELEASE op")
        return result
    raise AssertionError("unreachable")  # the loop returns or raises


def currency_refusal(program: Program, op: dict) -> str:
    """Why the program cannot price this sale's basket ("" when it can)."""
    if op["kind"] != "sale" or program.prices(op.get("currency", "")):
        return ""
    return (f"currency_mismatch: basket in {op.get('currency', '(none)')}, program"
            f" prices {program.currency}")


def _apply_new(store: LedgerStore, program: Program, op: dict, origin: Origin,
               trust: Trust) -> dict:
    if why := currency_refusal(program, op):
        raise Rejected(why)  # before enrolment: a refused basket makes no member
    rules = trust.policy.rules(origin[0], origin[1])
    member_id, created = _resolve(store, program, op, origin, trust, rules)
    store.lock_member(member_id)  # PostgreSQL: spend and report a balance no other worker moves
    if why := blocks.member_refusal(store, member_id, op):  # after the lock: a block commits first
        raise Rejected(why)
    expire_points(store, program, member_id)
    basket = Basket.from_message(op) if op["kind"] == "sale" else None
    state = member_state(store, program, member_id, basket=basket)
    earned, quote = 0, None
    if basket is not None:
        quote = program.quote(basket, state)
        earned = quote.earn
        count_promotions(store, program, member_id, basket, quote)
        if earned != op.get("earn", earned):
            log.info("op %s: kiosk previewed %s points, program gives %s", op["op_id"],
                     op.get("earn"), earned)
        for card in program.punch_cards:
            if card.punches(basket):
                store.add_punches(member_id, card.card_id, card.punches(basket))
    rewards, refused = _redeem(store, program, op, state, origin, rules)
    redeemed = sum(r.cost for r in rewards)
    if earned:
        store.journal(member_id, "earn", earned, op["op_id"], op.get("basket_id"), origin)
    if quote is not None and op.get("basket_id"):  # what a refund of it will need
        record_sale(store, op["op_id"], origin[0], op["basket_id"], member_id,
                    sale_of(program, basket, quote, rewards))
    if facts.has_basket(op):
        facts.record(store, facts.Fact.of(op, origin, member_id, rewards))
    tier = review_tier(store, program, state, earned)
    result = acks.applied(op["op_id"], member_id, state.balance + earned - redeemed, tier,
                          earned, redeemed, refused)
    op_events.sale(store.db, op, origin, result, created,
                   program.enrolment_bonus if created else 0, rewards)
    if created:
        log.info("op %s enrolled new member %s", op["op_id"], member_id)
    return result


def _resolve(store: LedgerStore, program: Program, op: dict, origin: Origin, trust: Trust,
             rules: KioskRules) -> tuple[str, bool]:
    """The member the op is for; an unknown card is enrolled only when the customer chose to
    join (the op's ``enrol``) and the program lets unknown cards join. Who it is comes from the token as the ledger checked it, never from the op's member_id."""
    if op.get("token") is None:
        raise ProofRefused("unverified_token", "an op must carry the card or code as read; a"
                           " member id alone is no proof")
    token = trust.token(store, op["token"], origin[:2], record=True)
    if token.kind in ("uid", "sun") and not token.verified and not program.allow_unverified_uid:
        raise Rejected("plain card UIDs are not accepted by this program")
    member_id = checked_member(store, token)
    if member_id is not None:
        _served(store, rules, member_id)
        if op.get("member_id") not in (None, member_id):
            log.info("op %s: kiosk named member %s, the card is %s's", op["op_id"],
                     op["member_id"], member_id)
        return member_id, False
    if block := blocks.card_block(store, token_key(token.kind, token.value)):
        if not blocks.made_before(op, block.blocked_at):
            raise Rejected(blocks.card_refusal(block))
        return store.merged_target(block.member_id), False  # tapped before it was replaced
    if token.kind == "qr":
        raise Rejected(f"unknown member {token.value}")  # a code names a member; none to enrol
    if program.unknown_token != "enrol":
        raise Rejected("unknown card")
    if not op.get("enrol"):  # joining is the customer's choice (select on the kiosk), never ours
        raise Rejected("not_joined: unknown card, and the customer did not choose to join")
    member_id = new_member_id()
    store.create_member(member_id, home_store=origin[0])
    store.bind_token(member_id, token.kind, token.value)
    store.journal(member_id, "enrol", 0, op["op_id"], op.get("basket_id"), reason="joined")
    if program.enrolment_bonus:
        store.journal(member_id, "bonus", program.enrolment_bonus, op["op_id"],
                      op.get("basket_id"), reason="enrolment bonus")
    return member_id, True


def _served(store: LedgerStore, rules: KioskRules, member_id: str) -> None:
    if rules.stores is not None and not rules.serves(store.home_stores([member_id]).get(member_id)):
        raise PolicyRefused("member_elsewhere: the member belongs to a store this kiosk does"
                            " not serve")


def checked_member(store: LedgerStore, token: Checked) -> str | None:
    """Who holds this card or code. A verified member QR code names the member itself."""
    member_id = store.member_of(token_key(token.kind, token.value))
    if member_id is None and token.kind == "qr" and token.verified:
        member_id = store.merged_target(token.value)  # a merged duplicate's code: the kept one
    return member_id


def token_member(store: LedgerStore, token: dict) -> str | None:
    """Who holds this card or code, for an operator's tool (`ledger lookup`): a qr token's value
    is taken as the member id when the operator says it is verified."""
    checked = Checked(token["kind"], token["value"], bool(token.get("verified")))
    return checked_member(store, checked)


def _redeem(store: LedgerStore, program: Program, op: dict, state: MemberState,
            origin: Origin, rules: KioskRules) -> tuple[list[Reward], list[str]]:
    """Redeem what the op asks for and the balance covers; the rest is recorded as refused.

    The POS has already given the discount, so a refusal is never silent: it is kept in the
    ``refusals`` table for reports and named in the ack.
    """
    redeemed, refused, rewards = 0, [], []
    member_id, balance = state.member_id, state.balance
    offered = {r.reward_id for r in program.rewards(state)}
    used = _redemptions(store, program, op, member_id)
    today = _kiosk_today(store, rules, op, origin)
    for item in op.get("redeem", []):
        reward = program.reward(item["reward_id"])
        if reward is None:
            why = f"unknown reward {item['reward_id']}"
        elif reward.reward_id not in offered:
            why = f"{reward.reward_id} is not offered to tier {state.tier}" if not \
                reward.segments else f"{reward.reward_id} is offered only to segments" \
                f" {', '.join(reward.segments)}"
        elif reward.cost > balance - redeemed + program.overdraft_points:
            why = f"{item['reward_id']} needs {reward.cost} points, balance {balance - redeemed}"
        elif (why := _over_limit(reward, *used.get(reward.reward_id, (0, 0)))):
            pass
        elif (why := over_cap(rules, redeemed + reward.cost, today)):
            why = f"{reward.reward_id} is {why}"
        else:
            store.journal(member_id, "redeem", -reward.cost, op["op_id"], op.get("basket_id"),
                          origin, reason=reward.reward_id)
            if item.get("reservation_id"):  # held for this sale: the journal counts it now
                reservations.consume(store, item["reservation_id"], member_id, reward.reward_id)
            redeemed += reward.cost
            rewards.append(reward)
            everyone, mine = used.get(reward.reward_id, (0, 0))
            used[reward.reward_id] = (everyone + 1, mine + 1)
            continue
        store.record_refusal(op["op_id"], member_id, item["reward_id"], why)
        refused.append(why)
        log.warning("op %s: redemption refused: %s", op["op_id"], why)
    return rewards, refused


def _kiosk_today(store: LedgerStore, rules: KioskRules, op: dict, origin: Origin) -> int:
    """Points the kiosk redeemed today, read only when its policy limits them per day."""
    if rules.redeem_per_day is None or not op.get("redeem"):
        return 0
    return redeemed_today(store, origin[:2])


def _redemptions(store: LedgerStore, program: Program, op: dict,
                 member_id: str) -> dict[str, tuple[int, int]]:
    """Redemptions so far and reservations other sales hold of the limited rewards this op
    asks for (stock locked first)."""
    limited = sorted({r.reward_id for r in map(program.reward, (i["reward_id"] for i in
                                                                op.get("redeem", [])))
                      if r is not None and (r.stock or r.limit_per_member)})
    for reward_id in limited:
        if program.reward(reward_id).stock:
            store.lock_reward(reward_id)
    carried = {i["reservation_id"] for i in op.get("redeem", []) if "reservation_id" in i}
    return reservations.counts(store, limited, member_id, exclude=carried)


def _over_limit(reward, everyone: int, mine: int) -> str:
    if reward.stock and everyone >= reward.stock:
        return f"{reward.reward_id} is out of stock ({reward.stock} redeemed)"
    if reward.limit_per_member and mine >= reward.limit_per_member:
        return f"{reward.reward_id} can be redeemed {reward.limit_per_member} times per member"
    return ""


def lookup(store: LedgerStore, program: Program, request: dict,
           asker: tuple[str, str] | None = None, trust: Trust = NO_KEYS) -> dict:
    """Answer a lookup: who holds this token, their name, tier, balance and rewards (nothing
    else). ``asker``: the (store, kiosk) whose topic it came on; None for an operator's tool.
    A kiosk gets an answer only for a token whose proof holds (a member id alone is none) and a
    member of a store it serves; otherwise "not found", with the reason if its proof failed."""
    not_found = {"v": 1, "found": False, "program_version": program.version}
    token = request.get("token")
    if asker is not None:
        try:
            member_id = _asked(store, program, token, asker, trust)
        except (ProofRefused, PolicyRefused) as exc:
            log.warning("lookup from %s/%s refused: %s", *asker, exc)
            return {**not_found, "reason": str(exc)[:200]}
    elif token is not None:
        member_id = token_member(store, token)
    else:
        member_id = store.merged_target(request.get("member_id") or "")
    if member_id is None and token is not None and \
            (block := blocks.card_block(store, token_key(token["kind"], token["value"]))):
        return {**not_found, "reason": blocks.card_refusal(block)}
    member = store.member(member_id) if member_id else None
    if member is None:
        return not_found
    if why := blocks.member_refusal(store, member.member_id):
        return {**not_found, "reason": why}
    state = member_state(store, program, member.member_id)
    balance = member.balance - expiring(store, program, member.member_id)  # as the next op sees
    offered = program.rewards(state)
    used = reservations.counts(store, [r.reward_id for r in offered
                                       if r.stock or r.limit_per_member], member.member_id)
    rewards = [{"reward_id": r.reward_id, "name": r.name[:64], "cost": r.cost,
                "discount_minor": r.discount_minor, "affordable": r.cost <= balance}
               for r in offered if not _over_limit(r, *used.get(r.reward_id, (0, 0)))][:50]
    reply = {"v": 1, "found": True,
             "member": {"id": member.member_id, "tier": member.tier[:32], "name": member.name[:64]},
             "balance": balance, "rewards": rewards, "program_version": program.version}
    if offers := personal_offers(program, state):  # contract v1.1: only when there are some
        reply["offers"] = offers
    return reply


def _asked(store: LedgerStore, program: Program, token: dict | None, asker: tuple[str, str],
           trust: Trust) -> str | None:
    """The member a kiosk's lookup may learn about, or None (not found, or not its store's)."""
    rules = trust.policy.rules(*asker)
    if token is None:
        raise ProofRefused("unverified_token", "a lookup by member id alone is refused; send the"
                           " card or signed code as read")
    checked = trust.token(store, token, asker, record=False)
    if checked.kind in ("uid", "sun") and not checked.verified and not program.allow_unverified_uid:
        raise ProofRefused("unverified_token", "plain card UIDs are not accepted by this program")
    member_id = checked_member(store, checked)
    if member_id is None or not rules.serves(store.home_stores([member_id]).get(member_id)):
        return None  # another store's member is not found here: it says nothing about them
    return member_id
