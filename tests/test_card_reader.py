"""The polling card-reader base (drivers.card_reader) with a tiny in-test backend.

The backend is not a mock of nfcpy or pyscard: it is a second implementation of
the base's one abstract method, ``poll``, over a ``Field`` the test puts cards
on. Taps, debounce, token policy, health and the thread are the real ones.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import ndef
import pytest

from drivers.base import CardDetected, CardRemoved, ReaderHealth, ReadFailed, TokenRead
from drivers.card_reader import UNREADABLE, CardGone, CardReader, CardUnreadable, ReaderDown
from drivers.card_token import REMOVED_TOO_SOON
from drivers.config_schema import READER
from drivers.sun import SunKeys, make_sun_url
from tests.reader_events import Events

TAP_EVENTS = (CardDetected, TokenRead, ReadFailed, CardRemoved)


@dataclass
class Card:
    uid: bytes
    ndef: bytes | None = None
    fails: Exception | None = None  # what reading its NDEF raises
    leaves_mid_read: bool = False  # pulled away while being read
    reads: int = 0


class Field:
    """What lies on the reader; the test changes it, the backend's ``poll`` looks at it."""

    def __init__(self) -> None:
        self.card: Card | None = None
        self.down = ""  # not empty: the reader is unusable, for this reason
        self.bug = False  # poll raises an unexpected error


class FieldReader(CardReader):
    retry_s = 0.05

    def __init__(self, field: Field, **section) -> None:
        super().__init__({"poll_ms": 20, "debounce_ms": 60_000, **section}, "field-reader")
        self.field = field
        self.closed = 0

    def poll(self) -> None:
        if self.field.down:
            raise ReaderDown(self.field.down)
        if self.field.bug:
            raise RuntimeError("a driver bug")
        self.ready("field reader")
        card = self.field.card
        if card is None:
            self.card_gone()
        else:
            self.card_seen(card.uid, lambda: self._fetch(card))

    def close(self) -> None:
        self.closed += 1

    def _fetch(self, card: Card) -> bytes | None:
        card.reads += 1
        if card.leaves_mid_read:
            self.field.card = None
            raise CardGone("card stopped answering")
        if card.fails is not None:
            raise card.fails
        return card.ndef


@pytest.fixture
def rig():
    made: list[FieldReader] = []

    def make(**section) -> tuple[Field, FieldReader, Events]:
        field, ev = Field(), Events()
        r = FieldReader(field, **section)
        r.start(ev)
        made.append(r)
        assert ev.wait(ReaderHealth).ok
        return field, r, ev

    yield make
    for r in made:
        r.stop()


def taps_in(events: list) -> list:
    return [e for e in events if isinstance(e, TAP_EVENTS)]


def uri_msg(uri: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.UriRecord(uri)]))


def test_card_held_is_one_tap_and_lifting_it_one_removal(rig):
    field, r, ev = rig()
    card = field.card = Card(bytes.fromhex("04a1b2c3"))
    assert ev.wait(CardDetected).reader == "field-reader"
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified, tok.reader) == ("uid", "04A1B2C3", False, r.name)
    assert taps_in(ev.drain(0.3)) == []  # some fifteen polls with the card held
    assert card.reads == 1
    field.card = None
    ev.wait(CardRemoved)
    assert taps_in(ev.drain(0.2)) == []


def test_ndef_card_number_is_the_token(rig):
    field, r, ev = rig()
    field.card = Card(bytes.fromhex("04112233445566"), uri_msg("https://l.example/c?c=MEMBER-0042"))
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value) == ("ndef", "MEMBER-0042")


def test_card_back_within_debounce_is_the_same_tap(rig):
    field, r, ev = rig(debounce_ms=60_000)
    uid = bytes.fromhex("04010203")
    field.card = Card(uid)
    ev.wait(TokenRead)
    field.card = None
    ev.wait(CardRemoved)
    field.card = Card(uid)  # wobbling at the edge of the field
    assert taps_in(ev.drain(0.3)) == []
    assert field.card.reads == 0


def test_card_back_after_debounce_is_a_new_tap(rig):
    field, r, ev = rig(debounce_ms=0)
    for _ in range(2):
        field.card = Card(bytes.fromhex("04010203"))
        assert ev.wait(TokenRead).token.value == "04010203"
        field.card = None
        ev.wait(CardRemoved)


def test_another_card_in_its_place_is_a_removal_then_a_new_tap(rig):
    field, r, ev = rig()
    field.card = Card(bytes.fromhex("04aaaaaa"))
    ev.wait(TokenRead)
    first = len(ev.seen)
    field.card = Card(bytes.fromhex("04bbbbbb"))  # swapped between two polls
    assert ev.wait(TokenRead).token.value == "04BBBBBB"
    assert [type(e) for e in ev.seen[first:]] == [CardRemoved, CardDetected, TokenRead]


def test_card_pulled_mid_read_fails_and_is_read_at_once_when_back(rig):
    field, r, ev = rig(debounce_ms=60_000)
    uid = bytes.fromhex("04112233445566")
    field.card = Card(uid, leaves_mid_read=True)
    ev.wait(CardDetected)
    assert ev.wait(ReadFailed).reason == REMOVED_TOO_SOON
    ev.wait(CardRemoved)
    assert not [e for e in ev.seen + ev.drain(0.2) if isinstance(e, TokenRead)]
    field.card = Card(uid)  # tried again at once: not taken for a bounce
    assert ev.wait(TokenRead).token.value == uid.hex().upper()


def test_refused_card_held_is_not_read_again_but_put_back_it_is(rig):
    field, r, ev = rig(accept_plain_uid=False, debounce_ms=60_000)
    card = field.card = Card(bytes.fromhex("04010203040506"))
    assert ev.wait(ReadFailed).reason == "card not accepted here [uid_not_accepted]"
    assert taps_in(ev.drain(0.3)) == []
    assert card.reads == 1
    field.card = None
    ev.wait(CardRemoved)
    field.card = Card(card.uid)
    assert ev.wait(ReadFailed).reason == "card not accepted here [uid_not_accepted]"


def test_unreadable_card_says_try_again(rig):
    field, r, ev = rig()
    field.card = Card(bytes.fromhex("04010203"), fails=CardUnreadable("NLEN 9000 past the file"))
    assert ev.wait(ReadFailed).reason == UNREADABLE
    assert not [e for e in ev.seen + ev.drain(0.2) if isinstance(e, TokenRead)]


def test_reader_down_is_reported_once_closed_and_retried_until_back(rig):
    field, r, ev = rig()
    field.card = Card(bytes.fromhex("04010203"))
    ev.wait(TokenRead)
    field.down = "reader unplugged"
    down = ev.wait(ReaderHealth)
    assert (down.ok, down.detail) == (False, "reader unplugged")
    ev.wait(CardRemoved)  # a card cannot be known to be there on a reader that is gone
    later = ev.drain(0.4)  # some eight retries at retry_s
    assert [e for e in later if isinstance(e, ReaderHealth)] == []
    assert r.closed >= 2
    field.down = ""
    back = ev.wait(ReaderHealth)
    assert (back.ok, back.detail) == (True, "field reader")
    field.card = Card(bytes.fromhex("04999999"))
    assert ev.wait(TokenRead).token.value == "04999999"


def test_a_driver_bug_is_logged_and_the_reader_goes_on(rig, caplog):
    field, r, ev = rig()
    with caplog.at_level(logging.ERROR, logger="drivers.card_reader"):
        field.bug = True
        ev.drain(0.1)
        field.bug = False
    assert "field-reader: reader loop error" in caplog.text
    field.card = Card(bytes.fromhex("04010203"))
    assert ev.wait(TokenRead).token.value == "04010203"


def test_stop_ends_the_thread_closes_the_backend_and_sends_nothing_more(rig):
    field, r, ev = rig()
    closed = r.closed
    r.stop()
    assert not [t for t in threading.enumerate() if t.name == "field-reader"]
    assert r.closed == closed + 1
    field.card = Card(bytes.fromhex("04010203"))
    assert ev.drain(0.2) == []


def test_stop_before_start_is_harmless():
    r = FieldReader(Field())
    r.stop()
    assert r.closed == 0


def test_a_section_built_by_hand_takes_the_schema_defaults():
    bare = CardReader({}, "bare")
    assert bare.poll_s == READER["poll_ms"].default / 1000
    assert bare.taps.debounce_s == READER["debounce_ms"].default / 1000
    assert bare.policy.accept_plain_uid is READER["accept_plain_uid"].default
    assert bare.policy.ndef.card_param == READER["ndef_card_param"].default


def test_sun_counters_of_a_section_built_by_hand_stay_in_memory(rig):
    # The schema's counter file is the Pi's /var/lib path: only a config file may name it.
    keys = SunKeys(b"\x01" * 16, b"\x02" * 16)
    url = make_sun_url("https://l.example/t", keys, bytes.fromhex("04DE5F1EACC040"), 3)
    section = {"sun_meta_key": "01" * 16, "sun_file_key": "02" * 16}
    for _ in range(2):  # a second reader does not know the first one's counter
        field, r, ev = rig(**section)
        field.card = Card(bytes.fromhex("04DE5F1EACC040"), uri_msg(url))
        tok = ev.wait(TokenRead).token
        assert (tok.kind, tok.verified) == ("sun", True)
        r.stop()
