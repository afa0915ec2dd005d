"""Member profiles, labels, staff notes and consent per channel (migration 0014); forgetting a
member and exporting what the ledger holds about them.

Consent is history: giving or withdrawing adds a row, and the newest row of a channel is what
holds. Forgetting erases the personal data and keeps every figure: the member row stays (under
its opaque id, named "forgotten") with its journal, baskets and refunds, so balances and reports
do not move; the cards are unbound, so a tap finds nobody. Values are checked by
ledger.profile_fields before they get here. Nothing here logs a personal value, only field names.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from ledger import audit, events, facts
from ledger.store import LedgerError, LedgerStore, now_iso

log = logging.getLogger(__name__)

FORGOTTEN = "forgotten"
CONTACT = ("email", "phone", "birth_date", "language")
ADDRESS_OF = {"email": "email", "sms": "phone", "phone": "phone"}  # the contact a channel uses


@dataclass(frozen=True)
class Consent:
    channel: str
    given: bool
    source: str  # kiosk, web or staff
    wording: str  # the version of the text the member was shown
    address: str | None  # the contact it was given for, at the time
    at: str


@dataclass(frozen=True)
class Profile:
    member_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    birth_date: str | None = None
    language: str | None = None
    labels: tuple[str, ...] = ()
    notes: tuple[dict, ...] = ()
    consents: tuple[Consent, ...] = ()  # the history, oldest first
    forgotten_at: str | None = None
    updated_at: str | None = None

    def consent(self, channel: str) -> Consent | None:
        """What holds for ``channel`` now: its newest row (None: never asked)."""
        rows = [c for c in self.consents if c.channel == channel]
        return rows[-1] if rows else None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["consent_now"] = {
            c: asdict(self.consent(c)) for c in {x.channel for x in self.consents}
        }
        return out


def profile(store: LedgerStore, member_id: str) -> Profile | None:
    member = store.member(member_id)
    if member is None:
        return None
    row = (
        store.db.execute(
            "SELECT email, phone, birth_date, language, forgotten_at, updated_at FROM member_profiles"
            " WHERE member_id=?",
            (member_id,),
        ).fetchone()
        or (None,) * 6
    )
    labels = store.db.execute(
        "SELECT label FROM member_labels WHERE member_id=? ORDER BY label", (member_id,)
    ).fetchall()
    notes = store.db.execute(
        "SELECT note, operator, at FROM member_notes WHERE member_id=? ORDER BY note_id",
        (member_id,),
    ).fetchall()
    return Profile(
        member_id,
        member.name,
        *row[:4],
        tuple(r[0] for r in labels),
        tuple({"note": n, "operator": o, "at": a} for n, o, a in notes),
        tuple(consents(store, member_id)),
        row[4],
        row[5],
    )


def consents(store: LedgerStore, member_id: str) -> list[Consent]:
    rows = store.db.execute(
        "SELECT channel, given, source, wording, address, at FROM consents"
        " WHERE member_id=? ORDER BY consent_id",
        (member_id,),
    ).fetchall()
    return [Consent(r[0], bool(r[1]), r[2], r[3], r[4], r[5]) for r in rows]


def _live(store: LedgerStore, member_id: str) -> Profile:
    found = profile(store, member_id)
    if found is None:
        raise LedgerError(f"no member {member_id}")
    if found.forgotten_at:
        raise LedgerError(f"member {member_id} was forgotten on {found.forgotten_at[:10]}")
    return found


def update(
    store: LedgerStore,
    member_id: str,
    fields: dict[str, str],
    labels: list[str] = (),
    unlabel: list[str] = (),
    note: str = "",
    operator: str = "",
    actor: str | None = None,
    via: str = "cli",
) -> Profile:
    """Set the given profile ``fields`` (name and CONTACT), add and remove labels, add a staff
    note, in one transaction; the profile as it is now."""
    with store.transaction():
        store.lock_member(member_id)
        _live(store, member_id)
        if "name" in fields:
            store.db.execute(
                "UPDATE members SET name=? WHERE member_id=?", (fields["name"], member_id)
            )
        contact = {k: v for k, v in fields.items() if k in CONTACT}
        if contact or "name" in fields:
            _upsert(store, member_id, contact)
        if "birth_date" in contact:  # birthday promotions read the month (migration 0005)
            store.db.execute(
                "UPDATE members SET birth_month=? WHERE member_id=?",
                (int(contact["birth_date"][5:7]), member_id),
            )
        for text in labels:
            store.db.execute(
                "INSERT INTO member_labels VALUES (?,?,?) ON CONFLICT DO NOTHING",
                (member_id, text, now_iso()),
            )
        for text in unlabel:
            store.db.execute(
                "DELETE FROM member_labels WHERE member_id=? AND label=?", (member_id, text)
            )
        if note:
            store.db.execute(
                "INSERT INTO member_notes(member_id, note, operator, at) VALUES (?,?,?,?)",
                (member_id, note, operator, now_iso()),
            )
        if actor is not None:  # which fields changed, never their values (personal data)
            detail = {"fields": sorted(fields), "labels": list(labels),
                      "unlabel": list(unlabel), "note": bool(note)}
            audit.record(store.db, actor, via, "member.update", member_id, detail)
        # Which fields changed, never their values: a receiver asks the ledger for those.
        events.emit(store.db, "member.updated", member_id,
                    {"fields": sorted(fields), "labels_added": len(labels),
                     "labels_removed": len(unlabel), "note": bool(note)})
    log.info(
        "member %s: profile updated (%s)",
        member_id,
        ", ".join(
            [*fields, *(["labels"] if labels or unlabel else []), *(["note"] if note else [])]
        )
        or "nothing",
    )
    return profile(store, member_id)


def _upsert(store: LedgerStore, member_id: str, contact: dict[str, str]) -> None:
    now = now_iso()
    store.db.execute(
        "INSERT INTO member_profiles(member_id, updated_at) VALUES (?,?)"
        " ON CONFLICT (member_id) DO NOTHING",
        (member_id, now),
    )
    sets = ", ".join(f"{k}=?" for k in contact)  # keys from CONTACT only
    store.db.execute(
        f"UPDATE member_profiles SET {sets + ', ' if sets else ''}updated_at=? WHERE member_id=?",
        (*contact.values(), now, member_id),
    )


def set_consent(
    store: LedgerStore, member_id: str, channel: str, given: bool, source: str, wording: str,
    actor: str | None = None, via: str = "cli",
) -> Consent:
    """Record that the member gave (or withdrew) consent for ``channel``: a new row."""
    with store.transaction():
        store.lock_member(member_id)
        now = _live(store, member_id)
        contact = ADDRESS_OF.get(channel)
        address = getattr(now, contact) if contact else None
        at = now_iso()
        store.db.execute(
            "INSERT INTO consents(member_id, channel, given, source, wording,"
            " address, at) VALUES (?,?,?,?,?,?,?)",
            (member_id, channel, int(given), source, wording, address, at),
        )
        if actor is not None:
            audit.record(store.db, actor, via, "consent." + ("give" if given else "withdraw"),
                         member_id, {"channel": channel, "source": source, "wording": wording})
        events.emit(store.db, "member.updated", member_id,
                    {"fields": [], "consent": {"channel": channel, "given": given,
                                               "source": source, "wording": wording}})
    log.info(
        "member %s: consent %s %s (%s, wording %s)",
        member_id,
        channel,
        "given" if given else "withdrawn",
        source,
        wording,
    )
    return Consent(channel, given, source, wording, address, at)


def forget(store: LedgerStore, member_id: str, actor: str | None = None,
           via: str = "cli") -> int:
    """Erase the member's personal data, keep their figures; the number of cards unbound."""
    with store.transaction():
        store.lock_member(member_id)
        _live(store, member_id)
        now = now_iso()
        store.db.execute(
            "UPDATE members SET name=?, birth_month=NULL WHERE member_id=?", (FORGOTTEN, member_id)
        )
        _upsert(store, member_id, {})
        store.db.execute(
            "UPDATE member_profiles SET email=NULL, phone=NULL, birth_date=NULL,"
            " language=NULL, forgotten_at=? WHERE member_id=?",
            (now, member_id),
        )
        store.db.execute("DELETE FROM member_labels WHERE member_id=?", (member_id,))
        store.db.execute("DELETE FROM member_notes WHERE member_id=?", (member_id,))
        store.db.execute("UPDATE consents SET address=NULL WHERE member_id=?", (member_id,))
        cards = store.db.execute("DELETE FROM tokens WHERE member_id=?", (member_id,)).rowcount
        store.db.execute("DELETE FROM blocked_cards WHERE member_id=?", (member_id,))
        if actor is not None:
            audit.record(store.db, actor, via, "member.forget", member_id, {"cards": cards})
        events.emit(store.db, "member.forgotten", member_id, {"cards_unbound": cards})
    log.info("member %s forgotten: personal data erased, %d cards unbound", member_id, cards)
    return cards


def export(store: LedgerStore, member_id: str) -> dict:
    """Everything the ledger holds about the member, as JSON-ready data (access, portability)."""
    found = profile(store, member_id)
    if found is None:
        raise LedgerError(f"no member {member_id}")
    member = store.member(member_id)
    baskets = facts.baskets(store, "", "~", member_id=member_id)  # every time: ISO < "~"
    block = store.db.execute("SELECT blocked_at, blocked_reason FROM members WHERE member_id=?",
                             (member_id,)).fetchone()
    blocked_cards = store.db.execute("SELECT token_key, blocked_at, reason FROM blocked_cards"
                                     " WHERE member_id=? ORDER BY blocked_at", (member_id,))
    return {
        "member": {"member_id": member_id, "tier": member.tier, "balance": member.balance,
                   "blocked_at": block[0], "blocked_reason": block[1]},
        "blocked_cards": [dict(zip(("card", "blocked_at", "reason"), r, strict=True))
                          for r in blocked_cards.fetchall()],
        "profile": found.as_dict(),
        "cards": store.cards(member_id),
        "journal": store.history(member_id),
        "baskets": [asdict(b) for b in baskets],
    }
