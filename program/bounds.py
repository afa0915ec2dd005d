"""What a program could do at the contract's limits: it must price every basket a kiosk may
accept into an ack the ledger can send, and fit in one program message.

The rule (docs/program.md, "Limits"): the most a program can earn on one op, for the largest
basket ``mqtt.limits`` allows, must not pass ``limits.POINTS``. That most is

    ceil(AMOUNT_MINOR / minor_per_unit * points_per_unit
         * the largest SKU or category multiplier (at least 1)
         * the largest tier multiplier (at least 1)
         * every promotion multiplier above 1, multiplied together)
    + every promotion's bonus_points + first_visit_bonus
    + for each punch card, (ITEMS_PER_BASKET * ITEM_QTY // every + 1) * bonus_points

or, when smaller, max_points_per_basket or max_points_per_day (each caps every op).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

from mqtt import limits
from program.errors import ProgramError
from program.rules import RuleProgram

SIGNED_OVERHEAD = 256  # the program message's envelope: version, public key, signature


def max_earn(program: RuleProgram) -> int:
    """The most ``program`` can earn on one op at the contract's limits (see the rule above)."""
    rate = Fraction(limits.AMOUNT_MINOR, program.minor_per_unit) * program.points_per_unit
    rate *= max([Fraction(1), *(m for _, m in program.skus), *(m for _, m in program.categories)])
    rate *= max([Fraction(1), *(t.multiplier for t in program.tiers)])
    for promo in program.promotions:
        rate *= max(Fraction(1), promo.multiplier)
    most = math.ceil(rate) + sum(p.bonus_points for p in program.promotions)
    most += program.first_visit_bonus
    punches = limits.ITEMS_PER_BASKET * limits.ITEM_QTY
    most += sum((punches // card.every + 1) * card.bonus_points for card in program.punch_cards)
    caps = [c for c in (program.max_points_per_basket, program.max_points_per_day) if c]
    return min([most, *caps])


def check_limits(program: RuleProgram, body: dict) -> None:
    """ProgramError when the program could earn past ``limits.POINTS`` or is too big to send."""
    most = max_earn(program)
    if most > limits.POINTS:
        raise ProgramError(
            f"earning: the largest basket the contract allows ({limits.AMOUNT_MINOR} minor units,"
            f" {limits.ITEMS_PER_BASKET} lines of {limits.ITEM_QTY}) could earn {most} points, more"
            f" than an ack can carry ({limits.POINTS}); lower the rates or multipliers, or set"
            " earning.max_points_per_basket")
    size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size + SIGNED_OVERHEAD > limits.PAYLOAD_BYTES:
        raise ProgramError(f"the program is {size} bytes as JSON; signed, it must fit in one"
                           f" message of {limits.PAYLOAD_BYTES} bytes")
