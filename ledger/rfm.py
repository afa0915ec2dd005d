"""RFM: each member with a paid basket scored 1-5 on recency, frequency and monetary value, as
quintiles over all such members, and named by the rule in docs/segments.md.

Scores are relative (a member's quintile depends on everyone else), so they are computed for
everyone at once by `ledger segments refresh` and kept in ``rfm_scores``; nothing here writes.
One aggregate query over ``baskets`` (the same SQL on SQLite and PostgreSQL); the quintiles are
ranked here, where ties are easy to treat alike.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import groupby

from ledger.store import LedgerStore


@dataclass(frozen=True)
class Score:
    member_id: str
    last_at: str  # the member's last paid basket (ISO)
    baskets: int
    amount_minor: int
    r: int
    f: int
    m: int
    segment: str


def quintile(value, ordered: list) -> int:
    """1-5: where ``value`` falls among ``ordered`` (sorted, ascending; higher is better), by
    mid-rank: ties share one score, and when everyone ties everyone scores 3."""
    below = bisect_left(ordered, value)
    return _mid_rank(below, bisect_right(ordered, value) - below, len(ordered))


def quintiles(values: list) -> dict:
    """Each distinct value of ``values`` -> its ``quintile`` among them, in one pass over them
    sorted (a bisection per member took a second for 100,000 members)."""
    out, below = {}, 0
    for value, group in groupby(sorted(values)):
        equal = sum(1 for _ in group)
        out[value] = _mid_rank(below, equal, len(values))
        below += equal
    return out


def _mid_rank(below: int, equal: int, count: int) -> int:
    """The quintile of ``equal`` tied values above ``below`` others, of ``count`` in all."""
    return min(5, 1 + (5 * (2 * below + equal)) // (2 * count))


def segment_of(r: int, f: int, m: int) -> str:
    """The named segment of a score: the first rule that matches (docs/segments.md)."""
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 4:
        return "loyal"
    if r >= 4 and f == 1:
        return "new"
    if r >= 3:
        return "potential"
    if f >= 3:
        return "at-risk"
    if r == 2:
        return "hibernating"
    return "lost"


def scores(store: LedgerStore, since: str = "") -> list[Score]:
    """Every current member's RFM score over the baskets paid at or after ``since`` (ISO; ""
    for all of them). Forgotten members are left out: no offer or export may reach them."""
    rows = store.db.execute(
        "SELECT member_id, MAX(at), COUNT(*), SUM(total_minor) FROM baskets"
        " WHERE member_id IS NOT NULL AND at >= ? AND member_id NOT IN"
        " (SELECT member_id FROM member_profiles WHERE forgotten_at IS NOT NULL)"
        " GROUP BY member_id ORDER BY member_id",
        (since,),
    ).fetchall()
    lasts = quintiles([r[1] for r in rows])
    counts = quintiles([int(r[2]) for r in rows])
    amounts = quintiles([int(r[3]) for r in rows])
    out = []
    for member_id, last, count, amount in rows:
        r, f, m = lasts[last], counts[int(count)], amounts[int(amount)]
        out.append(Score(member_id, last, int(count), int(amount), r, f, m, segment_of(r, f, m)))
    return out
