"""A member's cards: register, replace (a lost card) and unregister, each as one transaction,
audited when a person (``actor``) makes the change.

Cards are named by the token keys codes.card_numbers makes (``ndef:MEMBER-0042`` for a card
number, ``card:04A1B2C3D4E5F6`` for a UID), the keys the kiosk's taps are looked up by.
Replacing a card blocks the old one: a later tap of it is refused and says so (ledger.blocks),
and it can never enrol someone new. Registering a blocked card again (found after all) lifts
the block.
"""

from __future__ import annotations

from ledger import audit
from ledger.store import LedgerError, LedgerStore, now_iso


def describe(key: str) -> str:
    """A key as a shop owner reads it: "card number MEMBER-0042", "UID 04A1B2C3D4E5F6"."""
    family, _, value = key.partition(":")
    return {"ndef": f"card number {value}", "card": f"UID {value}"}.get(family, key)


def add_card(store: LedgerStore, member_id: str, key: str, actor: str | None = None,
             via: str = "cli") -> bool:
    """Give the member this card; False if they had it already. LedgerError if another has it."""
    with store.transaction():
        store.lock_member(member_id)
        if store.member(member_id) is None:
            raise LedgerError(f"no member {member_id}")
        owner = store.member_of(key)
        if owner is not None and owner != member_id:
            raise LedgerError(f"{describe(key)} belongs to member {owner} already")
        store.bind_key(member_id, key)
        store.db.execute("DELETE FROM blocked_cards WHERE token_key=?", (key,))
        _audit(store, actor, via, "card.add", member_id, {"card": key})
    return owner is None


def remove_card(store: LedgerStore, key: str, actor: str | None = None,
                via: str = "cli") -> str:
    """Unregister the card; the member who held it. A tap of it is then an unknown card."""
    with store.transaction():
        owner = _holder(store, key)
        store.db.execute("DELETE FROM tokens WHERE token_key=?", (key,))
        _audit(store, actor, via, "card.remove", owner, {"card": key})
    return owner


def replace_card(store: LedgerStore, old_key: str, new_key: str, actor: str | None = None,
                 via: str = "cli", reason: str = "replaced") -> str:
    """Move the old card's member to the new card and block the old one; the member."""
    if old_key == new_key:
        raise LedgerError(f"the new card is the old card ({describe(old_key)})")
    with store.transaction():
        owner = _holder(store, old_key)
        store.lock_member(owner)
        holder = store.member_of(new_key)
        if holder is not None and holder != owner:
            raise LedgerError(f"{describe(new_key)} belongs to member {holder} already")
        store.db.execute("DELETE FROM tokens WHERE token_key=?", (old_key,))
        store.db.execute("INSERT INTO blocked_cards VALUES (?,?,?,?)",
                         (old_key, owner, now_iso(), reason))
        store.bind_key(owner, new_key)
        store.db.execute("DELETE FROM blocked_cards WHERE token_key=?", (new_key,))
        _audit(store, actor, via, "card.replace", owner,
               {"old_card": old_key, "new_card": new_key, "reason": reason})
    return owner


def card_list(store: LedgerStore, member_id: str | None = None) -> list[tuple[str, str, str]]:
    """(key, member_id, added_at) of every card, or of one member's, oldest first."""
    where, values = ("WHERE member_id=?", (member_id,)) if member_id else ("", ())
    rows = store.db.execute(
        f"SELECT token_key, member_id, added_at FROM tokens {where} ORDER BY added_at, token_key",
        values,
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def blocked_cards(store: LedgerStore, member_id: str) -> list[tuple[str, str, str]]:
    """(key, blocked_at, reason) of the member's blocked cards, oldest first."""
    rows = store.db.execute("SELECT token_key, blocked_at, reason FROM blocked_cards"
                            " WHERE member_id=? ORDER BY blocked_at", (member_id,)).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _audit(store: LedgerStore, actor: str | None, via: str, action: str, member_id: str,
           detail: dict) -> None:
    if actor is not None:
        audit.record(store.db, actor, via, action, member_id, detail)


def _holder(store: LedgerStore, key: str) -> str:
    owner = store.member_of(key)
    if owner is None:
        raise LedgerError(f"{describe(key)} is not registered to anyone")
    return owner
