"""Rule segments as SQL: a parsed definition (program.segments) becomes one condition on a
member row ``m``. What a rule asks of a member's baskets (counts, sums, averages, the last
purchase, store shares) is written by ``Aggregates``: on PostgreSQL one pass over the baskets
grouped by member and joined as ``a``, on SQLite a correlated subquery per criterion (each the
faster on its database); what it asks of lines, labels, consents and the journal is a
correlated subquery on both.

Periods (``days``) and "days since the last purchase" are counted back from ``now``, in whole
days of 24 hours: a member whose last basket was paid exactly 30 days ago has
``last_purchase_days`` 30. A criterion about baskets a member never had is false (no last
purchase is not "30 days ago"; an average of no baskets is no amount); a count or a sum of
none is 0. Forgotten members are in no segment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.store import LedgerStore
from mqtt.timestamps import iso
from program.segments import Criterion, Group

LIVE = (
    "NOT EXISTS (SELECT 1 FROM member_profiles p WHERE p.member_id = m.member_id"
    " AND p.forgotten_at IS NOT NULL)"
)
Sql = tuple[str, list]  # a condition and its parameters


@dataclass(frozen=True)
class Part:
    """An aggregate over a member's baskets ``b``: ``fn(arg)``, ``values`` the parameters of
    ``arg``."""

    fn: str
    arg: str
    values: tuple = ()


class Aggregates:
    """The per-member figures over baskets a rule reads (aggregates over ``b``), written one of
    two ways, each the faster where it is used (issue 14, docs/benchmarks.md "Segments"):

    - ``joined`` (PostgreSQL): columns ``a.a0``, ``a.a1``... of one GROUP BY over the baskets,
      read in member order from the index ``baskets_member_at``: a correlated subquery costs
      PostgreSQL a subplan run per member and criterion.
    - otherwise (SQLite): a correlated subquery each, a probe of that index per member, which
      SQLite runs cheaply; its GROUP BY join is materialized and sorted again, twice as slow.
    """

    def __init__(self, joined: bool) -> None:
        self.joined = joined
        self.columns: list[Sql] = []

    def column(self, formula: str, parts: tuple[Part, ...], since: str | None) -> Sql:
        """SQL for ``formula`` of member ``m``: ``{0}``, ``{1}``... are the aggregates
        ``parts`` over their baskets paid at or after ``since`` (ISO; None: all of them), and
        the parameters it takes where it is written."""
        if not self.joined:
            sql, values = _formula(formula, parts)
            period, values = (" AND b.at >= ?", [*values, since]) if since else ("", values)
            return f"(SELECT {sql} FROM baskets b WHERE b.member_id = m.member_id{period})", values
        if since:  # one GROUP BY serves every period: each aggregate skips the older baskets
            parts = tuple(Part(p.fn, f"CASE WHEN b.at >= ? THEN {p.arg} END", (since, *p.values))
                          for p in parts)
        sql, values = _formula(formula, parts)
        if (sql, values) not in self.columns:  # two criteria asking the same share one column
            self.columns.append((sql, values))
        return f"a.a{self.columns.index((sql, values))}", []

    def join(self, member_id: str | None) -> Sql:
        """The LEFT JOIN of the columns (no baskets: NULLs), only ``member_id``'s if given."""
        if not self.columns:
            return "", []
        select = ", ".join(f"{expr} AS a{n}" for n, (expr, _) in enumerate(self.columns))
        values = [v for _, vs in self.columns for v in vs]
        which = " IS NOT NULL"  # a basket without a member is nobody's
        if member_id is not None:  # an offer priced at a tap reads one member's baskets
            which, values = " = ?", [*values, member_id]
        return (
            f" LEFT JOIN (SELECT b.member_id, {select} FROM baskets b WHERE b.member_id{which}"
            " GROUP BY b.member_id) a ON a.member_id = m.member_id",
            values,
        )


def _formula(formula: str, parts: tuple[Part, ...]) -> Sql:
    return formula.format(*(f"{p.fn}({p.arg})" for p in parts)), [v for p in parts for v in p.values]


def members(
    store: LedgerStore, rule: Group, now: dt.datetime, member_id: str | None = None
) -> list[str]:
    """The ids of the members ``rule`` holds for at ``now`` (only ``member_id``'s, if given)."""
    aggregates = Aggregates(joined=store.postgres)
    where, values = condition(rule, now, aggregates)
    join, joined = aggregates.join(member_id)
    if member_id is not None:
        where, values = f"m.member_id = ? AND ({where})", [member_id, *values]
    rows = store.db.execute(
        f"SELECT m.member_id FROM members m{join} WHERE {LIVE} AND ({where})"
        " ORDER BY m.member_id",
        [*joined, *values],
    ).fetchall()
    return [r[0] for r in rows]


def condition(
    rule: Group | Criterion, now: dt.datetime, aggregates: Aggregates
) -> tuple[str, list]:
    """``rule`` as a SQL condition on ``m`` (members) and ``a`` (the ``aggregates`` it adds)
    and its parameters."""
    if isinstance(rule, Group):
        parts = [condition(p, now, aggregates) for p in rule.parts]
        joiner = " AND " if rule.join == "all" else " OR "
        return joiner.join(f"({sql})" for sql, _ in parts), [v for _, vs in parts for v in vs]
    return CRITERIA[rule.kind](rule, now, aggregates)


def _ago(now: dt.datetime, days: int) -> str:
    return iso((now - dt.timedelta(days=days)).timestamp())


def _period(c: Criterion, now: dt.datetime) -> tuple[str, list]:
    return (" AND b.at >= ?", [_ago(now, c.days)]) if c.days else ("", [])


def _since(c: Criterion, now: dt.datetime) -> str | None:
    return _ago(now, c.days) if c.days else None


def _bounds(expr: str, values: list, c: Criterion) -> Sql:
    """``expr`` within the criterion's min and max; ``values`` are expr's own parameters,
    repeated since expr is written once per bound."""
    sql, out = [], []
    for op, bound in ((">=", c.low), ("<=", c.high)):
        if bound is not None:
            sql, out = [*sql, f"{expr} {op} ?"], [*out, *values, bound]
    return " AND ".join(sql), out


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join('?' * len(values))})"


# a count or a sum of no baskets is 0; an average of none stays NULL (the criterion is false)
PARTS = {"purchases": Part("COUNT", "1"), "amount": Part("SUM", "b.total_minor"),
         "average_amount": Part("AVG", "b.total_minor")}


def _aggregate(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    value, values = aggregates.column("{0}", (PARTS[c.kind],), _since(c, now))
    if c.kind != "average_amount":
        value = f"COALESCE({value}, 0)"
    return _bounds(value, values, c)


def _last_purchase(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    # days since >= N  <=>  last <= now - N days;  days since <= N  <=>  last > now - (N+1) days
    last, _ = aggregates.column("{0}", (Part("MAX", "b.at"),), None)
    sql, values = [], []
    if c.low is not None:
        sql, values = [f"{last} <= ?"], [_ago(now, c.low)]
    if c.high is not None:
        sql, values = [*sql, f"{last} > ?"], [*values, _ago(now, c.high + 1)]
    return " AND ".join(sql), values


def _balance(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    total = "(SELECT COALESCE(SUM(j.points), 0) FROM journal j WHERE j.member_id = m.member_id)"
    return _bounds(total, [], c)


def _store_share(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    # the period's baskets at those stores over all the period's; none: NULL (the test is false)
    here = Part("COUNT", f"CASE WHEN {_in('b.store', c.values)} THEN 1 END", c.values)
    share = "100.0 * {0} / NULLIF({1}, 0)"
    return _bounds(*aggregates.column(share, (here, Part("COUNT", "1")), _since(c, now)), c)


def _bought(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    period, values = _period(c, now)
    which = [_in("l.sku", c.values)] if c.values else []
    which += [_in("l.category", c.categories)] if c.categories else []
    return (
        "EXISTS (SELECT 1 FROM basket_lines l JOIN baskets b ON b.op_id = l.op_id"
        f" WHERE b.member_id = m.member_id AND ({' OR '.join(which)}){period})",
        [*c.values, *c.categories, *values],
    )


def _store(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    if not aggregates.joined:  # a probe stops at the first such basket
        return (f"EXISTS (SELECT 1 FROM baskets b WHERE b.member_id = m.member_id"
                f" AND {_in('b.store', c.values)})", list(c.values))
    there = Part("COUNT", f"CASE WHEN {_in('b.store', c.values)} THEN 1 END", c.values)
    sql, values = aggregates.column("{0}", (there,), None)
    return f"{sql} > 0", values


def _tier(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    return _in("m.tier", c.values), list(c.values)


def _label(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    return (
        "EXISTS (SELECT 1 FROM member_labels l WHERE l.member_id = m.member_id"
        f" AND {_in('l.label', c.values)})",
        list(c.values),
    )


def _consent(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
    return " OR ".join([consented("m.member_id")] * len(c.values)), list(c.values)


def consented(member: str) -> str:
    """SQL: the newest consent row of the channel (one ``?``) for ``member`` says given."""
    return (
        "(SELECT c.given FROM consents c WHERE c.member_id = "
        f"{member} AND c.channel = ? ORDER BY c.consent_id DESC LIMIT 1) = 1"
    )


def _birthday(c: Criterion, now: dt.datetime, aggregates: Aggregates) -> Sql:
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
