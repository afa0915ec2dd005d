"""Segments read a member's baskets by member, then time, for their date and amount: RFM scores
(ledger/rfm.py) and rule segments (ledger/segments.py) group every basket by member, an offer
priced at a tap reads one member's. With the date and amount in the index both are read from
the index alone, in member order, without touching the table (issue 14, docs/benchmarks.md
"Segments"). It replaces ``baskets_member`` (0014), whose lookups it serves as well, so the
sale path still updates the same number of indexes."""

from yoyo import step

__depends__ = {"0028.baskets_seq"}

steps = [
    step(
        "CREATE INDEX baskets_member_at ON baskets(member_id, at, total_minor)",
        "DROP INDEX baskets_member_at",
    ),
    step("DROP INDEX baskets_member", "CREATE INDEX baskets_member ON baskets(member_id)"),
]
