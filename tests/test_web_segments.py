"""/segments and /automations in a real browser (Playwright, Debian's chromium) and over httpx,
on SQLite and PostgreSQL: the owner sees every segment with its size, previews a rule segment
(the size the ledger's own segment function gives), saves it (audited), sees the offers that
target a segment, and exports audiences whose files are the CLI's to the byte; a bad definition
shows the parser's message beside its field. The owner turns an automation off and on, which
`ledger automations run` follows, and sees its preview and sends. Staff and technicians are
refused. axe-core on each page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect

from ledger import audit, profiles, segment_book
from ledger import segments as rules
from ledger.automations import runner, settings
from ledger.automations.plan import plan
from ledger.cli import main
from ledger.store import LedgerStore
from program.files import check_body
from program.segments import parse_segment
from tests.test_segments import paid
from tests.web_support import assert_accessible, web  # noqa: F401

PROGRAM = {
    "version": 2, "name": "Targeted", "currency": "EUR",
    "segments": [{"id": "regulars", "name": "Regulars", "all": [{"purchases": {"min": 2}}]}],
    "promotions": [{"id": "double", "name": "Double points today", "multiplier": 2,
                    "segments": ["regulars"]}],
    "rewards": [
        {"id": "coffee", "name": "Free coffee", "cost": 100, "kind": "amount_off",
         "amount_minor": 250},
        {"id": "cake", "name": "Cake on us", "cost": 50, "kind": "amount_off",
         "amount_minor": 420, "segments": ["potential", "regulars"]}],
    "automations": {"welcome": {"channels": ["webhook"]}},
}  # fmt: skip
BIG = '{"all": [{"amount": {"min": 1500}}]}'


@pytest.fixture
def shop(web):  # noqa: F811
    """Ada (two baskets, email and sms consent), Ben (one basket, email consent withdrawn), Cy
    (no basket, email consent); the program above; a segment "everyone" added by the CLI; one
    refresh."""
    store = LedgerStore(web.db)
    store.save_program(2, check_body(PROGRAM))
    now = dt.datetime.now(dt.UTC)
    for member_id, name, baskets in (("ada", "Ada Lovelace", 2), ("ben", "Ben Carl", 1),
                                     ("cy", "Cy", 0)):
        store.add_member(name, member_id=member_id, opening_balance=10)
        profiles.update(store, member_id, {"email": f"{member_id}@example.org",
                                           "phone": "+447700900001", "language": "de"})
        profiles.set_consent(store, member_id, "email", member_id != "ben", "kiosk", "v1")
        for n in range(baskets):
            paid(store, member_id, now - dt.timedelta(days=3 + n))
    profiles.set_consent(store, "ada", "sms", True, "kiosk", "v1")
    assert main(["segments", "add", "everyone", "--db", web.db,
                 "--rule", '{"all": [{"balance": {"min": 0}}]}']) == 0
    segment_book.refresh(store)
    yield store
    store.close()


def _row(page, table: str, first_cell: str):
    return page.get_by_role("table", name=table).get_by_role("row").filter(
        has=page.get_by_role("cell", name=first_cell, exact=True))


def test_owner_lists_previews_and_saves_a_segment(web, shop, page):  # noqa: F811
    web.login(page, "owner")
    page.get_by_role("link", name="Segments").click()
    expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
    expect(_row(page, "All segments", "regulars")).to_contain_text("program file")
    assert _row(page, "All segments", "regulars").get_by_role("cell").nth(3).inner_text() == "1"
    potential = str(len(segment_book.members(shop, "potential")))
    assert _row(page, "All segments", "potential").get_by_role("cell").nth(3).inner_text() == potential
    assert_accessible(page)

    page.get_by_label("Segment id").fill("big-spenders")
    page.get_by_label("Name shown (optional)").fill("Big spenders")
    page.get_by_label("Rule (JSON)").fill(BIG)
    page.get_by_role("button", name="Preview").click()
    body = {**json.loads(BIG), "id": "big-spenders"}
    expected = rules.members(shop, parse_segment(body).rule, dt.datetime.now(dt.UTC))
    assert expected == ["ada"]
    expect(page.get_by_role("status")).to_contain_text("1 member is in it now")
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("link", name="ada")).to_have_attribute("href", "/members/ada")
    assert segment_book.definitions(shop).get("big-spenders") is None  # a preview saves nothing
    assert_accessible(page)

    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("heading", name="Segment big-spenders")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Segment big-spenders is saved")
    assert segment_book.members(shop, "big-spenders") == expected
    [entry] = audit.entries(shop.db, target="segment:big-spenders")
    assert (entry.action, entry.actor, entry.via) == ("segment.add", "olga", "web")
    assert_accessible(page)
    saved = segment_book.definitions(shop)["big-spenders"]
    assert saved[0].name == "Big spenders" and saved[1] == "cli"

    page.goto(web.base_url + "/segments/regulars")
    offers = page.get_by_role("table", name="Offers for this segment")
    expect(offers.get_by_role("row").filter(has_text="double")).to_contain_text("promotion")
    expect(offers.get_by_role("row").filter(has_text="cake")).to_contain_text("potential, regulars")
    expect(page.get_by_role("table", name="Members").get_by_role("link")).to_have_text(["ada"])
    assert_accessible(page)
    page.goto(web.base_url + "/segments/champions")
    expect(page.get_by_text("No promotion or reward")).to_be_visible()
    expect(page.get_by_role("table", name="Size at each refresh")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(("rule", "field", "message"), [
    ('{"all": [{"purchases": {"min": -1}}]}', "Rule (JSON)",
     "segment (lapsed).all[0].purchases.min must be an integer >= 0, got -1"),
    ('{"all": [', "Rule (JSON)", "The rule is not JSON: Expecting value"),
    ('{"all": [{"bougth": {"skus": ["latte"]}}]}', "Rule (JSON)", "unknown criterion 'bougth'"),
])
def test_a_bad_definition_shows_the_parsers_message_by_its_field(web, shop, page, rule, field,  # noqa: F811
                                                                  message):
    web.login(page, "owner")
    page.goto(web.base_url + "/segments")
    page.get_by_label("Segment id").fill("lapsed")
    page.get_by_label("Rule (JSON)").fill(rule)
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_label(field)).to_have_accessible_description(re.compile(re.escape(message)))
    expect(page.get_by_label(field)).to_have_value(rule)  # kept to fix
    assert "lapsed" not in segment_book.definitions(shop)
    assert_accessible(page)


def test_a_bad_id_is_shown_by_the_id_field(web, shop):  # noqa: F811
    owner = web.client("owner")
    token = web.csrf(owner, "/segments")
    shown = owner.post("/segments", data={"segment_id": "regulars", "rule": BIG,
                                          "action": "preview", "csrf_token": token})
    assert shown.status_code == 200 and "saving it here is refused" in shown.text
    for segment_id, message in (
            ("champions", "&#39;champions&#39; is an RFM segment&#39;s name"),
            ("regulars", "segment regulars is defined by the program file; change it there"),
            ("Bad Id", "segment.id must be 1-32 of a-z 0-9 -")):
        answer = owner.post("/segments", data={"segment_id": segment_id, "rule": BIG,
                                               "action": "save", "csrf_token": token})
        assert answer.status_code == 400
        error = re.search(r'<p class="field-error" id="e-segment_id">([^<]*)</p>', answer.text)
        assert error and message in error.group(1), answer.text
    assert set(segment_book.definitions(shop)) == {"regulars", "everyone"}


EXPORTS = [("csv", None), ("csv", "email"), ("jsonl", "sms"), ("mailchimp", None),
           ("klaviyo", None), ("brevo", "email")]


def test_an_export_is_the_cli_export_and_is_audited(web, shop, capsys):  # noqa: F811
    owner = web.client("owner")
    token = web.csrf(owner, "/segments/everyone")
    for fmt, consent in EXPORTS:
        answer = owner.post("/segments/everyone/export", data={
            "format": fmt, "consent": consent or "", "csrf_token": token})
        assert answer.status_code == 200, answer.text
        assert "attachment" in answer.headers["content-disposition"]
        capsys.readouterr()
        assert main(["segments", "export", "everyone", "--db", web.db, "--format", fmt,
                     *(["--consent", consent] if consent else [])]) == 0
        cli = capsys.readouterr().out
        assert answer.text == cli and "ada" in cli, (fmt, consent, cli)  # a member, not a header only
    assert "Ben" not in owner.post("/segments/everyone/export", data={
        "format": "mailchimp", "csrf_token": token}).text  # his email consent was withdrawn
    exports = [e for e in audit.entries(shop.db, target="segment:everyone")
               if e.action == "segment.export"]
    assert [(e.via, e.actor, e.detail["format"]) for e in exports if e.via == "web"] == [
        ("web", "olga", f) for f in ["mailchimp", *(f for f, _ in reversed(EXPORTS))]]
    assert [e.detail["format"] for e in exports if e.via == "cli"] == [
        f for f, _ in reversed(EXPORTS)]  # `ledger segments export` is in the log too
    logged = len(audit.entries(shop.db))
    for data, status in (({"format": "mailchimp", "consent": "sms"}, 400),
                         ({"format": "xlsx"}, 400), ({"format": "csv", "consent": "fax"}, 400)):
        answer = owner.post("/segments/everyone/export", data={**data, "csrf_token": token})
        assert answer.status_code == status and "Nothing was exported" in answer.text
    assert owner.post("/segments/nope/export", data={"format": "csv", "csrf_token": token}
                      ).status_code == 404
    assert owner.post("/segments/everyone/export", data={"format": "csv"}).status_code == 403
    assert len(audit.entries(shop.db)) == logged


def test_owner_removes_a_segment_added_here_or_by_the_cli(web, shop):  # noqa: F811
    owner = web.client("owner")
    token = web.csrf(owner, "/segments/everyone")
    assert 'action="/segments/everyone/remove"' in owner.get("/segments/everyone").text
    assert "/remove" not in owner.get("/segments/regulars").text  # the program file's
    for name, status, said in (("regulars", 400, "defined in the program file"),
                               ("champions", 400, "RFM segments the ledger computes"),
                               ("nope", 404, "There is no segment")):
        answer = owner.post(f"/segments/{name}/remove", data={"csrf_token": token})
        assert answer.status_code == status and said in answer.text, (name, answer.text)
    assert owner.post("/segments/everyone/remove", data={}).status_code == 403  # no CSRF token
    assert set(segment_book.definitions(shop)) == {"regulars", "everyone"}
    assert not [e for e in audit.entries(shop.db) if e.action == "segment.remove"]

    removed = owner.post("/segments/everyone/remove", data={"csrf_token": token})
    assert removed.status_code == 303 and removed.headers["location"] == "/segments"
    assert "Segment everyone is removed." in owner.get("/segments").text
    assert owner.get("/segments/everyone").status_code == 404
    assert set(segment_book.definitions(shop)) == {"regulars"}
    assert [(e.action, e.actor, e.via) for e in audit.entries(shop.db, target="segment:everyone")
            if e.action == "segment.remove"] == [("segment.remove", "olga", "web")]

    assert main(["segments", "add", "again", "--db", web.db, "--rule", BIG]) == 0
    assert main(["segments", "remove", "again", "--db", web.db]) == 0
    assert [(e.action, e.via) for e in audit.entries(shop.db, target="segment:again")] == [
        ("segment.remove", "cli"), ("segment.add", "cli")]


@pytest.mark.parametrize("role", ["staff", "technician"])
def test_other_roles_are_refused(web, shop, role):  # noqa: F811
    client = web.client(role)
    token = web.csrf(client, "/")
    for path in ("/segments", "/segments/regulars", "/automations", "/automations/welcome"):
        answer = client.get(path)
        assert answer.status_code == 403 and "This page is for owner accounts" in answer.text
    for path, data in (("/segments", {"segment_id": "x", "rule": BIG, "action": "save"}),
                       ("/segments/everyone/export", {"format": "csv"}),
                       ("/segments/everyone/remove", {}),
                       ("/automations/welcome/disable", {})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert "Segments" not in client.get("/").text
    assert set(segment_book.definitions(shop)) == {"regulars", "everyone"}
    assert settings.switches(shop) == {}


def _run_welcome(store: LedgerStore) -> dict:
    program, found = settings.active(store)
    outcome = runner.run(store, program, found, dt.datetime.now(dt.UTC), only="welcome")
    return {name: dict(counts) for name, counts in outcome.counts.items()}


def test_owner_switches_an_automation_and_sees_its_preview_and_sends(web, shop, page):  # noqa: F811
    web.login(page, "owner")
    page.get_by_role("link", name="Automations").click()
    expect(_row(page, "Automations", "Welcome")).to_contain_text("on")
    assert_accessible(page)
    page.get_by_role("button", name="Turn Welcome off").click()
    expect(page.get_by_role("status").first).to_contain_text("Welcome is off")
    assert _run_welcome(shop) == {}  # `ledger automations run` skips it now

    program, found = settings.active(shop)
    due = [i for i in plan(shop, program, found["welcome"], dt.datetime.now(dt.UTC))
           if i.channels]
    assert len(due) == 3
    expect(page.get_by_text("3 members would get it")).to_be_visible()
    preview = page.get_by_role("table", name="Preview: who would get it now")
    expect(preview.get_by_role("link")).to_have_text(["ada", "ben", "cy"])
    assert_accessible(page)

    page.get_by_role("button", name="Turn Welcome on").click()
    expect(page.get_by_role("status").first).to_contain_text("Welcome is on")
    assert _run_welcome(shop) == {"welcome": {"sent": 3}}
    page.reload()
    sends = page.get_by_role("table", name="Recent sends")
    expect(sends.get_by_role("row").filter(has_text="sent")).to_have_count(3)
    expect(page.get_by_text("Not sent, sent already: 3")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Welcome: follow the program file").click()
    expect(page.get_by_role("status").first).to_contain_text("as the program file says")
    assert settings.switches(shop) == {}
    entries = audit.entries(shop.db, target="welcome")
    assert [(e.action, e.actor, e.via) for e in entries] == [
        (a, "olga", "web") for a in ("automation.reset", "automation.enable",
                                     "automation.disable")]
