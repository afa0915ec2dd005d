"""ledger.events: an event exists exactly when its transaction committed, on both databases."""

import pytest

from ledger import events
from ledger.store import LedgerStore


def test_emitted_events_are_read_back_in_order(ledger_db):
    store = LedgerStore(ledger_db)
    with store.transaction() as db:
        first = events.emit(db, "member.created", "m-1", {"source": "kiosk"})
        events.emit(db, "points.earned", "m-1", {"points": 12, "op_id": "op-1"})
    got = events.since(store.db)
    assert [e.event_id for e in got][0] == first
    assert [(e.type, e.data) for e in got] == [
        ("member.created", {"source": "kiosk"}), ("points.earned", {"points": 12, "op_id": "op-1"})]
    assert [e.type for e in events.since(store.db, got[0].seq)] == ["points.earned"]
    assert [e.type for e in events.since(store.db, types=("member.created",))] == ["member.created"]


def test_a_rolled_back_change_leaves_no_event(ledger_db):
    store = LedgerStore(ledger_db)
    with pytest.raises(RuntimeError), store.transaction() as db:
        events.emit(db, "points.earned", "m-1", {"points": 5})
        raise RuntimeError("apply failed")
    assert events.since(store.db) == []


def test_an_unknown_type_is_refused_with_the_known_ones_named(ledger_db):
    store = LedgerStore(ledger_db)
    with pytest.raises(ValueError, match="points.earned"), store.transaction() as db:
        events.emit(db, "points.earnd", "m-1", {})
