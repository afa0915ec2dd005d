"""Member search as staff type it, on a real SQLite file and a real PostgreSQL database (with
the trigram indexes of migration 0025): names in any case, emails, phones however written,
cards, ids; SQL-looking text is only text; pages are bounded."""

import pytest

from ledger import member_admin
from ledger.member_search import MAX_LIMIT, MAX_OFFSET, search
from ledger.profiles import update
from ledger.store import LedgerStore

WHO = ("web:sam", "web")


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    s.add_member("Ada Lovelace", ["04A1B2C3D4E5F6"], "ada", opening_balance=12)
    s.add_member("Grace Hopper", [], "grace", card_keys=["ndef:MEMBER-0042"])
    s.add_member("Adam Smith", [], "adam")
    s.add_member("100% Kaffee_Fan", [], "kaffee")
    update(s, "ada", {"email": "ada@example.org", "phone": "+49301234567"})
    update(s, "grace", {"email": "g.hopper@navy.example", "phone": "+15550100"})
    yield s
    s.close()


def ids(store, text, **kw):
    return [h.member_id for h in search(store, text, **kw).hits]


@pytest.mark.parametrize("text, expected", [
    ("lovelace", ["ada"]),            # part of a name
    ("LOVE", ["ada"]),                # any case
    ("ad", ["ada", "adam"]),          # two letters: a name prefix
    ("hopp", ["grace"]),
    ("ada@example", ["ada"]),         # part of an email
    ("navy.example", ["grace"]),
    ("030 1234-567", ["ada"]),        # the phone as a shop writes it: trunk zero, spaces
    ("+49 30 1234567", ["ada"]),
    ("MEMBER-0042", ["grace"]),       # a card number
    ("04a1b2c3d4e5f6", ["ada"]),      # a UID, any case
    ("adam", ["adam"]),               # an id (and a name)
    ("100%", ["kaffee"]),             # % and _ are letters here
    ("e_f", ["kaffee"]),
    ("nobody", []),
])
def test_search_finds_what_staff_type(store, text, expected):
    assert ids(store, text) == expected


def test_each_hit_carries_what_the_results_list_shows(store):
    hit = search(store, "lovelace").hits[0]
    assert (hit.name, hit.tier, hit.balance, hit.email, hit.phone, hit.blocked) == (
        "Ada Lovelace", "member", 12, "ada@example.org", "+49301234567", False)
    member_admin.block(store, "ada", "stolen", *WHO)
    assert search(store, "lovelace").hits[0].blocked


@pytest.mark.parametrize("text", ["' OR 1=1 --", "'; DROP TABLE members; --", '" OR ""="',
                                  "%", "_", "\\", "ada' --"])
def test_sql_looking_text_finds_nothing_and_breaks_nothing(store, text):
    assert ids(store, text) == []
    assert len(store.members()) == 4  # the table is all there


def test_an_empty_search_lists_everyone_a_page_at_a_time(store):
    first = search(store, "", limit=3)
    assert [h.name for h in first.hits] == ["100% Kaffee_Fan", "Ada Lovelace", "Adam Smith"]
    assert first.more
    second = search(store, "", offset=3, limit=3)
    assert [h.member_id for h in second.hits] == ["grace"] and not second.more


@pytest.mark.parametrize("kw, message", [
    ({"query": "x" * 101}, "at most 100"),
    ({"query": "a\x00b"}, "printable"),
    ({"query": "a", "offset": MAX_OFFSET + 1}, "offset"),
    ({"query": "a", "offset": -1}, "offset"),
    ({"query": "a", "limit": MAX_LIMIT + 1}, "limit"),
    ({"query": "a", "limit": 0}, "limit"),
])
def test_a_request_out_of_bounds_is_refused_with_its_reason(store, kw, message):
    with pytest.raises(ValueError, match=message):
        search(store, **kw)


def test_a_merged_duplicate_is_not_listed_and_its_id_finds_the_member_kept(store):
    member_admin.merge(store, "ada", "adam", "same person", *WHO)
    assert ids(store, "adam") == ["ada"]
    assert ids(store, "ad") == ["ada"]  # the tombstone is named "merged" and not listed anyway
