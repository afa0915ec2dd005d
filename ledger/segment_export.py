"""An audience export: a segment's members with the contact a campaign needs, filtered by the
consent that holds now for one channel (the newest consent row of that channel says given).

Forgotten members are in no segment, so they are never exported. Only the columns a campaign
uses leave the ledger: no notes, no birth date. The email tools' formats (ledger.audience_formats)
hold only members whose email consent holds, with a phone only where sms consent holds too.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from ledger import audience_formats, segment_book
from ledger.segments import consented
from ledger.store import LedgerStore

COLUMNS = ("member_id", "name", "email", "phone", "language", "tier", "balance")
TOOLS = audience_formats.TOOLS
FORMATS = ("csv", "jsonl", *TOOLS)


def rows(store: LedgerStore, segment_id: str, consent: str | None = None) -> list[dict]:
    """The segment's members (``consent``: only those whose consent for it holds), by id."""
    ids = segment_book.members(store, segment_id)
    out = []
    for chunk in (ids[n : n + 500] for n in range(0, len(ids), 500)):
        where, values = store.one_of("m.member_id", chunk)
        if consent is not None:
            where, values = f"{where} AND {consented('m.member_id')}", [*values, consent]
        out += store.db.execute(
            "SELECT m.member_id, m.name, p.email, p.phone, p.language, m.tier,"
            " (SELECT COALESCE(SUM(j.points), 0) FROM journal j WHERE j.member_id = m.member_id)"
            " FROM members m LEFT JOIN member_profiles p ON p.member_id = m.member_id"
            f" WHERE {where} ORDER BY m.member_id",
            values,
        ).fetchall()
    return [dict(zip(COLUMNS, (*r[:6], int(r[6])), strict=True)) for r in out]


def tool_rows(store: LedgerStore, segment_id: str) -> list[dict]:
    """The segment's members an email tool may have: email consent holding and an address;
    ``phone`` kept only with sms consent; ``tags``: their tier and the segment."""
    texting = {r["member_id"] for r in rows(store, segment_id, "sms")}
    return [{**r, "phone": r["phone"] if r["member_id"] in texting else None,
             "tags": [r["tier"], segment_id]}
            for r in rows(store, segment_id, "email") if r["email"]]


def audience(store: LedgerStore, segment_id: str, fmt: str, consent: str | None = None
             ) -> list[dict]:
    """The rows ``write`` takes for ``fmt``: an email tool's (email consent holding; no other
    ``consent`` goes with one) or csv / jsonl's (only ``consent``'s holders, when given), as
    `ledger segments export` and the back office write them."""
    if fmt in TOOLS:
        return tool_rows(store, segment_id)
    return rows(store, segment_id, consent)


def write(found: list[dict], fmt: str, out: TextIO) -> None:
    """``found`` as CSV (a header row first), JSON Lines (one object a line), or an email tool's
    import file (``found`` from tool_rows)."""
    if fmt in audience_formats.TOOLS:
        audience_formats.write(found, fmt, out)
        return
    if fmt == "jsonl":
        for row in found:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
