"""The owner's dashboard: its charts are SVG images that headless chromium shows under the app's
CSP, each beside a table of the same figures; the figures are cached, yet a new op is on the
next page; the charts are for owners only. SQLite and PostgreSQL, through the real app and the
ledger's real apply path (ledger.apply.apply_op)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

import pytest
from playwright.sync_api import expect

from ledger import data_version, segment_book
from ledger.store import LedgerStore
from ledger.web.figures import FigureCache
from mqtt.timestamps import iso
from program.files import check_body, program_from_body
from tests.report_data import PROGRAM, _apply
from tests.web_support import assert_accessible, web  # noqa: F401

CHARTS = ("baskets", "points", "tiers", "segments", "kiosks")


def sell(store: LedgerStore, kiosk: str, card: str | None = None, total: int = 1200) -> None:
    """A basket paid now at ``kiosk`` of store s1, with the member of ``card`` or none."""
    op = {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "basket",
          "basket_id": f"b-{uuid.uuid4().hex[:10]}", "lane": "l1", "currency": "EUR",
          "total_minor": total, "items": [], "created_at": iso(dt.datetime.now(dt.UTC).timestamp()),
          "clock_synced": True, "program_version": 1}
    if card is not None:
        op.update(kind="sale", redeem=[], token={"kind": "uid", "value": card, "verified": False})
    _apply(store, program_from_body(check_body(PROGRAM)), op, ("s1", kiosk))


@pytest.fixture
def shop(web):  # noqa: F811
    """A program, two members, three baskets today at two kiosks, one segment refresh."""
    store = LedgerStore(web.db)
    store.save_program(1, PROGRAM)
    store.add_member("Ana", ["04A0000000000001"], "m-ana")
    store.add_member("Ben", ["04B0000000000002"], "m-ben")
    sell(store, "k1", "04A0000000000001")
    sell(store, "k1")
    sell(store, "k2", "04B0000000000002", 3000)
    segment_book.refresh(store)
    store.close()
    return web


def today_query() -> str:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return f"from={today}&to={today}"


def cell(page: str, row: str) -> list[str]:
    found = re.search(rf'<th scope="row">{re.escape(row)}</th>((?:<td>[^<]*</td>)+)', page)
    assert found, f"no row {row!r}"
    return re.findall(r"<td>([^<]*)</td>", found.group(1))


def test_the_charts_show_in_chromium_under_the_csp_beside_their_tables(shop, page):
    shop.login(page, "owner")
    page.goto(f"{shop.base_url}/?{today_query()}")
    images = page.locator("figure.chart img")
    expect(images).to_have_count(len(CHARTS))
    for n in range(len(CHARTS)):
        image = images.nth(n)
        expect(image).to_have_attribute("alt", re.compile(r"chart of .+ table"))
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") > 0, image.get_attribute("src")
    expect(page.get_by_role("rowheader", name="k1")).to_be_visible()  # the kiosk table
    expect(page.get_by_role("rowheader", name="new", exact=True)).to_be_visible()  # segments
    page.get_by_text("The trend as a table").click()
    expect(page.get_by_role("table").filter(has_text="Points issued").last).to_be_visible()
    assert_accessible(page)


def test_a_chart_is_an_svg_answer_with_the_figures_in_it(shop):
    client = shop.client("owner")
    answer = client.get(f"/charts/kiosks.svg?{today_query()}&store=s1")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.text.startswith("<svg") and "<script" not in answer.text
    assert "k1" in answer.text and "k2" in answer.text
    assert client.get("/charts/nothing.svg").status_code == 404
    assert client.get("/charts/tiers.svg?from=2026-13-01").status_code == 400


def test_a_new_op_changes_the_figures_and_charts_shown(shop):
    client = shop.client("owner")
    before = client.get(f"/?{today_query()}").text
    assert cell(before, "Paid baskets")[0] == "3"
    assert cell(before, "k2")[:2] == ["1", "1"]
    assert "k3" not in client.get(f"/charts/kiosks.svg?{today_query()}").text
    assert client.get(f"/?{today_query()}").text == before  # unchanged data, same page
    store = LedgerStore(shop.db)
    sell(store, "k3", "04A0000000000001", 500)
    store.close()
    after = client.get(f"/?{today_query()}").text
    assert cell(after, "Paid baskets")[0] == "4"
    assert cell(after, "k3")[:2] == ["1", "1"]
    assert int(cell(after, "Points issued")[0]) == int(cell(before, "Points issued")[0]) + 5
    assert "k3" in client.get(f"/charts/kiosks.svg?{today_query()}").text


@pytest.mark.parametrize("role", ["staff", "technician"])
def test_charts_are_for_owners_only(web, role):  # noqa: F811
    answer = web.client(role).get("/charts/tiers.svg")
    assert answer.status_code == 403 and f"you are logged in as {role}" in answer.text


def test_the_data_version_changes_with_every_kind_of_write_a_figure_reads(ledger_db):
    store = LedgerStore(ledger_db)
    seen = [data_version.current(store)]
    for write in (lambda: store.save_program(1, PROGRAM),
                  lambda: store.add_member("Ana", ["04A0000000000001"], "m-ana"),
                  lambda: sell(store, "k1"),  # no member: a basket and nothing else
                  lambda: sell(store, "k1", "04A0000000000001"),
                  lambda: segment_book.refresh(store)):
        write()
        seen.append(data_version.current(store))
        assert seen[-1] != seen[-2], write
    assert data_version.current(store) == seen[-1]  # reading changes nothing
    store.close()


def test_the_cache_is_bounded_rebuilds_on_a_new_version_and_builds_once_for_many():
    cache = FigureCache(size=2)
    assert cache.get("a", (1,), lambda: "a1") == "a1"
    assert cache.get("a", (1,), lambda: "again") == "a1"
    assert cache.get("a", (2,), lambda: "a2") == "a2"  # the data changed
    cache.get("b", (1,), lambda: "b1")
    cache.get("c", (1,), lambda: "c1")  # a, least recently used, is dropped
    assert cache.get("a", (2,), lambda: "a2 again") == "a2 again"
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(30)
        return "d1"

    first = threading.Thread(target=cache.get, args=("d", (1,), slow))
    first.start()
    started.wait(30)
    others = [threading.Thread(target=cache.get, args=("d", (1,), lambda: "d twice"))
              for _ in range(5)]
    for t in others:
        t.start()
    release.set()
    for t in (first, *others):
        t.join(30)
    assert cache.get("d", (1,), lambda: "d twice") == "d1"
    assert cache.builds == 6  # a1, a2, b1, c1, a2 again, d1 once: the waiters reused it
