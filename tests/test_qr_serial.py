"""The serial scanner path through a real pty pair: pyserial opens the slave, the test types."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import ReaderHealth, ReadFailed, TokenRead
from drivers.qr_serial import SerialQrReader
from tests.qr_support import Sink, app, card, section


@pytest.fixture
def pty_reader():
    master, slave = os.openpty()
    reader = SerialQrReader(section(driver="serial", device=os.ttyname(slave)))
    sink = Sink()
    reader.start(sink)
    assert sink.next(ReaderHealth) == ReaderHealth("qr-serial", True, "ready")
    yield reader, sink, master
    reader.stop()
    os.close(master)
    os.close(slave)


def test_a_scanned_line_becomes_a_verified_member_token(pty_reader):
    _, sink, master = pty_reader
    os.write(master, card("ada").encode() + b"\r\n")
    ev = sink.next()
    assert isinstance(ev, TokenRead)
    assert (ev.token.value, ev.token.kind, ev.token.verified, ev.token.reader) == \
        ("ada", "qr", True, "qr-serial")


def test_line_split_across_writes_and_app_code(pty_reader):
    _, sink, master = pty_reader
    text = app("bo").encode()
    os.write(master, text[:30])
    os.write(master, text[30:] + b"\n")
    assert sink.next().token.value == "bo"


@pytest.mark.parametrize("junk, screen", [
    (b"\x00\x01\x02\xff\xfe", "Not a member code"),
    (b"https://evil.example/x", "That is a web link"),
    (b"A" * 5000, "Not a member code"),
])
def test_junk_is_refused_and_the_reader_keeps_working(pty_reader, junk, screen):
    _, sink, master = pty_reader
    os.write(master, junk + b"\r")
    ev = sink.next()
    assert isinstance(ev, ReadFailed) and ev.reason == screen
    os.write(master, card("chen").encode() + b"\r")
    assert sink.next().token.value == "chen"


def test_missing_port_is_reported_not_raised():
    reader = SerialQrReader(section(driver="serial", device="/dev/does-not-exist"))
    sink = Sink()
    reader.start(sink)
    try:
        ev = sink.next(ReaderHealth)
        assert not ev.ok and "/dev/does-not-exist" in ev.detail
    finally:
        reader.stop()


def test_feed_caps_an_endless_line():
    reader = SerialQrReader(section(driver="serial"))
    assert reader.feed(b"x" * 100_000) == []
    (line,) = reader.feed(b"\n")
    assert 512 < len(line) < 600


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=700), max_size=8))
def test_any_byte_stream_splits_into_bounded_lines(chunks):
    reader = SerialQrReader(section(driver="serial"))
    lines = [line for c in chunks for line in reader.feed(c)]
    assert all(0 < len(line) <= 514 and b"\r" not in line and b"\n" not in line for line in lines)
    assert all(isinstance(reader.gate.check(line), (TokenRead, ReadFailed, type(None)))
               for line in lines)
