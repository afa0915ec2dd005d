"""The back office in a real browser (Playwright driving Debian's chromium): logging in and out,
a wrong password, a disabled account; axe-core on the login page, dashboard and audit log."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ledger.store import LedgerStore
from ledger.web import accounts
from tests.web_support import assert_accessible, web  # noqa: F401


def test_owner_logs_in_sees_the_dashboard_and_logs_out(web, page):  # noqa: F811
    page.goto(web.base_url + "/audit")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faudit$"))
    assert_accessible(page)
    name, password = web.users["owner"]
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(web.base_url + "/audit")  # back where the visitor wanted to go
    expect(page.get_by_role("cell", name="user.login", exact=True).first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Points outstanding")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(web.base_url + "/login")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto(web.base_url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


def test_a_wrong_password_is_refused_and_says_so(web, page):  # noqa: F811
    page.goto(web.base_url + "/login")
    page.get_by_label("User name").fill(web.users["owner"][0])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    page.goto(web.base_url + "/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_disabled_account_cannot_log_in_and_its_session_ends(web, page):  # noqa: F811
    web.login(page, "staff")
    expect(page.get_by_role("heading", name="Welcome, sam")).to_be_visible()
    store = LedgerStore(web.db)
    accounts.disable(store, "sam", "olga", "web")
    store.close()
    page.reload()
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.get_by_role("status")).to_have_text("Your account is disabled.")
    page.get_by_label("User name").fill("sam")
    page.get_by_label("Password").fill(web.users["staff"][1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("This account is disabled")


def test_logging_out_ends_the_session_for_a_copy_of_its_cookie_too(web, page):  # noqa: F811
    web.login(page, "owner")
    copied = {c["name"]: c["value"] for c in page.context.cookies()}
    other_device = web.client()
    other_device.cookies.update(copied)  # someone took the cookie while it was good
    assert other_device.get("/audit").status_code == 200
    second = web.client("owner")  # the same user logged in elsewhere, on purpose
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(web.base_url + "/login")
    answer = other_device.get("/audit")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert second.get("/audit").status_code == 200  # only the session that logged out ended
