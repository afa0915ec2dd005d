"""/webhooks in a real browser (Playwright, Debian's chromium) on SQLite and PostgreSQL: the owner
adds an endpoint and sees its secret once, a delivery that failed at a real receiver shows its
state and error, the retry button sends it again (verified there with the secret the page
showed), rotate, disable with a reason, enable; every change audited as the web user; axe-core
on each state of the page. Without its CSRF token, as staff, or with bad input: refused, nothing
changed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ledger import audit, webhook_queue, webhooks
from ledger.store import LedgerStore
from ledger.webhook_runner import Runner
from tests.web_support import assert_accessible, web  # noqa: F401
from tests.webhook_receiver import Receiver


def run_once(db: str) -> None:
    store = LedgerStore(db)
    runner = Runner(store, timeout=5)
    try:
        runner.step()
    finally:
        runner.close()
        store.close()


def test_owner_adds_an_endpoint_sees_a_failure_and_retries_it(web, page):  # noqa: F811
    with Receiver() as receiver:
        web.login(page, "owner")
        page.goto(web.base_url + "/webhooks")
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        assert_accessible(page)
        page.get_by_label("URL (http:// or https://)").fill(receiver.url + "/crm")
        page.get_by_label("member.created").check()
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.get_by_label("Secret", exact=True).input_value()
        assert secret.startswith("whsec_")
        assert_accessible(page)
        page.goto(web.base_url + "/webhooks")
        expect(page.get_by_label("Secret", exact=True)).to_have_count(0)  # shown once only
        assert secret not in page.content()

        store = LedgerStore(web.db)
        store.add_member("Ada")
        store.adjust(store.members()[0].member_id, 5, "goodwill", "olga")  # filtered out
        receiver.script = [500]
        run_once(web.db)
        page.reload()
        deliveries = page.get_by_role("table", name="Recent deliveries")
        row = deliveries.get_by_role("row").filter(has_text="member.created")
        expect(row).to_contain_text("pending")
        expect(row).to_contain_text("500 HTTP 500 Internal Server Error")
        assert_accessible(page)
        row.get_by_role("button", name=re.compile("Retry delivery")).click()
        expect(page.get_by_role("status")).to_contain_text("queued again")
        run_once(web.db)
        page.reload()
        expect(deliveries.get_by_role("row").filter(has_text="member.created")).to_contain_text(
            "delivered")
        assert [r.verified(secret)["type"] for r in receiver.requests] == ["member.created"] * 2

        [endpoint] = webhooks.endpoints(store)
        page.get_by_role("button", name=f"Rotate the secret of {endpoint.endpoint_id}").click()
        rotated = page.get_by_label("Secret", exact=True).input_value()
        assert rotated.startswith("whsec_") and rotated != secret
        page.get_by_label("Reason").fill("CRM moving")
        page.get_by_role("button", name=f"Disable {endpoint.endpoint_id}").click()
        expect(page.get_by_role("cell", name="disabled: CRM moving")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name=f"Enable {endpoint.endpoint_id}").click()
        expect(page.get_by_role("cell", name="enabled", exact=True)).to_be_visible()
        entries = audit.entries(store.db, target=endpoint.endpoint_id)
        assert [(e.action, e.actor, e.via) for e in entries] == [
            (a, "olga", "web") for a in ("webhook.enable", "webhook.disable", "webhook.rotate",
                                         "webhook.retry", "webhook.add")]
        store.close()


def test_refused_without_csrf_as_staff_and_with_bad_input(web):  # noqa: F811
    owner, staff = web.client("owner"), web.client("staff")
    token = web.csrf(owner, "/webhooks")
    assert owner.post("/webhooks", data={"url": "http://127.0.0.1:9/"}).status_code == 403
    assert staff.get("/webhooks").status_code == 403
    staff_token = web.csrf(staff, "/")
    assert staff.post("/webhooks", data={"url": "http://127.0.0.1:9/",
                                         "csrf_token": staff_token}).status_code == 403
    bad = owner.post("/webhooks", data={"url": "ftp://example.org/", "csrf_token": token})
    assert bad.status_code == 400 and "only http:// and https://" in bad.text
    bad = owner.post("/webhooks", data={"url": "http://example.org/", "events": "points.earnd",
                                        "csrf_token": token})
    assert bad.status_code == 400 and "unknown event type" in bad.text
    hostile = "http://example.org/<script>alert(1)</script>"
    shown = owner.post("/webhooks", data={"url": hostile, "csrf_token": token})
    assert "<script>alert(1)</script>" not in shown.text
    assert owner.get("/webhooks?state=lost").status_code == 400
    assert owner.get("/webhooks?endpoint=x' OR 1=1").status_code == 400
    for path in ("/webhooks/endpoints/ep_0123456789abcdef/rotate",
                 "/webhooks/endpoints/nope/disable", "/webhooks/deliveries/99/retry",
                 "/webhooks/deliveries/99999999999999999999/retry"):
        assert owner.post(path, data={"csrf_token": token}).status_code == 404, path
    store = LedgerStore(web.db)
    try:
        kept = [e.url for e in webhooks.endpoints(store)]
        assert kept in ([], [hostile]) and webhook_queue.deliveries(store) == []
        assert not any(e.action.startswith("webhook.") and e.actor == "sam"
                       for e in audit.entries(store.db))
    finally:
        store.close()
