"""Reports read baskets by time and by member: a period's members come from the ``at`` index
alone (the member id rides in it), and a member's baskets in a window from ``(member_id, at)``
(promotion uplift, cohorts), not from every basket the member ever paid. The two replace the
single-column indexes of 0014 and 0018, so a sale still updates as many indexes as before
(docs/benchmarks.md, "Reports")."""

from yoyo import step

__depends__ = {"0028.baskets_seq"}

steps = [
    step("CREATE INDEX baskets_at_member ON baskets(at, member_id)",
         "DROP INDEX baskets_at_member"),
    step("DROP INDEX baskets_at", "CREATE INDEX baskets_at ON baskets(at)"),
    step("CREATE INDEX baskets_member_at ON baskets(member_id, at)",
         "DROP INDEX baskets_member_at"),
    step("DROP INDEX baskets_member", "CREATE INDEX baskets_member ON baskets(member_id)"),
]
