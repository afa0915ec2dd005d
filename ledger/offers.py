"""A member's personal offers: the program's segment-targeted promotions and rewards that
reach them (program.engine.in_segments over the segments in MemberState.facts), as the lookup
reply's ``offers`` list (contract v1.1) for the kiosk to show and to preview with."""

from __future__ import annotations

from program.engine import MemberState, Program, in_segments

MAX_OFFERS = 10


def personal_offers(program: Program, state: MemberState) -> list[dict]:
    """``{"offer_id", "kind": "promotion" | "reward", "name"}`` for each targeted offer the
    member may have now; an offer for everyone is not personal and is not listed."""
    found = [
        {"offer_id": p.promo_id, "kind": "promotion", "name": p.name[:64]}
        for p in program.promotions
        if p.segments and in_segments(p.segments, state)
    ]
    found += [
        {"offer_id": r.reward_id, "kind": "reward", "name": r.name[:64]}
        for r in program.rewards(state)
        if r.segments
    ]
    return found[:MAX_OFFERS]


def targeting(program: Program, segment_id: str) -> list[dict]:
    """The program's promotions and rewards limited to segments that include ``segment_id``:
    ``{"offer_id", "kind", "name", "segments"}``, promotions first (the segment's page)."""
    found = [{"offer_id": p.promo_id, "kind": "promotion", "name": p.name,
              "segments": p.segments} for p in program.promotions if segment_id in p.segments]
    return found + [{"offer_id": r.reward_id, "kind": "reward", "name": r.name,
                     "segments": r.segments}
                    for r in program.catalogue if segment_id in r.segments]
