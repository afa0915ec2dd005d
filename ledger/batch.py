"""Group commit, the fast way: a batch's plain sales priced in memory, written in three statements.

The service applies what queued up as one transaction. Per op, ``apply_in_savepoint`` costs
about ten statements (a round trip each on PostgreSQL); here a batch costs three reads (which
op_ids are done, who holds the cards, their balances and tiers) and three writes (journal, ops,
sales), whatever its size. Only plain sales take this way: a known card with no proof to check (a
UID the program accepts, an unsigned card number), nothing to redeem, a program that does not read
the member's history, in the program's currency, and under a kiosk policy a member of a store the
kiosk serves. Everything else (enrolment, redemption, rejection, refunds, tiers, caps per day)
goes through ``apply_in_savepoint`` in its place in the batch, after what is pending is written,
so the results are exactly those of applying the ops one by one (tests/test_ledger_batch.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from codes.tokens import token_key
from ledger import acks, events, facts, op_events
from ledger.apply import NO_KEYS, Origin, apply_in_savepoint
from ledger.policy import PolicyRefused
from ledger.sales import sale_row
from ledger.store import LedgerStore
from ledger.trust import Trust
from program.engine import Basket, MemberState, Program
from program.refunds import sale_of

log = logging.getLogger(__name__)


class _Pending:
    def __init__(self, store: LedgerStore) -> None:
        self.store, self.journal, self.ops, self.sales, self.events = store, [], [], [], []
        self.facts: list[facts.Fact] = []
        self.at = events.now_iso()  # the events' time (ids and sums only: ledger.op_events)

    def flush(self) -> None:
        self.store.write_many(self.journal, self.ops, self.sales, self.events)
        facts.write_many(self.store, self.facts)
        self.journal, self.ops, self.sales, self.facts, self.events = [], [], [], [], []
        self.at = events.now_iso()


def apply_batch(store: LedgerStore, program_for: Callable[[dict], Program],
                items: list[tuple[dict, Origin]], trust: Trust = NO_KEYS) -> list[dict | None]:
    """Apply ``items`` in order inside the caller's open transaction; one result per item
    (None: that op failed and was undone; it is not acked, so its kiosk sends it again)."""
    earlier = store.applied_many(list({op["op_id"] for op, _ in items}))
    keys = list({_key(op) for op, _ in items if op.get("token")})
    owners = store.members_of(keys)
    members = store.balances_and_tiers(list(set(owners.values())))
    # Under a policy, only a member of a store the op's kiosk serves goes the fast way.
    homes = store.home_stores(list(members)) if trust.policy.active and members else {}
    pending, done, results = _Pending(store), {}, []
    for op, origin in items:
        first = done.get(op["op_id"]) or earlier.get(op["op_id"])
        if first is not None:
            results.append(acks.repeated(first))
            continue
        if op["kind"] == "basket":
            result = _basket(pending, op, origin)
            done[op["op_id"]] = result
            results.append(result)
            continue
        program = program_for(op)
        member_id = _plain_member(op, program, owners, members)
        if member_id is not None and trust.policy.active and \
                not _serves(trust, origin, homes.get(member_id)):
            member_id = None
        if member_id is None:
            result = _careful(store, pending, program, op, origin, trust)
            if result is not None and result.get("member_id"):
                members.pop(result["member_id"], None)  # changed: read it again if needed
        else:
            result = _plain_sale(pending, program, op, origin, member_id, members)
        if result is not None:
            done[op["op_id"]] = result
        results.append(result)
    pending.flush()
    return results


def _key(op: dict) -> str:
    return token_key(op["token"]["kind"], op["token"]["value"])


def _serves(trust: Trust, origin: Origin, home: str | None) -> bool:
    try:
        return trust.policy.rules(origin[0], origin[1]).serves(home)
    except PolicyRefused:
        return False  # refused: let apply_op say so and remember it


def _plain_member(op: dict, program: Program, owners: dict, members: dict) -> str | None:
    """The member of a plain sale, or None when the op needs the careful way."""
    token = op.get("token")
    if op["kind"] != "sale" or op.get("redeem") or token is None:
        return None
    if program.needs_facts or not program.prices(op.get("currency", "")):
        return None  # facts to read, or a currency to refuse: apply_op does both
    if token["kind"] not in ("uid", "ndef") or token.get("proof"):
        return None  # a proof to check (or a qr code, a SUN message): apply_op checks it
    if token["kind"] == "uid" and not program.allow_unverified_uid:
        return None  # rejected: let apply_op say so and remember it (``verified`` is no proof)
    member_id = owners.get(_key(op))
    return member_id if member_id in members else None


def _basket(pending: _Pending, op: dict, origin: Origin) -> dict:
    """A paid basket with no member: only its fact (ledger.facts)."""
    pending.facts.append(facts.Fact.of(op, origin, None))
    result = acks.recorded(op["op_id"])
    pending.ops.append((op["op_id"], *origin, result))
    return result


def _plain_sale(pending: _Pending, program: Program, op: dict, origin: Origin, member_id: str,
                members: dict) -> dict:
    balance, tier = members[member_id]
    basket = Basket.from_message(op)
    quote = program.quote(basket, MemberState(member_id, balance, tier))
    earned = quote.earn
    if earned != op.get("earn", earned):
        log.info("op %s: kiosk previewed %s points, program gives %s", op["op_id"],
                 op.get("earn"), earned)
    if earned:
        pending.journal.append((member_id, "earn", earned, op["op_id"], op.get("basket_id"),
                                *origin, ""))
        pending.events.append(op_events.earned_row(op, origin, member_id, earned,
                                                   balance + earned, tier, pending.at))
    if op.get("basket_id"):
        pending.sales.append(sale_row(op["op_id"], origin[0], op["basket_id"], member_id,
                                      sale_of(program, basket, quote, ())))
        pending.facts.append(facts.Fact.of(op, origin, member_id))
    members[member_id] = (balance + earned, tier)
    result = acks.applied(op["op_id"], member_id, balance + earned, tier, earned, 0)
    pending.ops.append((op["op_id"], *origin, result))
    return result


def _careful(store: LedgerStore, pending: _Pending, program: Program, op: dict,
             origin: Origin, trust: Trust) -> dict | None:
    pending.flush()  # so the op sees the batch's earlier ops
    try:
        return apply_in_savepoint(store, program, op, origin, trust=trust)
    except Exception:  # noqa: BLE001 - one bad op must not sink the batch
        log.exception("op %s from %s/%s failed; not acked, the kiosk will resend",
                      op["op_id"], origin[0], origin[1])
        return None
