"""A cheap fingerprint of the ledger's data: it changes whenever a figure of a report could
(ledger.report), so built figures can be kept until it does (the back office's dashboard).

Each part is the high-water mark of an auto-numbered key, one index read each: journal entries
(every point earned, spent, expired, returned, adjusted), events (members created, updated,
merged, forgotten, tier changes, segment moves), baskets (with or without a member; migration
0028), program versions (currency, point value, promotions) and segment size records (each
`ledger segments refresh`). A write that touches none of them changes no report figure.
"""

from __future__ import annotations

from ledger.store import LedgerStore


def current(store: LedgerStore) -> tuple:
    """The fingerprint now: equal tuples mean the same report figures."""
    basket = "seq" if store.postgres else "rowid"
    return tuple(store.db.execute(
        "SELECT (SELECT MAX(entry_id) FROM journal), (SELECT MAX(seq) FROM events),"
        f" (SELECT MAX({basket}) FROM baskets), (SELECT MAX(version) FROM programs),"
        " (SELECT COUNT(*) FROM segment_sizes)"
    ).fetchone())
