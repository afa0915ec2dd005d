"""Rule segments as SQL: a parsed definition (program.segments) becomes one condition on a
member row ``m``, built from correlated subqueries that read the same on SQLite and PostgreSQL.

Periods (``days``) and "days since the last purchase" are counted back from ``now``, in whole
days of 24 hours: a member whose last basket was paid exactly 30 days ago has
``last_purchase_days`` 30. A criterion about baskets a member never had is false (no last
purchase is not "30 days ago"; an average of no baskets is no amount); a count or a sum of
none is 0. Forgotten members are in no segment.
"""

from __future__ import annotations

import datetime as dt

from ledger.store import LedgerStore
from mqtt.timestamps import iso
from program.segments import Criterion, Group

LIVE = (
    "NOT EXISTS (SELECT 1 FROM member_profiles p WHERE p.member_id = m.member_id"
    " AND p.forgotten_at IS NOT NULL)"
)
BASKETS = "FROM baskets b WHERE b.member_id = m.member_id"
AGGREGATE = {
    "purchases": "SELECT COUNT(*)",
    "amount": "SELECT COALESCE(SUM(b.total_minor), 0)",
    "average_amount": "SELECT AVG(b.total_minor)",
}


def members(
    store: LedgerStore, rule: Group, now: dt.datetime, member_id: str | None = None
) -> list[str]:
    """The ids of the members ``rule`` holds for at ``now`` (only ``member_id``'s, if given)."""
    where, values = condition(rule, now)
    if member_id is not None:
        where, values = f"m.member_id = ? AND ({where})", [member_id, *values]
    rows = store.db.execute(
        f"SELECT m.member_id FROM members m WHERE {LIVE} AND ({where}) ORDER BY m.member_id",
        values,
    ).fetchall()
    return [r[0] for r in rows]


def condition(rule: Group | Criterion, now: dt.datetime) -> tuple[str, list]:
    """``rule`` as a SQL condition on ``m`` (members) and its parameters."""
    if isinstance(rule, Group):
        parts = [condition(p, now) for p in rule.parts]
        joiner = " AND " if rule.join == "all" else " OR "
        return joiner.join(f"({sql})" for sql, _ in parts), [v for _, vs in parts for v in vs]
    return CRITERIA[rule.kind](rule, now)


def _ago(now: dt.datetime, days: int) -> str:
    return iso((now - dt.timedelta(days=days)).timestamp())


def _period(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return (" AND b.at >= ?", [_ago(now, c.days)]) if c.days else ("", [])


def _bounds(expr: str, c: Criterion, values: list) -> tuple[str, list]:
    """``expr`` within the criterion's min and max; ``values`` are expr's own parameters,
    repeated since expr is written once per bound."""
    sql, out = [], []
    for op, bound in ((">=", c.low), ("<=", c.high)):
        if bound is not None:
            sql, out = [*sql, f"{expr} {op} ?"], [*out, *values, bound]
    return " AND ".join(sql), out


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join('?' * len(values))})"


def _aggregate(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    period, values = _period(c, now)
    return _bounds(f"({AGGREGATE[c.kind]} {BASKETS}{period})", c, values)


def _last_purchase(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    # days since >= N  <=>  last <= now - N days;  days since <= N  <=>  last > now - (N+1) days
    last = f"(SELECT MAX(b.at) {BASKETS})"
    sql, values = [], []
    if c.low is not None:
        sql, values = [f"{last} <= ?"], [_ago(now, c.low)]
    if c.high is not None:
        sql, values = [*sql, f"{last} > ?"], [*values, _ago(now, c.high + 1)]
    return " AND ".join(sql), values


def _balance(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    total = "(SELECT COALESCE(SUM(j.points), 0) FROM journal j WHERE j.member_id = m.member_id)"
    return _bounds(total, c, [])


def _store_share(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    period, values = _period(c, now)
    share = (
        f"(SELECT 100.0 * COUNT(CASE WHEN {_in('b.store', c.values)} THEN 1 END)"
        f" / NULLIF(COUNT(*), 0) {BASKETS}{period})"
    )
    return _bounds(share, c, [*c.values, *values])


def _bought(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    period, values = _period(c, now)
    which = [_in("l.sku", c.values)] if c.values else []
    which += [_in("l.category", c.categories)] if c.categories else []
    return (
        "EXISTS (SELECT 1 FROM basket_lines l JOIN baskets b ON b.op_id = l.op_id"
        f" WHERE b.member_id = m.member_id AND ({' OR '.join(which)}){period})",
        [*c.values, *c.categories, *values],
    )


def _store(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return f"EXISTS (SELECT 1 {BASKETS} AND {_in('b.store', c.values)})", list(c.values)


def _tier(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return _in("m.tier", c.values), list(c.values)


def _label(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return (
        "EXISTS (SELECT 1 FROM member_labels l WHERE l.member_id = m.member_id"
        f" AND {_in('l.label', c.values)})",
        list(c.values),
    )


def _consent(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return " OR ".join([consented("m.member_id")] * len(c.values)), list(c.values)


def consented(member: str) -> str:
    """SQL: the newest consent row of the channel (one ``?``) for ``member`` says given."""
    return (
        "(SELECT c.given FROM consents c WHERE c.member_id = "
        f"{member} AND c.channel = ? ORDER BY c.consent_id DESC LIMIT 1) = 1"
    )


def _birthday(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return "m.birth_month = ?", [now.month if c.month == "current" else c.month]


CRITERIA = {
    "purchases": _aggregate,
    "amount": _aggregate,
    "average_amount": _aggregate,
    "last_purchase_days": _last_purchase,
    "balance": _balance,
    "store_share": _store_share,
    "bought": _bought,
    "store": _store,
    "tier": _tier,
    "label": _label,
    "consent": _consent,
    "birthday_month": _birthday,
}
