"""Signed links to a member's page (ledger.member_links): what opens, what is refused and why,
key rotation, `ledger members link` (audited), and `ledger serve --web-url` answering a kiosk's
lookup with the link: a real kiosk joins through a real Mosquitto and shows the link as a QR code
that zxing-cpp reads back; a ledger without links (or of an older contract) shows no code."""

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pytest
import time_machine
import zxingcpp

from display import views as v
from ledger import audit, member_links
from ledger.service import lookup_reply
from ledger.store import LedgerStore
from mqtt import messages
from program.engine import DefaultProgram
from simulation.scenario import LedgerProcess, wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config

BASE = "https://loyalty.example"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "links.key"
    member_links.create(path)
    return path


def test_a_link_opens_for_its_member_and_purpose_and_is_short(key_file):
    keys = member_links.load(key_file)
    token = keys.token("m-836ad105b2eb", "kiosk")
    link = keys.verify(token)
    assert (link.member_id, link.purpose) == ("m-836ad105b2eb", "kiosk")
    assert link.expires_at - link.issued_at == 15 * 60
    url = member_links.url(BASE, token)
    assert url.startswith(BASE + "/me/") and len(url) <= 90, "it is drawn on a 128x64 OLED"
    assert keys.verify(keys.token("ada", "email")).expires_at - link.issued_at >= 7 * 24 * 3600


@pytest.mark.parametrize("change, reason", [
    (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "forged"),  # signature altered
    (lambda t: "k" + "eve" + t[t.index("."):], "forged"),  # another member, same signature
    (lambda t: "e" + t[1:], "forged"),  # kiosk link passed off as an email link
    (lambda t: "x" + t[1:], "malformed"),
    (lambda t: "", "malformed"),
    (lambda t: t * 5, "malformed"),
])
def test_a_changed_link_is_refused_with_its_reason(key_file, change, reason):
    keys = member_links.load(key_file)
    with pytest.raises(member_links.LinkRefused) as refused:
        keys.verify(change(keys.token("ada", "kiosk")))
    assert refused.value.reason == reason and str(refused.value)


def test_no_other_last_character_opens_a_link(key_file):
    """The signature's last base64 character has bits a decoder ignores: every other spelling
    is refused, or someone who saw a kiosk link could open it again with a new text."""
    keys = member_links.load(key_file)
    with time_machine.travel(NOW, tick=False) as clock:
        for _ in range(8):  # 8 signatures: some end in a character with ignored bits set
            token = keys.token("ada", "kiosk")
            assert keys.verify(token).member_id == "ada"
            for ch in BASE64URL.replace(token[-1], ""):
                with pytest.raises(member_links.LinkRefused) as refused:
                    keys.verify(token[:-1] + ch)
                assert refused.value.reason == "forged", ch
            clock.shift(1)  # another timestamp, so another signature


def test_a_link_of_another_ledger_is_forged(key_file, tmp_path):
    other = tmp_path / "other.key"
    member_links.create(other)
    with pytest.raises(member_links.LinkRefused, match="not valid"):
        member_links.load(key_file).verify(member_links.load(other).token("ada"))


def test_a_kiosk_link_expires_after_15_minutes_an_email_link_after_7_days(key_file):
    keys = member_links.load(key_file)
    with time_machine.travel(NOW, tick=False) as clock:
        kiosk, email = keys.token("ada", "kiosk"), keys.token("ada", "email")
        clock.shift(dt.timedelta(minutes=14))
        assert keys.verify(kiosk).member_id == "ada"
        clock.shift(dt.timedelta(minutes=2))
        with pytest.raises(member_links.LinkRefused) as refused:
            keys.verify(kiosk)
        assert refused.value.reason == "expired" and "new one" in str(refused.value)
        clock.shift(dt.timedelta(days=6, hours=23))
        assert keys.verify(email).purpose == "email"
        clock.shift(dt.timedelta(hours=1))
        with pytest.raises(member_links.LinkRefused, match="expired"):
            keys.verify(email)


def test_a_purpose_not_allowed_here_is_refused(key_file):
    keys = member_links.load(key_file)
    with pytest.raises(member_links.LinkRefused) as refused:
        keys.verify(keys.token("ada", "kiosk"), allowed=("email",))
    assert refused.value.reason == "wrong_purpose"


def test_rotation_keeps_the_previous_key_for_links_already_given(key_file):
    before = member_links.load(key_file).token("ada", "email")
    member_links.rotate(key_file)
    keys = member_links.load(key_file)
    assert keys.verify(before).member_id == "ada", "a link in an inbox still opens"
    after = keys.token("ada", "email")
    assert after != before and keys.verify(after).member_id == "ada"
    member_links.rotate(key_file)
    with pytest.raises(member_links.LinkRefused, match="not valid"):
        member_links.load(key_file).verify(before)  # two rotations: the oldest key is gone
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("text, message", [
    ("not hex\n", "line 1: not 64 hex digits"),
    ("# only a comment\n", "no key in it"),
])
def test_a_bad_key_file_is_named_with_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.key"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        member_links.load(path)
    with pytest.raises(ValueError, match="No such file"):
        member_links.load(tmp_path / "missing.key")


def ledger_cli(db, *args, env=None):
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=60, env=env)


def test_members_link_prints_a_link_that_opens_and_is_audited(ledger_db, key_file):
    store = LedgerStore(ledger_db)
    ada = store.add_member("Ada", [], "ada")
    out = ledger_cli(ledger_db, "members", "link", ada, "--purpose", "email", "--web-url", BASE,
                     "--link-key", str(key_file))
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    token = url.removeprefix(BASE + "/me/")
    link = member_links.load(key_file).verify(token)
    assert (link.member_id, link.purpose) == ("ada", "email")
    (entry,) = audit.entries(store.db, target="ada")
    assert entry.action == "member.link" and entry.detail == {"purpose": "email"}
    assert entry.actor.startswith("cli:") and entry.via == "cli"


@pytest.mark.parametrize("args, message", [
    (("nobody", "--web-url", BASE), "no member or card 'nobody'"),
    (("ada", "--web-url", "http://loyalty.example"), "http only for localhost"),
    (("ada",), "needs --web-url"),
])
def test_members_link_refuses_clearly(ledger_db, key_file, args, message):
    LedgerStore(ledger_db).add_member("Ada", [], "ada")
    out = ledger_cli(ledger_db, "members", "link", *args, "--link-key", str(key_file))
    assert out.returncode != 0 and message in out.stderr
    assert audit.entries(LedgerStore(ledger_db).db) == [], "nothing made, nothing logged"


def test_a_lookup_gets_the_link_only_when_it_asks_and_only_from_a_kiosk(ledger_db, key_file):
    store = LedgerStore(ledger_db)
    store.add_member("Ada", ["04A1B2C3D4E5F6"], "ada")
    keys = member_links.load(key_file)
    make = lambda member_id: member_links.url(BASE, keys.token(member_id))  # noqa: E731
    token = {"kind": "uid", "value": "04A1B2C3D4E5F6"}
    program = DefaultProgram(allow_unverified_uid=True)
    asker = ("store-1", "kiosk-1")

    def reply(request, who=asker):
        return messages.decode("lookup_reply", lookup_reply(store, program, request, who,
                                                            account_link=make))

    asked = reply({"v": 1, "token": token, "ask_link": True})
    assert keys.verify(asked["account_link"].removeprefix(BASE + "/me/")).member_id == "ada"
    assert "account_link" not in reply({"v": 1, "token": token})
    assert "account_link" not in reply({"v": 1, "token": token, "ask_link": True}, who=None)
    unknown = reply({"v": 1, "token": {"kind": "uid", "value": "04FFFFFFFFFFFF"},
                     "ask_link": True})
    assert not unknown["found"] and "account_link" not in unknown


# -- a real kiosk, a real broker, `ledger serve` as a process ---------------------------------
NEW_CARD = "04DEADBEEF0001"


def panel_text(kiosk) -> list[str]:
    """What a phone reads off the kiosk's 128x64 frame (enlarged: a module is one pixel)."""
    image = kiosk.frame().convert("L")
    big = np.asarray(image.resize((image.width * 4, image.height * 4)))
    return [r.text for r in zxingcpp.read_barcodes(big)]


def join(kiosk):
    kiosk.tap(NEW_CARD)
    assert wait_for(lambda: "join" in kiosk.screen_text(), 10), kiosk.screen_text()
    kiosk.press("select")


@pytest.mark.parametrize("ledger_db", ["sqlite"], indirect=True)
def test_a_customer_who_joins_at_the_kiosk_sees_the_link_the_ledger_gave(broker, tmp_path,
                                                                         ledger_db, key_file):
    led = LedgerProcess(ledger_db, broker, tmp_path / "ledger.log",
                        serve_args=("--web-url", BASE, "--link-key", str(key_file)))
    led.start()
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path / "kiosk")).start()
    try:
        assert wait_for(lambda: kiosk.app.session.links.available(), 10), "capabilities 1.3"
        join(kiosk)
        assert wait_for(lambda: "Scan to see your" in kiosk.screen_text(), 10), \
            kiosk.screen_text()
        assert wait_for(lambda: panel_text(kiosk), 5), "the frame drawn holds the code"
        (url,) = panel_text(kiosk)
        member_id = member_links.load(key_file).verify(url.removeprefix(BASE + "/me/")).member_id
        assert LedgerStore(ledger_db).find(NEW_CARD).member_id == member_id
    finally:
        kiosk.stop()
        led.stop()


@pytest.mark.parametrize("ledger_db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("serve_args", [(), ("--no-batches",)], ids=["no-web-url", "contract-1.0"])
def test_without_links_at_the_ledger_the_join_works_and_no_code_shows(broker, tmp_path,
                                                                      ledger_db, serve_args):
    led = LedgerProcess(ledger_db, broker, tmp_path / "ledger.log", serve_args=serve_args)
    led.start()
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path / "kiosk")).start()
    try:
        assert wait_for(lambda: kiosk.online, 10)
        join(kiosk)
        assert wait_for(lambda: kiosk.outbox_depth() == 0 and json.loads(
            led.cli("members", "--json").splitlines()[0])["cards"], 10), "joined and acked"
        assert not wait_for(lambda: any(isinstance(x, v.AccountLink) for x in kiosk.views), 2)
        assert panel_text(kiosk) == []
    finally:
        kiosk.stop()
        led.stop()
