"""The member's page in a real browser (Playwright driving Debian's chromium) on the real app
(uvicorn, tests/web_support.py) over a real ledger (SQLite and PostgreSQL): opened from a link
`ledger members link` printed; its rotating QR code, screenshotted and read by zxing-cpp, scanned
into a simulated kiosk on a real Mosquitto with `ledger serve`, which shows that member; the code
changes after a time step (Playwright's clock). Then the forms (profile, consent, download,
erase), each audited as member:<id>, and the refusals: forged, expired and foreign links, a
session of member A never showing B, forms without their CSRF token, and an axe check.

The ledger's QR key here is the public demo key: `ledger serve` as tests/scenario.py starts it
trusts that key only, and the point is the kiosk's verification, not the key's secrecy.
"""

import datetime as dt
import io
import json
import secrets
import subprocess
import sys

import numpy as np
import pytest
import time_machine
import zxingcpp
from PIL import Image

from codes import member_qr
from ledger import audit, member_links, profiles
from ledger.store import LedgerStore
from ledger.web.serve import Serving
from ledger.web.settings import WebSettings
from simulation.scenario import LedgerProcess, wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config
from tests.web_support import assert_accessible

CARD = "04A1B2C3D4E5F6"
PERIOD = 30


class MemberWeb:
    def __init__(self, base_url, db, key_file):
        self.base_url, self.db, self.key_file = base_url, db, key_file
        self.keys = member_links.load(key_file)

    def link(self, who="ada", purpose="kiosk") -> str:
        """A link as `ledger members link` prints it (the CLI, audited)."""
        out = subprocess.run([sys.executable, "-m", "ledger.cli", "members", "link", who,
                              "--purpose", purpose, "--web-url", self.base_url, "--link-key",
                              str(self.key_file), "--db", self.db],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def store(self) -> LedgerStore:
        return LedgerStore(self.db)


@pytest.fixture
def member_web(ledger_db, tmp_path):
    store = LedgerStore(ledger_db)
    store.add_member("Ada Lovelace", [CARD], "ada", opening_balance=240)
    store.add_member("Bob Babbage", ["04B0B0B0B0B0B0"], "bob", opening_balance=999)
    store.close()
    key_file = tmp_path / "links.key"
    member_links.create(key_file)
    settings = WebSettings(secret=secrets.token_urlsafe(48), https=False,
                           links=member_links.load(key_file), qr_key=member_qr.demo_key(),
                           qr_program=member_qr.DEMO_PROGRAM, qr_period=PERIOD)
    with Serving(ledger_db, settings) as serving:
        yield MemberWeb(serving.base_url, ledger_db, key_file)


def code_on(page) -> str:
    """What a camera reads off the page's member code: a screenshot of the element, zxing-cpp."""
    shot = page.locator("#member-code").screenshot()
    grey = np.asarray(Image.open(io.BytesIO(shot)).convert("L"))
    found = [r.text for r in zxingcpp.read_barcodes(grey)]
    assert len(found) == 1, f"one code expected on the page, read {found}"
    return found[0]


# -- the page and its code in the kiosk ------------------------------------------------------------
@pytest.mark.parametrize("ledger_db", ["sqlite"], indirect=True)
def test_the_page_from_its_link_shows_the_balance_and_its_code_opens_the_member_at_a_kiosk(
        member_web, page, broker, tmp_path):
    page.clock.install()  # the page's clock moves when the test says (Playwright's clock)
    page.goto(member_web.link())
    page.wait_for_url(member_web.base_url + "/me")  # the token leaves the address bar
    assert page.locator("#balance").inner_text().startswith("240")
    assert "Hello, Ada Lovelace" in page.inner_text("h1")
    assert_accessible(page)
    # Paused from here: a real 30 s boundary passing while the kiosk part runs would rotate
    # the code once more than the test's own step below.
    page.clock.pause_at(dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=200))
    text = code_on(page)
    parsed = member_qr.parse(text)
    assert (parsed.member, parsed.kind) == ("ada", "m")

    led = LedgerProcess(member_web.db, broker, tmp_path / "ledger.log")
    led.start()
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path / "kiosk", qr={
        "keys": [member_qr.DEMO_PUBLIC_KEY], "program": member_qr.DEMO_PROGRAM})).start()
    try:
        assert wait_for(lambda: kiosk.online, 10)
        kiosk.scan(text)
        assert wait_for(lambda: "Ada Lovelace" in kiosk.screen_text()
                        and "240 pts" in kiosk.screen_text()
                        and "*" not in kiosk.screen_text(), 10), kiosk.screen_text()
    finally:
        kiosk.stop()
        led.stop()

    page.clock.fast_forward(PERIOD * 1000)  # the next time step, without the network
    page.wait_for_function("document.getElementById('member-code').dataset.showing !=="
                           f" '{parsed.counter * PERIOD}'")
    later = member_qr.parse(code_on(page))
    assert later.member == "ada" and later.counter == parsed.counter + 1
    assert later.text() != parsed.text()


# -- the forms ---------------------------------------------------------------------------------------
def test_a_member_completes_the_profile_and_changes_consent_both_ways(member_web, page):
    page.goto(member_web.link())
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Birth date").fill("1990-04-23")
    page.get_by_role("button", name="Save my details").click()
    assert "Your details are saved" in page.inner_text("main")
    page.get_by_role("button", name="Allow", exact=True).first.click()  # email: the first row
    assert "News and offers by email: yes" in page.inner_text("#consent")
    page.get_by_role("button", name="Stop").first.click()  # as easy as giving
    assert "News and offers by email: no" in page.inner_text("#consent")
    store = member_web.store()
    found = profiles.profile(store, "ada")
    assert (found.email, found.birth_date) == ("ada@example.org", "1990-04-23")
    assert [(c.channel, c.given, c.source) for c in found.consents] == [
        ("email", True, "web"), ("email", False, "web")]
    actions = [(e.actor, e.action) for e in audit.entries(store.db, target="ada")]
    assert actions[:3] == [("member:ada", "consent.withdraw"), ("member:ada", "consent.give"),
                           ("member:ada", "member.update")]
    assert all("ada@example.org" not in json.dumps(e.detail) for e in audit.entries(store.db))


def test_a_wrong_value_is_named_and_nothing_is_saved(member_web, page):
    page.goto(member_web.link())
    page.get_by_label("Email").fill("not-an-address")
    page.get_by_label("Phone").fill("+49 30 1234-567")
    page.get_by_role("button", name="Save my details").click()
    assert "is not an address" in page.inner_text("#e-email")
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert profiles.profile(member_web.store(), "ada").phone is None, "all or nothing"


def test_a_member_downloads_their_data_and_can_erase_it(member_web, page):
    page.goto(member_web.link())
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["member"] == {"member_id": "ada", "tier": "member", "balance": 240,
                              "blocked_at": None, "blocked_reason": None}
    page.get_by_role("button", name="Erase my data").click()  # the box is required first
    assert profiles.profile(member_web.store(), "ada").forgotten_at is None
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Erase my data").click()
    assert "Your data is erased" in page.inner_text("h1")
    store = member_web.store()
    assert profiles.profile(store, "ada").forgotten_at and store.member("ada").balance == 240
    assert {e.action for e in audit.entries(store.db, target="ada")} >= {
        "member.export", "member.forget"}
    page.goto(member_web.base_url + "/me")
    assert "Open your link again" in page.inner_text("h1"), "the session ends with the data"


# -- refusals (httpx: what a browser would send, and what it must not) -------------------------------
def client(member_web):
    import httpx

    return httpx.Client(base_url=member_web.base_url, follow_redirects=False, timeout=30)


def open_as(member_web, who="ada"):
    c = client(member_web)
    answer = c.get(member_web.link(who).removeprefix(member_web.base_url))
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    return c


def test_a_forged_or_expired_link_opens_nothing(member_web):
    token = member_web.keys.token("ada")
    c = client(member_web)
    forged = c.get(f"/me/{token[:-2]}xx")
    assert forged.status_code == 403 and "not valid" in forged.text
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)):
        old = member_web.keys.token("ada")
    expired = c.get(f"/me/{old}")
    assert expired.status_code == 403 and "expired" in expired.text
    assert "ledger_member" not in c.cookies and c.get("/me").status_code == 401


def test_member_a_never_sees_member_b(member_web):
    ada = open_as(member_web, "ada")
    assert "Ada Lovelace" in ada.get("/me").text and "Bob" not in ada.get("/me").text
    value = ada.cookies["ledger_member"]
    bob_cookie = value.replace("ada", "bob", 1)  # the same signature on another member
    ada.cookies.set("ledger_member", bob_cookie, path="/me")
    answer = ada.get("/me")
    assert answer.status_code == 401 and "Bob" not in answer.text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(member_web):
    ada = open_as(member_web, "ada")
    for path, form in (("/me/profile", {"email": "eve@example.org"}),
                       ("/me/consent", {"channel": "email", "choice": "give"}),
                       ("/me/forget", {"confirm": "yes"})):
        assert ada.post(path, data=form).status_code == 403
    store = member_web.store()
    found = profiles.profile(store, "ada")
    assert found.email is None and found.consents == () and not found.forgotten_at
    assert [e.action for e in audit.entries(store.db, target="ada")] == ["member.link"]


def test_member_and_staff_sessions_do_not_open_each_others_pages(member_web):
    ada = open_as(member_web, "ada")
    assert ada.get("/").status_code == 303, "a member session is no back-office login"
    assert ada.get("/audit").headers["location"].startswith("/login")
    assert client(member_web).get("/me").status_code == 401


def test_every_member_route_but_the_link_refuses_a_visitor_without_a_member_session(member_web):
    """Each route named in ledger/web/pages MEMBER (new ones too): no session -> 401, no data
    (the link itself, /me/<token>, is public: the signed link is its own proof)."""
    import re

    from starlette.routing import Route

    from ledger.web.app import routes
    from ledger.web.pages import MEMBER

    c = client(member_web)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    found = [r for r in routes() if isinstance(r, Route) and r.name in MEMBER]
    assert {r.name for r in found} == MEMBER
    for route in found:
        for method in sorted(route.methods - {"HEAD"}):
            answer = c.request(method, route.path, data={"csrf_token": token}
                               if method == "POST" else None)
            assert answer.status_code == 401, (method, route.path, answer.status_code)
            assert "Ada" not in answer.text


def test_a_kiosk_link_opens_one_phone_only_and_an_email_link_any(member_web):
    link = member_web.link("ada").removeprefix(member_web.base_url)
    phone = client(member_web)
    assert phone.get(link).headers["location"] == "/me"
    assert phone.get(link).headers["location"] == "/me"  # the same phone may open it again
    behind = client(member_web)  # someone behind the customer scans the same screen
    refused = behind.get(link)
    assert refused.status_code == 403 and "opened already" in refused.text
    assert "ledger_member" not in behind.cookies and behind.get("/me").status_code == 401
    emailed = member_web.link("ada", purpose="email").removeprefix(member_web.base_url)
    for device in (client(member_web), client(member_web)):
        assert device.get(emailed).headers["location"] == "/me"
        assert "Ada Lovelace" in device.get("/me").text
