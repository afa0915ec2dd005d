"""The PC/SC driver through a real pcscd, Debian's vpcd reader driver and our virtual cards."""

from __future__ import annotations

import os

import ndef
import pytest

from drivers.base import CardDetected, CardRemoved, ReaderHealth, ReadFailed, TokenRead
from drivers.sun import SunKeys, make_sun_url
from tests.pcsc_stack import READER, Pcscd, VirtualCard, can_run_pcscd, type2_memory
from tests.reader_events import Events

pytestmark = pytest.mark.skipif(can_run_pcscd() is not None, reason=str(can_run_pcscd()))
pytest.importorskip("smartcard")

KEY = bytes(range(16))


@pytest.fixture(scope="session")
def pcsc_root(tmp_path_factory):
    # libpcsclite reads the socket name once per process, so every test shares one path.
    root = tmp_path_factory.mktemp("pcscd")
    os.environ["PCSCLITE_CSOCK_NAME"] = str(root / "run" / "pcscd.comm")
    return root


@pytest.fixture
def pcscd(pcsc_root):
    d = Pcscd(pcsc_root)
    d.start()
    yield d
    d.stop()


@pytest.fixture
def reader(pcscd):
    from drivers.pcsc import PcscReader

    made = []

    def make(**cfg):
        section = {"path": "Kiosk Test", "poll_ms": 100, "debounce_ms": 800, **cfg}
        r = PcscReader(section)
        ev = Events()
        r.start(ev)
        made.append(r)
        assert ev.wait(ReaderHealth).ok
        return r, ev
    yield make
    for r in made:
        r.stop()


def uri_msg(uri: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.UriRecord(uri)]))


@pytest.mark.parametrize("uid", ["04A1B2C3", "04A1B2C3D4E5F6", "04A1B2C3D4E5F60718F9"])
def test_uid_card_read_and_removed(reader, pcscd, uid):
    r, ev = reader()
    card = VirtualCard(pcscd.port, bytes.fromhex(uid)).insert()
    assert ev.wait(CardDetected).reader == f"pcsc:{READER}"
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("uid", uid.upper(), False)
    card.remove()
    ev.wait(CardRemoved)


def test_type4_ndef_uri_card_number(reader, pcscd):
    r, ev = reader()
    # A long URI, so the message takes several READ BINARY commands of the CC's MLe.
    uri = "https://loyalty.example/members/card?c=MEMBER-0042&pad=" + "x" * 150
    card = VirtualCard(pcscd.port, bytes.fromhex("04112233445566"), ndef4=uri_msg(uri)).insert()
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value) == ("ndef", "MEMBER-0042")
    card.remove()
    assert any(a[:2] == b"\x00\xb0" for a in card.apdus[4:])  # read through the Type 4 files


def test_type2_ndef_text_via_page_reads(reader, pcscd):
    r, ev = reader()
    msg = b"".join(ndef.message_encoder([ndef.TextRecord("CARD-77")]))
    uid = bytes.fromhex("04AABBCCDDEEFF")
    card = VirtualCard(pcscd.port, uid, pages=type2_memory(msg, uid)).insert()
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value) == ("ndef", "CARD-77")
    card.remove()
    assert any(a[:2] == b"\xff\xb0" for a in card.apdus)


def test_sun_card_verified_then_replay_refused(reader, pcscd):
    keys = SunKeys(KEY, KEY)
    r, ev = reader(sun_meta_key=KEY.hex(), sun_file_key=KEY.hex(), debounce_ms=0)
    uid = bytes.fromhex("04DE5F1EACC040")
    msg = uri_msg(make_sun_url("https://l.example/t", keys, uid, 7))
    card = VirtualCard(pcscd.port, uid, ndef4=msg).insert()
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("sun", "04DE5F1EACC040", True)
    card.remove()
    ev.wait(CardRemoved)
    pcscd.wait_card(False)
    card = VirtualCard(pcscd.port, uid, ndef4=msg).insert()  # the same URL again: a replay
    assert ev.wait(ReadFailed).reason == "card not accepted, tap again [sun_replay]"
    card.remove()


def test_card_held_is_one_tap_and_bounce_ignored(reader, pcscd):
    r, ev = reader(debounce_ms=600_000)
    card = VirtualCard(pcscd.port, bytes.fromhex("04010203040506")).insert()
    ev.wait(TokenRead)
    assert not [e for e in ev.drain(1.0) if isinstance(e, TokenRead | CardDetected)]
    card.remove()
    ev.wait(CardRemoved)
    card = VirtualCard(pcscd.port, bytes.fromhex("04010203040506")).insert()
    pcscd.wait_card(True)
    assert not [e for e in ev.drain(1.0) if isinstance(e, TokenRead | CardDetected)]
    card.remove()
    pcscd.wait_card(False)
    other = VirtualCard(pcscd.port, bytes.fromhex("04999999999999")).insert()
    assert ev.wait(TokenRead).token.value == "04999999999999"
    other.remove()


def test_card_tapped_again_after_debounce_is_new_tap(reader, pcscd):
    r, ev = reader(debounce_ms=0)
    for _ in range(2):
        card = VirtualCard(pcscd.port, bytes.fromhex("04010203040506")).insert()
        ev.wait(TokenRead)
        card.remove()
        ev.wait(CardRemoved)


def test_card_pulled_mid_read_gives_read_failed_and_no_token(reader, pcscd):
    r, ev = reader()
    uri = "https://loyalty.example/c?c=MEMBER-0042"
    # Answers GET DATA and SELECT, then leaves the field.
    card = VirtualCard(pcscd.port, bytes.fromhex("04112233445566"), ndef4=uri_msg(uri),
                       vanish_after=2).insert()
    ev.wait(CardDetected)
    assert ev.wait(ReadFailed).reason == "card removed too soon, try again"
    assert not [e for e in ev.seen + ev.drain(0.5) if isinstance(e, TokenRead)]
    card.remove()
    pcscd.wait_card(False)
    card = VirtualCard(pcscd.port, bytes.fromhex("04112233445566"), ndef4=uri_msg(uri)).insert()
    assert ev.wait(TokenRead).token.value == "MEMBER-0042"  # tried again: read at once
    card.remove()


def test_plain_uid_refused_where_program_forbids(reader, pcscd):
    r, ev = reader(accept_plain_uid=False)
    card = VirtualCard(pcscd.port, bytes.fromhex("04010203040506")).insert()
    assert ev.wait(ReadFailed).reason == "card not accepted here [uid_not_accepted]"
    card.remove()


def test_pcscd_gone_and_back(reader, pcscd):
    r, ev = reader()
    pcscd.stop()
    down = ev.wait(ReaderHealth)
    assert not down.ok
    pcscd.start()
    assert ev.wait(ReaderHealth, timeout=30).ok
    card = VirtualCard(pcscd.port, bytes.fromhex("04010203040506")).insert()
    assert ev.wait(TokenRead).token.value == "04010203040506"
    card.remove()


# --- `kiosk readers` (the lead adds kiosk.commands.readers to kiosk.cli.COMMANDS) ---------

def _cli(argv):
    import argparse

    from kiosk.commands import readers

    parser = argparse.ArgumentParser(prog="kiosk")
    readers.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_lists_pcsc_reader(pcscd, capsys):
    _cli(["readers"])
    out = capsys.readouterr().out
    assert f"ok  pcsc   {READER}" in out


def test_cli_test_waits_for_tap_and_prints_it(pcscd, capsys):
    import threading

    result = {}
    t = threading.Thread(target=lambda: result.setdefault("rc", _cli(
        ["readers", "test", "--driver", "pcsc", "--path", "Kiosk Test", "--timeout", "30"])))
    t.start()
    card = VirtualCard(pcscd.port, bytes.fromhex("04A1B2C3D4E5F6")).insert()
    t.join(40)
    card.remove()
    out = capsys.readouterr().out
    assert result["rc"] == 0
    assert "read uid 04A1B2C3D4E5F6 (unverified) in" in out and "ms after detection" in out


def test_factory_opens_pcsc_reader_from_validated_config(pcscd, tmp_path):
    from drivers.factory import open_reader
    from kiosk.config import validate

    cfg = validate({"kiosk": {"store": "s", "lane": "l", "id": "k"},
                    "reader": {"driver": "pcsc", "path": "Kiosk Test", "poll_ms": 100,
                               "sun_counter_file": str(tmp_path / "sun.json")}})
    r = open_reader(cfg["reader"])
    ev = Events()
    r.start(ev)
    try:
        assert ev.wait(ReaderHealth).ok
        card = VirtualCard(pcscd.port, bytes.fromhex("04A1B2C3")).insert()
        assert ev.wait(TokenRead).token.value == "04A1B2C3"
        card.remove()
    finally:
        r.stop()


def test_shop_link_without_card_number_is_the_uid_card(reader, pcscd):
    r, ev = reader()
    uid = bytes.fromhex("04C0FFEE001122")
    card = VirtualCard(pcscd.port, uid, ndef4=uri_msg("https://shop.example/welcome")).insert()
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("uid", "04C0FFEE001122", False)
    card.remove()


def test_sun_url_under_other_parameter_names_refused(reader, pcscd):
    from drivers.sun import SunParams

    r, ev = reader(sun_meta_key=KEY.hex(), sun_file_key=KEY.hex())
    uid = bytes.fromhex("04DE5F1EACC040")
    url = make_sun_url("https://l.example/t", SunKeys(KEY, KEY), uid, 7, SunParams(picc="e", mac="c"))
    card = VirtualCard(pcscd.port, uid, ndef4=uri_msg(url)).insert()
    assert ev.wait(ReadFailed).reason == "card not accepted here [sun_bad_params]"
    card.remove()
