"""ledger.audit: a change and its audit entry commit or roll back together."""

import pytest

from ledger import audit
from ledger.store import LedgerStore


def test_entries_read_back_newest_first_and_by_target(ledger_db):
    store = LedgerStore(ledger_db)
    with store.transaction() as db:
        audit.record(db, "ana", "web", "points.adjust", "m-1", {"points": 50, "reason": "goodwill"})
        audit.record(db, audit.cli_actor(), "cli", "program.publish", None, {"version": 3})
    got = audit.entries(store.db)
    assert [(e.actor, e.action) for e in got][0] == (got[0].actor, "program.publish")
    assert got[0].actor.startswith("cli:")
    mine = audit.entries(store.db, target="m-1")
    assert [(e.actor, e.via, e.detail) for e in mine] == [
        ("ana", "web", {"points": 50, "reason": "goodwill"})]
    assert audit.entries(store.db, before=got[0].seq)[0].action == "points.adjust"


def test_a_rolled_back_change_is_not_in_the_log(ledger_db):
    store = LedgerStore(ledger_db)
    with pytest.raises(RuntimeError), store.transaction() as db:
        audit.record(db, "ana", "web", "member.block", "m-1")
        raise RuntimeError("the change failed")
    assert audit.entries(store.db) == []


def test_a_change_in_its_own_transaction_and_its_entry_share_the_callers(ledger_db):
    """profiles.update opens a transaction; inside the caller's it is a savepoint of it, so the
    change and the audit entry commit or roll back together."""
    from ledger import profiles

    store = LedgerStore(ledger_db)
    store.add_member("Ada", [], "ada")
    with pytest.raises(RuntimeError), store.transaction() as db:
        profiles.update(store, "ada", {"email": "ada@example.org"})
        audit.record(db, "member:ada", "web", "member.update", "ada", {"fields": ["email"]})
        raise RuntimeError("the request failed after the change")
    assert profiles.profile(store, "ada").email is None and audit.entries(store.db) == []
    with store.transaction() as db:
        profiles.update(store, "ada", {"email": "ada@example.org"})
        audit.record(db, "member:ada", "web", "member.update", "ada", {"fields": ["email"]})
    assert profiles.profile(store, "ada").email == "ada@example.org"
    assert [e.action for e in audit.entries(store.db)] == ["member.update"]


def test_a_failed_inner_change_is_undone_alone(ledger_db):
    store = LedgerStore(ledger_db)
    with store.transaction() as db:
        audit.record(db, "ana", "web", "kept", "m-1")
        with pytest.raises(RuntimeError), store.transaction() as inner:
            audit.record(inner, "ana", "web", "undone", "m-1")
            raise RuntimeError("inner change fails")
    assert [e.action for e in audit.entries(store.db)] == ["kept"]
