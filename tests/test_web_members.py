"""The back office's members pages in a real browser (Playwright driving Debian's chromium) on
SQLite and PostgreSQL: find a member by name, email, phone and card; adjust points; replace a
lost card (the kiosk's lookup then finds the new card and refuses the old one); block, merge,
forget, download; and the refusals: no reason, not a number, no CSRF, the wrong role, markup in a
name, SQL in a search. Every figure checked is read back from the ledger itself."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from ledger import audit, profiles
from ledger import profile_fields as pf
from ledger.apply import lookup
from ledger.store import LedgerStore
from program.engine import DefaultProgram
from tests.web_support import assert_accessible, web  # noqa: F401

ADA_UID, BOB_UID = "04A1B2C3D4E5F6", "04B0B0B0B0B0B0"
KIOSK = ("store-1", "kiosk-1")


@pytest.fixture
def members(web):  # noqa: F811
    store = LedgerStore(web.db)
    store.add_member("Ada Lovelace", [ADA_UID], "ada", opening_balance=240)
    store.add_member("Bob Babbage", [BOB_UID], "bob", opening_balance=60)
    store.add_member("<script>alert(1)</script>", [], "eve", opening_balance=5)
    profiles.update(store, "ada", {"email": pf.email("ada@example.org"),
                                   "phone": pf.phone("+44 20 7946 0018")})  # as checked on entry
    profiles.set_consent(store, "ada", "email", True, "kiosk", "kiosk-1")
    store.close()
    return web


@contextlib.contextmanager
def ledger(web) -> Iterator[LedgerStore]:  # noqa: F811
    """The test's own connection to the ledger the app serves, closed after the block."""
    store = LedgerStore(web.db)
    try:
        yield store
    finally:
        store.close()


def kiosk_lookup(web, kind: str, value: str) -> dict:  # noqa: F811
    """The kiosk's lookup, answered as `ledger serve` answers it."""
    with ledger(web) as store:
        return lookup(store, DefaultProgram(), {"v": 1, "token": {"kind": kind, "value": value}},
                      asker=KIOSK)


def search(page, web, text: str) -> None:  # noqa: F811
    page.goto(web.base_url + "/members")
    page.get_by_label("Search members").fill(text)
    page.get_by_role("button", name="Search").click()


@pytest.mark.parametrize("text", ["lovel", "ADA@EXAMPLE", "020 7946 0018", ADA_UID.lower(), "ada"])
def test_staff_find_a_member_by_name_email_phone_card_or_id(members, page, text):
    members.login(page, "staff")
    search(page, members, text)
    expect(page.get_by_role("link", name="ada", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Bob Babbage")).to_have_count(0)
    page.get_by_role("link", name="ada", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Ada Lovelace"))).to_be_visible()
    expect(page.locator("#balance")).to_have_text("240")


def test_staff_adjust_points_and_the_ledger_journal_and_audit_agree(members, page):
    members.login(page, "staff")
    page.goto(members.base_url + "/members/ada")
    assert_accessible(page)
    page.get_by_label("Points (a minus sign takes points)").fill("-40")
    page.locator("#adjust-reason").fill("returned a gift card")
    page.get_by_role("button", name="Adjust").click()
    expect(page.get_by_role("status")).to_contain_text("Balance now 200")
    expect(page.locator("#balance")).to_have_text("200")
    row = page.get_by_role("row").filter(has_text="returned a gift card")
    expect(row).to_contain_text("-40")
    expect(row).to_contain_text("sam")
    with ledger(members) as store:
        assert store.balance("ada") == 200
        entry = audit.entries(store.db, target="ada")[0]
        assert (entry.actor, entry.via, entry.action, entry.detail["points"]) == (
            "sam", "web", "points.adjust", -40)


@pytest.mark.parametrize("points, reason, says", [
    ("abc", "typo", "Points: “abc” is not a whole number."),
    ("0", "typo", "not 0"),
    ("99999999", "typo", "from -1000000 to 1000000"),
    ("10", "   ", "Reason: a reason must be 1 to"),
    ("-1000", "too much", "would make the balance negative"),
])
def test_a_wrong_adjustment_names_what_is_wrong_and_changes_nothing(members, points, reason, says):
    with ledger(members) as store:
        before = store.history("ada")
    client = members.client("staff")
    token = members.csrf(client, "/members/ada")
    answer = client.post("/members/ada/adjust",
                         data={"points": points, "reason": reason, "csrf_token": token})
    assert answer.status_code == 400 and says in answer.text
    with ledger(members) as store:
        assert store.balance("ada") == 240 and store.history("ada") == before


def test_staff_replace_a_lost_card_and_the_kiosk_follows(members, page):
    members.login(page, "staff")
    page.goto(members.base_url + "/members/ada")
    page.get_by_label("New card", exact=True).fill("MEMBER-0107")
    page.get_by_role("button", name="Replace the card").click()
    expect(page.get_by_role("status")).to_contain_text("is blocked")
    expect(page.get_by_text(re.compile("blocked .*: lost"))).to_be_visible()
    found = kiosk_lookup(members, "ndef", "MEMBER-0107")
    assert found["found"] and found["member"]["id"] == "ada" and found["balance"] == 240
    old = kiosk_lookup(members, "uid", ADA_UID)
    assert old["found"] is False and old["reason"].startswith("card_blocked")


def test_a_card_another_member_holds_is_refused_for_a_replacement(members):
    client = members.client("staff")
    answer = client.post("/members/ada/replace-card", data={
        "old_card": f"card:{ADA_UID}", "new_kind": "uid", "new_card": BOB_UID, "reason": "lost",
        "csrf_token": members.csrf(client, "/members/ada")})
    assert answer.status_code == 400 and "belongs to member bob" in answer.text
    assert kiosk_lookup(members, "uid", ADA_UID)["member"]["id"] == "ada"


def test_block_then_unblock_and_the_kiosk_says_so(members, page):
    members.login(page, "staff")
    page.goto(members.base_url + "/members/bob")
    page.locator("#block-reason").fill("card reported stolen")
    page.get_by_role("button", name="Block this member").click()
    expect(page.get_by_role("alert")).to_contain_text("Blocked since")
    assert kiosk_lookup(members, "uid", BOB_UID)["reason"].startswith("member_blocked")
    page.locator("#block-reason").fill("card found")
    page.get_by_role("button", name="Unblock this member").click()
    expect(page.get_by_role("status")).to_contain_text("no longer blocked")
    assert kiosk_lookup(members, "uid", BOB_UID)["found"] is True


def test_an_owner_merges_a_duplicate_and_the_sums_are_kept(members, page):
    members.login(page, "owner")
    page.goto(members.base_url + "/members/ada")
    page.get_by_label("Member id of the duplicate").fill("bob")
    page.locator("#merge-reason").fill("same person, two cards")
    page.get_by_label(re.compile("cannot be undone")).check()
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("status")).to_contain_text("Balance now 300")
    expect(page.locator("#balance")).to_have_text("300")
    assert kiosk_lookup(members, "uid", BOB_UID)["member"]["id"] == "ada"  # Bob's card, Ada now
    page.goto(members.base_url + "/members/bob")
    expect(page.get_by_role("link", name="ada")).to_be_visible()  # "Merged into ada"


def test_an_owner_forgets_a_member_and_keeps_the_points(members, page):
    members.login(page, "owner")
    page.goto(members.base_url + "/members/ada")
    page.get_by_label(re.compile("Erase name, contact")).check()
    page.get_by_role("button", name="Forget").click()
    expect(page.get_by_role("status").first).to_contain_text("personal data is erased")
    with ledger(members) as store:
        found = profiles.profile(store, "ada")
        assert found.name == "forgotten" and found.email is None and found.phone is None
        assert store.balance("ada") == 240


def test_staff_may_not_merge_or_forget(members, page):
    members.login(page, "staff")
    page.goto(members.base_url + "/members/ada")
    expect(page.get_by_role("button", name="Merge")).to_have_count(0)
    expect(page.get_by_role("button", name="Forget")).to_have_count(0)
    client = members.client("staff")
    token = members.csrf(client, "/members/ada")
    answer = client.post("/members/ada/forget", data={"confirm": "yes", "csrf_token": token})
    assert answer.status_code == 403
    merge = client.post("/members/ada/merge", data={
        "duplicate": "bob", "reason": "x", "confirm": "yes", "csrf_token": token})
    assert merge.status_code == 403
    with ledger(members) as store:
        assert profiles.profile(store, "ada").name == "Ada Lovelace"
        assert store.balance("bob") == 60


def test_the_members_data_downloads_as_the_cli_exports_it(members, page):
    members.login(page, "staff")
    page.goto(members.base_url + "/members/ada")
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the member's data (JSON)").click()
    data = json.loads(open(got.value.path(), encoding="utf-8").read())
    with ledger(members) as store:
        assert data == json.loads(json.dumps(profiles.export(store, "ada"), default=str))
        assert audit.entries(store.db, target="ada")[0].action == "member.export"
    assert data["member"]["balance"] == 240 and data["profile"]["email"] == "ada@example.org"


def test_a_name_holding_markup_is_shown_as_text(members, page):
    members.login(page, "staff")
    search(page, members, "script")
    expect(page.get_by_role("cell", name="<script>alert(1)</script>")).to_be_visible()
    page.goto(members.base_url + "/members/eve")
    expect(page.get_by_role("heading", name=re.compile("<script>"))).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "a'; DROP TABLE members; --"])
def test_sql_looking_searches_find_nobody_and_break_nothing(members, text):
    client = members.client("staff")
    answer = client.get("/members", params={"q": text})
    assert answer.status_code == 200 and "Nobody matches" in answer.text
    assert client.get("/members", params={"q": "ada"}).status_code == 200


def test_a_bad_search_or_member_says_what_is_wrong(members):
    client = members.client("staff")
    long = client.get("/members", params={"q": "x" * 500})
    assert long.status_code == 400 and "at most" in long.text
    assert client.get("/members/nobody-here").status_code == 404


def test_the_members_pages_refuse_visitors_technicians_and_forms_without_csrf(members):
    anonymous = members.client()
    for path in ("/members", "/members/ada"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    technician = members.client("technician")
    assert technician.get("/members/ada").status_code == 403
    assert technician.post("/members/ada/adjust", data={
        "points": "5", "reason": "x", "csrf_token": members.csrf(technician, "/fleet")
    }).status_code == 403
    staff = members.client("staff")
    refused = staff.post("/members/ada/adjust", data={"points": "5", "reason": "no token"})
    assert refused.status_code == 403
    with ledger(members) as store:
        assert store.balance("ada") == 240
