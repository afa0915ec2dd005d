"""The program editor and the fleet page in a real browser (Playwright, Debian's chromium) against
real services: a private Mosquitto, `ledger serve` with a program signing key, and `kiosk run`
with simulated devices.

An owner edits the program with a mistake (the page names its line), fixes it, previews a basket
and publishes; the running kiosk receives the new version (its status, shown on the fleet page,
names it). A kiosk shown online goes offline on the fleet page when its process is killed (last
will), with the page refreshing itself. A technician may see the fleet and send a config update
but not publish a program. axe-core checks each page.
"""

from __future__ import annotations

import re
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from codes.keys import new_private_pem
from ledger import audit
from ledger.config_updates import Broker
from ledger.programs import ProgramBook
from ledger.store import LedgerStore
from ledger.web.serve import Serving
from ledger.web.settings import WebSettings
from simulation.scenario import LedgerProcess, wait_for
from tests.web_support import USERS, Web, add_users, assert_accessible

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "docs/examples/program.toml").read_text()


@dataclass
class Setup:
    web: Web
    tmp: Path
    broker: object
    program_key: Path
    program_public: str
    config_public: str


def _key(path: Path) -> tuple[Path, str]:
    pem, public = new_private_pem()
    path.write_bytes(pem)
    path.chmod(0o600)
    return path, public


@pytest.fixture
def setup(ledger_db, broker, tmp_path):
    """The back office watching the broker, with a config signing key; a program key for
    `ledger serve`. Version 2 (the example) is loaded, as `ledger program load` would."""
    add_users(ledger_db, USERS)
    store = LedgerStore(ledger_db)
    from ledger import program_versions

    program_versions.publish(store, EXAMPLE, "toml", "cli:setup", "cli")
    store.close()
    config_key, config_public = _key(tmp_path / "config.pem")
    program_key, program_public = _key(tmp_path / "program.pem")
    settings = WebSettings(secret=secrets.token_urlsafe(48), https=False,
                           broker=Broker(broker.host, broker.port),
                           fleet_state=str(tmp_path / "fleet.json"), config_key=str(config_key))
    with Serving(ledger_db, settings) as serving:
        yield Setup(Web(serving.base_url, ledger_db), tmp_path, broker, program_key,
                    program_public, config_public)


def start_kiosk(s: Setup, kiosk_id: str, lane: str, more: str = "") -> subprocess.Popen:
    """`kiosk run` with simulated devices, trusting the ledger's program key."""
    work = s.tmp / kiosk_id
    work.mkdir()
    conf = work / "kiosk.toml"
    conf.write_text(f'[kiosk]\nstore = "store-1"\nlane = "{lane}"\nid = "{kiosk_id}"\n'
                    f'[broker]\nhost = "127.0.0.1"\nport = {s.broker.port}\nreconnect_max = 1.0\n'
                    f'[outbox]\npath = "{work}/outbox.db"\n'
                    '[reader]\ndriver = "sim"\n[display]\ndriver = "dummy"\n'
                    f'[program]\nkeys = ["{s.program_public}"]\n{more}')
    return subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
                            stdout=open(work / "kiosk.log", "wb"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def kiosk_row(page, kiosk_id: str):
    return page.locator(f"#kiosk-store-1-{kiosk_id}")


def test_owner_edits_publishes_and_a_running_kiosk_receives_it(setup, page):
    s = setup
    ledger = LedgerProcess(s.web.db, s.broker, s.tmp / "ledger.log",
                           serve_args=("--program-key", str(s.program_key)))
    ledger.start()
    kiosk = start_kiosk(s, "kiosk-1", "lane-1")
    try:
        s.web.login(page, "owner")
        page.goto(s.web.base_url + "/fleet")
        # the kiosk prices with version 2, the one `ledger serve` published at its start
        expect(kiosk_row(page, "kiosk-1").locator(".program")).to_have_text("2", timeout=30_000)

        page.goto(s.web.base_url + "/program")
        expect(page.get_by_text("Bean There Rewards, version 2")).to_be_visible()
        assert_accessible(page)
        text = page.get_by_label("Program text")
        edited = (EXAMPLE.replace("version = 2 ", "version = 3 ", 1)
                  .replace("cost = 80", "cost = 0", 1))  # a reward must cost at least 1 point
        text.fill(edited)
        page.get_by_role("button", name="Publish this version").click()
        problem = page.get_by_role("alert")
        expect(problem).to_contain_text("Problem on line 57")
        expect(problem).to_contain_text("rewards[1].cost must be bigger than or equal to 1")
        expect(page.locator("#line-57 mark")).to_have_text("cost = 0")  # where the link leads
        assert_accessible(page)
        assert ProgramBook.load(LedgerStore(s.web.db)).version == 2  # nothing published

        page.get_by_label("Program text").fill(edited.replace("cost = 0", "cost = 70", 1))
        page.get_by_label("Line 1 SKU").fill("latte")
        page.get_by_label("Line 1 Category").fill("coffee")
        page.get_by_label("Line 1 Quantity").fill("2")
        page.get_by_label("Line 1 Unit price").fill("3.50")
        page.get_by_label("Balance (points)").fill("60")
        page.get_by_role("button", name="Preview the basket").click()
        expect(page.locator("#earn")).to_have_text("14 points")  # 7.00 EUR of coffee, x2
        expect(page.get_by_text("Free pastry (70 pts)")).to_be_visible()  # 74 after: in reach
        assert_accessible(page)

        page.get_by_role("button", name="Publish this version").click()
        expect(page.get_by_role("status").first).to_contain_text("Version 3 (Bean There Rewards)"
                                                                 " is published")
        row = page.get_by_role("row", name=re.compile(r"^3 Bean There Rewards"))
        expect(row).to_contain_text("olga (web)")
        row.get_by_role("link", name="Diff with version 2").click()
        expect(page.locator("pre.diff ins")).to_contain_text(['"cost": 70', '"version": 3'])
        assert_accessible(page)

        # the running kiosk, never restarted, now prices with version 3
        page.goto(s.web.base_url + "/fleet")
        expect(kiosk_row(page, "kiosk-1").locator(".program")).to_have_text("3", timeout=30_000)
        assert "program version 3 received" in (s.tmp / "kiosk-1" / "kiosk.log").read_text()
        (entry,) = [e for e in audit.entries(LedgerStore(s.web.db).db, target="program")
                    if e.detail["version"] == 3]
        assert (entry.actor, entry.via) == ("olga", "web")
    finally:
        stop(kiosk)
        ledger.stop()


def test_a_killed_kiosk_goes_offline_on_the_fleet_page(setup, page):
    s = setup
    kiosk = start_kiosk(s, "kiosk-2", "lane-2")
    try:
        s.web.login(page, "technician")
        page.goto(s.web.base_url + "/fleet")
        row = kiosk_row(page, "kiosk-2")
        expect(row.locator(".state")).to_have_text("online", timeout=30_000)
        expect(row).to_contain_text("sim-nfc: ok")
        assert_accessible(page)
        kiosk.send_signal(signal.SIGKILL)
        kiosk.wait(10)
        # no reload: the page refreshes its tables itself
        expect(kiosk_row(page, "kiosk-2").locator(".state")).to_have_text("offline",
                                                                          timeout=30_000)
    finally:
        stop(kiosk)


def test_technician_sends_a_config_update_but_cannot_publish_a_program(setup, page):
    s = setup
    kiosk = start_kiosk(s, "kiosk-3", "lane-3", f'[remote]\nkeys = ["{s.config_public}"]\n')
    try:
        s.web.login(page, "technician")
        page.goto(s.web.base_url + "/fleet")
        expect(kiosk_row(page, "kiosk-3").locator(".state")).to_have_text("online",
                                                                          timeout=30_000)
        page.reload()  # the refresh script renews the tables, not the form's kiosk list
        page.get_by_label("Kiosk", exact=True).select_option("store-1/kiosk-3")
        page.get_by_label("Settings, one SECTION.KEY=VALUE a line").fill("nodot=1")
        page.get_by_role("button", name="Sign and send").click()
        expect(page.get_by_role("alert")).to_have_text("'nodot=1': expected SECTION.KEY=VALUE")
        page.get_by_label("Kiosk", exact=True).select_option("store-1/kiosk-3")
        page.get_by_label("Settings, one SECTION.KEY=VALUE a line").fill("lookup.timeout_ms=900")
        page.get_by_role("button", name="Sign and send").click()
        expect(page.get_by_role("status").first).to_contain_text("sent to store-1/kiosk-3")
        (entry,) = audit.entries(LedgerStore(s.web.db).db, target="kiosk:store-1/kiosk-3")
        assert (entry.actor, entry.via) == ("tess", "web")
        assert entry.detail["set"] == {"lookup": {"timeout_ms": 900}}
        # the kiosk checked the signature and took it (it exits to restart with it)
        saved = f"config update {entry.detail['serial']} saved; restarting to apply it"
        assert wait_for(lambda: saved in (s.tmp / "kiosk-3" / "kiosk.log").read_text(), 20)
    finally:
        stop(kiosk)
    client = s.web.client("technician")
    assert client.get("/program").status_code == 403
    token = s.web.csrf(client, "/fleet")
    refused = client.post("/program", data={"csrf_token": token, "action": "publish",
                                            "format": "toml",
                                            "text": EXAMPLE.replace("version = 2 ", "version = 9 ")})
    assert refused.status_code == 403
    assert ProgramBook.load(LedgerStore(s.web.db)).version == 2


def test_program_form_input_is_checked(setup):
    client = setup.web.client("owner")
    token = setup.web.csrf(client, "/program")

    def post(**data):
        return client.post("/program", data={"csrf_token": token, **data})

    assert "unknown action" in post(action="drop", format="toml", text=EXAMPLE).text
    assert post(action="check", format="json", text=EXAMPLE).status_code == 400
    assert "the program text is empty" in post(action="check", format="toml", text=" ").text
    big = post(action="check", format="toml", text="#" * 300_000)
    assert big.status_code == 400 and "more than 262144 bytes" in big.text
    script = post(action="check", format="toml", text='name = "<script>x</script>"\n')
    assert "<script>x" not in script.text and "&lt;script&gt;x" in script.text
    assert client.get("/program/diff?old=1&new=x").status_code == 400
    assert client.get("/program/diff?old=1&new=2").status_code == 404
    assert post(action="publish", format="toml", text=EXAMPLE).status_code == 400  # v2 exists
    assert client.get("/fleet").status_code == 200  # an owner may see the fleet too
