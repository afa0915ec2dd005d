"""The segments a ledger knows and who is in them.

Seven RFM segments (ledger.rfm), the rule segments of the active program file (``[[segments]]``)
and those added by `ledger segments add` (table ``segment_defs``; a program file's segment of
the same id wins). Membership:

- RFM segments: as of the last `ledger segments refresh` (``segment_members``). Quintiles rank
  every member against everyone else, so they are computed for all at once, not per tap.
- Rule segments: computed when asked (for one member when an offer is priced, or for a list),
  so a member who qualified a minute ago gets their offer now. The refresh records them too,
  for sizes over time and for entering and leaving.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from ledger import events, rfm
from ledger import segments as rules
from ledger.store import LedgerError, LedgerStore, now_iso
from mqtt.timestamps import iso
from program.errors import ProgramError
from program.segments import RFM_SEGMENTS, SegmentDef, parse_segment, parse_segments


@dataclass(frozen=True)
class Changes:
    """What a refresh moved: (segment_id, member_id) pairs that entered and left."""

    at: str
    entered: list[tuple[str, str]]
    left: list[tuple[str, str]]
    sizes: dict[str, int]


def program_segments(store: LedgerStore) -> tuple[SegmentDef, ...]:
    row = store.db.execute("SELECT body FROM programs ORDER BY version DESC LIMIT 1").fetchone()
    return parse_segments(json.loads(row[0]).get("segments", [])) if row else ()


def definitions(store: LedgerStore) -> dict[str, tuple[SegmentDef, str]]:
    """Rule segment id -> (definition, where it comes from: "program" or "cli")."""
    found = {}
    for segment_id, body in store.db.execute(
        "SELECT segment_id, body FROM segment_defs ORDER BY segment_id"
    ).fetchall():
        found[segment_id] = (parse_segment(json.loads(body)), "cli")
    found.update({d.segment_id: (d, "program") for d in program_segments(store)})
    return found


def add(store: LedgerStore, body: dict) -> SegmentDef:
    """Keep a rule segment defined on the command line; ProgramError names a bad key."""
    definition = parse_segment(body)
    if definition.segment_id in {d.segment_id for d in program_segments(store)}:
        raise LedgerError(
            f"segment {definition.segment_id} is defined by the program file; change it there"
        )
    with store.transaction():
        store.db.execute("DELETE FROM segment_defs WHERE segment_id=?", (definition.segment_id,))
        store.db.execute(
            "INSERT INTO segment_defs VALUES (?,?,?)",
            (definition.segment_id, json.dumps(body, sort_keys=True), now_iso()),
        )
    return definition


def body_from_text(segment_id: str, rule_text: str, title: str | None = None) -> dict:
    """What `ledger segments add NAME --rule JSON [--title T]` keeps: the rule's JSON object
    with its id and name. ValueError says what is wrong with the text ("is not JSON: ...");
    the definition itself is checked by ``add`` (ProgramError naming the key)."""
    try:
        rule = json.loads(rule_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc}") from None
    if not isinstance(rule, dict):
        raise ValueError('must be a JSON object like {"all": [{"purchases": {"min": 3}}]}')
    return {**rule, "id": segment_id, **({"name": title} if title else {})}


def written(store: LedgerStore, segment_id: str) -> dict | None:
    """The rule segment as its author wrote it (the program file's table, or what `add`
    kept), to show and to edit; None for an RFM or unknown segment."""
    row = store.db.execute("SELECT body FROM programs ORDER BY version DESC LIMIT 1").fetchone()
    for item in json.loads(row[0]).get("segments", []) if row else []:
        if item.get("id") == segment_id:
            return item
    row = store.db.execute(
        "SELECT body FROM segment_defs WHERE segment_id=?", (segment_id,)
    ).fetchone()
    return json.loads(row[0]) if row else None


def remove(store: LedgerStore, segment_id: str) -> None:
    """Remove a segment added by `ledger segments add` (or the back office). No offer can be
    limited to one: a program's offers name RFM segments or the program's own [[segments]]."""
    with store.transaction():
        gone = store.db.execute("DELETE FROM segment_defs WHERE segment_id=?", (segment_id,))
        if not gone.rowcount:
            raise LedgerError(f"no segment {segment_id} added by `ledger segments add`")
        store.db.execute("DELETE FROM segment_members WHERE segment_id=?", (segment_id,))


def known(store: LedgerStore, segment_id: str) -> SegmentDef | None:
    """The rule segment's definition; None for an RFM segment; LedgerError for neither."""
    if segment_id in RFM_SEGMENTS:
        return None
    found = definitions(store).get(segment_id)
    if found is None:
        names = [*RFM_SEGMENTS, *definitions(store)]
        raise LedgerError(f"no segment {segment_id}; known: {', '.join(names)}")
    return found[0]


def members(store: LedgerStore, segment_id: str, now: dt.datetime | None = None) -> list[str]:
    """Member ids of the segment: RFM's as of the last refresh, a rule segment's now."""
    definition = known(store, segment_id)
    if definition is None:
        rows = store.db.execute(
            "SELECT member_id FROM segment_members WHERE segment_id=? ORDER BY member_id",
            (segment_id,),
        ).fetchall()
        return [r[0] for r in rows]
    return rules.members(store, definition.rule, now or dt.datetime.now(dt.UTC))


def member_segments(
    store: LedgerStore, member_id: str, wanted: set[str], now: dt.datetime | None = None
) -> set[str]:
    """Which of the ``wanted`` segments the member is in (the offers they may get)."""
    now = now or dt.datetime.now(dt.UTC)
    defs = definitions(store)
    found = {s for s in wanted & set(defs) if rules.members(store, defs[s][0].rule, now, member_id)}
    if wanted & set(RFM_SEGMENTS):
        rows = store.db.execute(
            "SELECT segment_id FROM segment_members WHERE member_id=?", (member_id,)
        ).fetchall()
        found |= {r[0] for r in rows if r[0] in wanted and r[0] in RFM_SEGMENTS}
    return found


def refresh(store: LedgerStore, now: dt.datetime | None = None) -> Changes:
    """Score everyone, recompute every segment (reads), then record the memberships, sizes and
    who entered and left in one short transaction."""
    now = now or dt.datetime.now(dt.UTC)
    at = iso(now.timestamp())
    try:
        defs = definitions(store)
    except ProgramError as exc:
        raise LedgerError(f"a stored segment is no longer valid: {exc}") from None
    # Scoring and the rule segments only read, and take seconds on a large ledger: they run
    # before the write transaction, which on SQLite holds every worker's sales back while open.
    scores = rfm.scores(store)
    now_in: dict[str, set[str]] = {s: set() for s in (*RFM_SEGMENTS, *defs)}
    for score in scores:
        now_in[score.segment].add(score.member_id)
    for segment_id, (definition, _) in defs.items():
        now_in[segment_id] = set(rules.members(store, definition.rule, now))
    with store.transaction():
        before: dict[str, set[str]] = {}
        for segment_id, member_id in store.db.execute(
            "SELECT segment_id, member_id FROM segment_members"
        ).fetchall():
            before.setdefault(segment_id, set()).add(member_id)
        _write(store, scores, now_in, before, at)
        entered = sorted((s, m) for s, ms in now_in.items() for m in ms - before.get(s, set()))
        left = sorted((s, m) for s, ms in before.items() for m in ms - now_in.get(s, set()))
        moved = [*(events.row("segment.entered", m, {"segment_id": s}, at) for s, m in entered),
                 *(events.row("segment.left", m, {"segment_id": s}, at) for s, m in left)]
        if moved:  # a first refresh moves everyone: one statement (COPY on PostgreSQL)
            store.insert_rows("events", events.COLUMNS, moved)
    return Changes(at, entered, left, {s: len(ms) for s, ms in now_in.items()})


def _write(
    store: LedgerStore,
    scores: list[rfm.Score],
    now_in: dict[str, set[str]],
    before: dict[str, set[str]],
    at: str,
) -> None:
    store.db.execute("DELETE FROM rfm_scores")
    if scores:
        store.insert_rows(
            "rfm_scores",
            ("member_id", "last_at", "baskets", "amount_minor", "r", "f", "m", "segment", "at"),
            [
                (s.member_id, s.last_at, s.baskets, s.amount_minor, s.r, s.f, s.m, s.segment, at)
                for s in scores
            ],
        )
    for segment_id in set(before) | set(now_in):
        old, new = before.get(segment_id, set()), now_in.get(segment_id, set())
        for member_id in sorted(old - new):
            store.db.execute(
                "DELETE FROM segment_members WHERE segment_id=? AND member_id=?",
                (segment_id, member_id),
            )
        if added := sorted(new - old):
            store.insert_rows(
                "segment_members",
                ("segment_id", "member_id", "since"),
                [(segment_id, m, at) for m in added],
            )
    # Two refreshes in one millisecond (the scheduled one and an owner's) share ``at``: the
    # later one's sizes stand, where the table's key would fail the whole refresh.
    store.db.execute("DELETE FROM segment_sizes WHERE at=?", (at,))
    store.insert_rows(
        "segment_sizes",
        ("segment_id", "at", "size"),
        [(s, at, len(ms)) for s, ms in sorted(now_in.items())],
    )


def sizes(store: LedgerStore, segment_id: str) -> list[tuple[str, int]]:
    """The segment's size at each refresh, oldest first."""
    rows = store.db.execute(
        "SELECT at, size FROM segment_sizes WHERE segment_id=? ORDER BY at", (segment_id,)
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def score(store: LedgerStore, member_id: str) -> rfm.Score | None:
    row = store.db.execute(
        "SELECT member_id, last_at, baskets, amount_minor, r, f, m, segment"
        " FROM rfm_scores WHERE member_id=?",
        (member_id,),
    ).fetchone()
    return rfm.Score(row[0], row[1], int(row[2]), int(row[3]), *row[4:]) if row else None
