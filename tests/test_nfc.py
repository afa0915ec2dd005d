"""The nfcpy driver on nfcpy's udp: device, with a second nfcpy process emulating a Type 3 tag."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import ndef
import pytest

from drivers.base import CardDetected, CardRemoved, ReaderHealth, ReadFailed, TokenRead
from drivers.ndef_card import sign_card
from drivers.sun import SunKeys, make_sun_url
from tests.reader_events import Events

pytest.importorskip("nfc")
ROOT = Path(__file__).resolve().parent.parent


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tag:
    """The emulator process: running is a card on the reader, stopped is lifted."""

    def __init__(self, port: int, ndef_msg: bytes = b"", idm: str = "02FE000000000001",
                 vanish_after: int | None = None) -> None:
        cmd = [sys.executable, "-m", "tests.nfc_tag_emulator", "--port", str(port),
               "--idm", idm, "--ndef", ndef_msg.hex()]
        if vanish_after is not None:
            cmd += ["--vanish-after", str(vanish_after)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def remove(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()


@pytest.fixture
def rig():
    from drivers.nfc import NfcpyReader

    port = free_udp_port()
    made: list = []

    def make(**cfg):
        # FeliCa only: the udp device waits 1 s for an answer on each technology polled.
        section = {"path": f"udp:localhost:{port}", "poll_ms": 100, "nfc_targets": "212F",
                   "debounce_ms": 800, **cfg}
        r = NfcpyReader(section)
        ev = Events()
        r.start(ev)
        made.append(r)
        assert ev.wait(ReaderHealth).ok
        return r, ev

    tags: list[Tag] = []

    def tag(*args, **kw) -> Tag:
        t = Tag(port, *args, **kw)
        tags.append(t)
        return t

    yield make, tag
    for r in made:
        r.stop()
    for t in tags:
        t.remove()


def uri_msg(uri: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.UriRecord(uri)]))


def test_felica_idm_as_uid_and_removal(rig):
    make, tag = rig
    r, ev = make()
    t = tag(idm="02FE0000DEADBEEF")
    assert ev.wait(CardDetected).reader == r.name
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("uid", "02FE0000DEADBEEF", False)
    t.remove()
    ev.wait(CardRemoved)


def test_ndef_card_number_signed(rig):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    make, tag = rig
    r, ev = make(ndef_public_key=pub, ndef_require_signature=True)
    tag(uri_msg(f"https://l.example/c?c=MEMBER-0042&s={sign_card(key, 'MEMBER-0042')}"))
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("ndef", "MEMBER-0042", True)


def test_sun_url_on_tag(rig):
    keys = SunKeys(b"\x01" * 16, b"\x02" * 16)
    make, tag = rig
    r, ev = make(sun_meta_key="01" * 16, sun_file_key="02" * 16)
    tag(uri_msg(make_sun_url("https://l.example/t", keys, bytes.fromhex("04DE5F1EACC040"), 3)))
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("sun", "04DE5F1EACC040", True)


def test_card_held_is_one_tap(rig):
    make, tag = rig
    r, ev = make()
    tag(uri_msg("https://l.example/c?c=MEMBER-0042"))
    ev.wait(TokenRead)
    later = ev.drain(1.5)  # some fifteen polls with the card still there
    assert not [e for e in later if isinstance(e, TokenRead | CardDetected | CardRemoved)]


def test_tapped_again_is_a_new_tap(rig):
    make, tag = rig
    r, ev = make(debounce_ms=0)
    for _ in range(2):
        t = tag(uri_msg("https://l.example/c?c=MEMBER-0042"))
        assert ev.wait(TokenRead).token.value == "MEMBER-0042"
        t.remove()
        ev.wait(CardRemoved)


def test_tag_vanishing_mid_read_gives_read_failed_and_no_token(rig):
    make, tag = rig
    r, ev = make()
    # Answers the poll and the attribute block read, then leaves before the NDEF blocks.
    tag(uri_msg("https://l.example/c?c=MEMBER-0042" + "&x=" + "y" * 60), vanish_after=1)
    ev.wait(CardDetected)
    assert ev.wait(ReadFailed).reason == "card removed too soon, try again"
    assert not [e for e in ev.seen + ev.drain(1.0) if isinstance(e, TokenRead)]


def test_missing_device_reported_unhealthy():
    from drivers.nfc import NfcpyReader

    r = NfcpyReader({"path": "tty:kiosk-no-such-port:pn532", "poll_ms": 100})
    ev = Events()
    r.start(ev)
    try:
        health = ev.wait(ReaderHealth)
        assert not health.ok and "cannot open" in health.detail
    finally:
        r.stop()


def test_shop_link_without_card_number_is_the_uid_card(rig):
    make, tag = rig
    r, ev = make()
    tag(uri_msg("https://shop.example/welcome"), idm="02FE0000CAFE0042")
    tok = ev.wait(TokenRead).token
    assert (tok.kind, tok.value, tok.verified) == ("uid", "02FE0000CAFE0042", False)


def test_sun_url_under_other_parameter_names_refused(rig):
    from drivers.sun import SunParams

    keys = SunKeys(b"\x01" * 16, b"\x02" * 16)
    make, tag = rig
    r, ev = make(sun_meta_key="01" * 16, sun_file_key="02" * 16)
    url = make_sun_url("https://l.example/t", keys, bytes.fromhex("04DE5F1EACC040"), 3,
                       SunParams(picc="e", mac="c"))  # c= would pass for a card number
    tag(uri_msg(url))
    assert ev.wait(ReadFailed).reason == "card not accepted here [sun_bad_params]"
    assert not [e for e in ev.seen + ev.drain(0.5) if isinstance(e, TokenRead)]
