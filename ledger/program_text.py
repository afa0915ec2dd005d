"""A loaded program as a shop owner reads it back (`ledger program show`): every rule it holds.

One line per rule, in the order of docs/program.md. A rule left at its default that changes
nothing (no cap, no expiry) is left out; what applies to every op (cards accepted, rounding,
the grace period) is always said.
"""

from __future__ import annotations

from program.engine import Reward
from program.rules import Promotion, RuleProgram


def describe(p: RuleProgram, loaded_at: str, point_value_minor: float | None = None,
             automations: dict | None = None) -> list[str]:
    """The program ``p`` as lines of text; ``point_value_minor`` and ``automations`` from its
    body (the reports' and the ledger's: the engine never reads them)."""
    lines = [
        f"{p.name} (version {p.version}, loaded {loaded_at}, {p.currency}, {p.timezone})",
        _cards(p),
        _earning(p),
    ]
    lines += [
        f"  {what} {k}: x{float(v):g}"
        for what, rules in (("category", p.categories), ("sku", p.skus))
        for k, v in rules
    ]
    if p.expire_after_days:
        lines.append(
            f"points expire {p.expire_after_days} days after they are earned, oldest first"
        )
    if p.enrolment_bonus or p.first_visit_bonus:
        lines.append(f"bonuses: enrolment {p.enrolment_bonus}, first visit {p.first_visit_bonus}")
    if p.overdraft_points:
        lines.append(f"a redemption may take a balance down to -{p.overdraft_points} pts")
    if point_value_minor is not None:
        lines.append(f"a point is worth {point_value_minor:g} minor units (the reports' liability)")
    lines += _tiers(p)
    lines += [_reward(r) for r in p.catalogue]
    lines += [
        f"punch card {c.card_id} ({c.name}): every {c.every} of"
        f" {', '.join(c.skus + c.categories)}: +{c.bonus_points} pts"
        for c in p.punch_cards
    ]
    lines += [_promotion(pr) for pr in p.promotions]
    lines.append(f"ops priced with an older version are honoured for {p.grace_hours:g} h")
    if automations:
        lines.append(_automations(automations))
    return lines


def _automations(section: dict) -> str:
    from program.automations import parse_automations

    found = parse_automations(section)
    off = [n for n, a in found.items() if not a.enabled]
    changed = ", ".join(sorted(section))
    return (f"automations set in the file: {changed}; off: {', '.join(off) or 'none'}"
            " (`ledger automations list` shows the switches too)")


def _cards(p: RuleProgram) -> str:
    uid = "accepted (unverified)" if p.allow_unverified_uid else "refused"
    unknown = "join (enrol)" if p.unknown_token == "enrol" else "are refused"
    return f"cards: plain card UIDs {uid}; unknown cards {unknown}"


def _earning(p: RuleProgram) -> str:
    return (
        f"earning: {float(p.points_per_unit):g} pt per currency unit"
        f" ({p.minor_per_unit} minor units), rounded {p.rounding}"
        + (f", min spend {p.min_spend_minor}" if p.min_spend_minor else "")
        + (f", cap {p.max_points_per_basket}/basket" if p.max_points_per_basket else "")
        + (f", cap {p.max_points_per_day}/day" if p.max_points_per_day else "")
    )


def _tiers(p: RuleProgram) -> list[str]:
    lines = [
        f"tier {t.tier_id} ({t.name}): {t.min_points} pts in {p.tier_window_days} days,"
        f" x{float(t.multiplier):g}"
        for t in p.tiers
    ]
    if p.tiers and p.tier_hold_days:
        lines.append(f"a tier is kept at least {p.tier_hold_days} days after it is reached")
    if p.tiers and p.tier_review:
        lines.append(
            f"tiers are reviewed every year on {p.tier_review[0]:02d}-"
            f"{p.tier_review[1]:02d} ({p.timezone})"
        )
    if p.tiers and p.tier_grace_days:
        lines.append(
            f"a member below their tier at its review keeps it {p.tier_grace_days} days more"
        )
    return lines


def _reward(r: Reward) -> str:
    if r.percent:
        kind = f"{r.percent}% off"
    elif r.sku:
        kind = f"free {r.sku}" + (f" (else {r.discount_minor} off)" if r.discount_minor else "")
    else:
        kind = f"{r.discount_minor} off"
    limits = [
        f"tiers {', '.join(r.tiers)}" if r.tiers else "",
        f"stock {r.stock} in all" if r.stock else "",
        f"{r.limit_per_member} per member" if r.limit_per_member else "",
        f"segments {', '.join(r.segments)}" if r.segments else "",
    ]
    return f"reward {r.reward_id} ({r.name}): {r.cost} pts, {kind}" + "".join(
        f", {x}" for x in limits if x
    )


def _promotion(pr: Promotion) -> str:
    text = (
        f"promotion {pr.promo_id} ({pr.name}): x{float(pr.multiplier):g}"
        f" +{pr.bonus_points} pts, days {','.join(pr.days) or 'all'}"
    )
    conditions = [
        f"hours {pr.hours[0]:%H:%M}-{pr.hours[1]:%H:%M}" if pr.hours else "",
        f"{pr.start or '...'} to {pr.end or '...'}" if pr.start or pr.end else "",
        f"min spend {pr.min_spend_minor}" if pr.min_spend_minor else "",
        f"skus {', '.join(pr.skus)}" if pr.skus else "",
        f"categories {', '.join(pr.categories)}" if pr.categories else "",
        f"tiers {', '.join(pr.tiers)}" if pr.tiers else "",
        "in the member's birth month" if pr.birthday_month else "",
        f"at most {pr.limit_per_day} per member per day" if pr.limit_per_day else "",
        f"at most {pr.limit_ever} per member" if pr.limit_ever else "",
        f"segments {', '.join(pr.segments)}" if pr.segments else "",
    ]
    return text + "".join(f", {c}" for c in conditions if c)
