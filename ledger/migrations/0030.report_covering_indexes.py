"""Reports read a period's baskets by time with the member they name (the period's members, the
cohorts): ``(at, member_id)`` answers them from the index alone. It replaces ``baskets_at``
(0018), whose range reads it serves as well, so a sale still updates as many indexes as before.
A member's baskets in a window (promotion uplift) read 0029's ``(member_id, at, ...)``
(docs/benchmarks.md, "Reports")."""

from yoyo import step

__depends__ = {"0029.baskets_member_at"}

steps = [
    step("CREATE INDEX baskets_at_member ON baskets(at, member_id)",
         "DROP INDEX baskets_at_member"),
    step("DROP INDEX baskets_at", "CREATE INDEX baskets_at ON baskets(at)"),
]
