"""The README's screenshots of the back office: the owner's dashboard and a member's own page.

Builds a ledger with the report tests' seeded half year (tests/report_data.py: members joining,
visits at two stores, redemptions, refunds, expiry, applied through the real ledger path), runs
the real app (ledger.web.serve.Serving) and photographs it with Playwright driving Debian's
chromium, the browser the tests use:

    .venv/bin/python scripts/web_screenshots.py [--out docs/screens]

writes ``back-office-dashboard.png`` (June 2026 against May, desktop width) and
``member-page.png`` (a phone's viewport, opened from the member's signed link).
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the repo's packages and tests

from codes import member_qr  # noqa: E402
from ledger import member_links, profiles  # noqa: E402
from ledger.store import LedgerStore  # noqa: E402
from ledger.web.serve import Serving  # noqa: E402
from ledger.web.settings import WebSettings  # noqa: E402
from tests import report_data  # noqa: E402
from tests.web_support import USERS, add_users  # noqa: E402

PERIOD = "from=2026-06-01&to=2026-06-30"


def build_ledger(db: str) -> str:
    """The seeded ledger, its users, and the member to photograph: the one nearest the top tier
    (the generated names are "Member N"; this one is given a person's name). The history ends in
    July 2026 and its points expire after 60 days, so the desk gives the member a goodwill
    adjustment today, as staff would, for a balance on the picture."""
    store = LedgerStore(db)
    try:
        history = report_data.generate(store)
        member = max(sorted(history.members), key=lambda m: history.members[m].window_points())
        profiles.update(store, member, {"name": "Ada Lovelace", "email": "ada@example.org"})
        store.adjust(member, 120, "welcome back", "olga")
    finally:
        store.close()
    add_users(db, USERS)
    return member


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("web_screenshots: no chromium (make bootstrap installs Debian's)")
    return found


def shoot(base_url: str, link: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    name, password = USERS["owner"]
    dashboard, member = out / "back-office-dashboard.png", out / "member-page.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), headless=True)
        try:
            desk = browser.new_page(viewport={"width": 1100, "height": 1500})
            desk.goto(base_url + "/login")
            desk.get_by_label("User name").fill(name)
            desk.get_by_label("Password").fill(password)
            desk.get_by_role("button", name="Log in").click()
            desk.wait_for_url(base_url + "/")
            desk.goto(f"{base_url}/?{PERIOD}")
            desk.wait_for_load_state("networkidle")  # the charts are images of their own
            desk.screenshot(path=str(dashboard))  # KPIs and the trend charts
            phone = browser.new_page(viewport={"width": 390, "height": 844},
                                     device_scale_factor=2, is_mobile=True)
            phone.goto(link)
            phone.wait_for_url(base_url + "/me")
            phone.screenshot(path=str(member))  # the first screen: balance, tier, code
        finally:
            browser.close()
    return [dashboard, member]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    out = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screens-") as tmp:
        db, key_file = str(Path(tmp) / "ledger.db"), Path(tmp) / "links.key"
        member = build_ledger(db)
        member_links.create(key_file)
        keys = member_links.load(key_file)
        settings = WebSettings(secret=secrets.token_urlsafe(48), https=False, links=keys,
                               qr_key=member_qr.demo_key(), qr_program=member_qr.DEMO_PROGRAM)
        with Serving(db, settings) as serving:
            link = member_links.url(serving.base_url, keys.token(member, "kiosk"))
            for path in shoot(serving.base_url, link, out):
                print(path)


if __name__ == "__main__":
    main()
