"""The kiosk's "scan to see your account" screen, driven event by event (tests/test_session.py's
Counter: fake clock, recording ports, a real outbox): after a join and on a long press of select,
the kiosk asks the ledger (contract v1.3 ``ask_link``) and draws the link it gets as a QR code that
zxing-cpp reads back; an older ledger is never asked, and nothing breaks; the link is not kept."""

import numpy as np
import pytest
import zxingcpp

from display import views as v
from display.screens import render
from kiosk import account_links
from kiosk import events as e
from mqtt import messages
from tests.qr_images import frame
from tests.test_session import Counter

LINK = "https://loyalty.example/me/km-1a2b3c4d.axBmiQ.GXIMltEcWrb_O81LwTaEyCJK1KY"
NEW_CARD = "04DEADBEEF0001"


@pytest.fixture
def counter(tmp_path):
    c = Counter(tmp_path)
    c.handle(e.LedgerCapabilities(16, (1, 3)))
    yield c
    c.outbox.close()


def link_asks(c):
    return [s for s in c.of_kind("lookup") if s.body.get("ask_link")]


def reply(c, request, link=LINK, found=True):
    body = {"v": 1, "found": found}
    if found:
        body |= {"member": {"id": "m-1a2b3c4d", "name": "Card ...0001", "tier": "member"},
                 "balance": 0}
        if link:
            body["account_link"] = link
    c.handle(e.LookupAnswered(request.correlation.decode(),
                              messages.validate("lookup_reply", body)))


def decoded(view) -> list[str]:
    """What a phone camera reads off the 128x64 panel: the frame enlarged (an OLED module is
    about 0.17 mm) onto a counter-like background, slightly blurred, read by zxing-cpp."""
    panel = render(view, (128, 64), "1").convert("L").resize((512, 256))
    grey = frame([(panel, (64, 112))], blur=0.8)
    return [r.text for r in zxingcpp.read_barcodes(np.asarray(grey))]


def join_without_basket(c):
    c.tap(NEW_CARD)
    c.answer(found=False)
    c.press("select")
    (op,) = c.queued()
    return op


def test_after_joining_the_screen_shows_the_ledgers_link_as_a_qr_code(counter):
    op = join_without_basket(counter)
    assert counter.screen == v.Enrolled() and not link_asks(counter), "asked only once joined"
    counter.ack(op["op_id"], member_id="m-1a2b3c4d", balance=0, tier="member")
    (ask,) = link_asks(counter)
    assert ask.body["token"]["value"] == NEW_CARD
    reply(counter, ask)
    assert counter.screen == v.AccountLink(LINK)
    assert decoded(counter.screen) == [LINK]
    counter.tick(account_links.SCREEN_S - 1)
    assert counter.screen == v.AccountLink(LINK), "long enough to take a phone out"
    counter.tick(2)
    assert isinstance(counter.screen, v.Idle)


def test_a_join_with_a_sale_shows_points_first_then_the_code(counter):
    counter.till("open", items=[("sandwich", 1, 650)])
    counter.tap(NEW_CARD)
    counter.answer(found=False)
    counter.press("select")
    counter.till("paid")
    (op,) = counter.queued()
    counter.ack(op["op_id"], member_id="m-1a2b3c4d", balance=6, tier="member", earned=6)
    reply(counter, link_asks(counter)[0])
    assert counter.screen.confirmed and counter.screen.earned == 6, "the points are read first"
    counter.tick(6.1)
    assert counter.screen == v.AccountLink(LINK)


def test_an_older_ledger_is_never_asked_and_the_join_goes_on(tmp_path):
    c = Counter(tmp_path)  # no capabilities message: a v1.0-v1.2 ledger
    op = join_without_basket(c)
    c.ack(op["op_id"], member_id="m-1a2b3c4d", balance=0, tier="member")
    c.batch_done()
    assert not link_asks(c) and not c.queued(), "acked and gone from the outbox as ever"
    assert not any(isinstance(s, v.AccountLink) for s in c.shown)
    c.handle(e.LedgerCapabilities(16, (1, 2)))
    c.tap("04A1B2C3D4E5F6")
    c.answer(balance=240)
    c.press("select", held=True)
    assert c.screen == v.ErrorMessage("No account page here") and not link_asks(c)


def test_a_ledger_without_a_web_address_answers_without_a_link_and_nothing_shows(counter):
    op = join_without_basket(counter)
    counter.ack(op["op_id"], member_id="m-1a2b3c4d", balance=0, tier="member")
    reply(counter, link_asks(counter)[0], link="")
    assert counter.screen == v.Enrolled()
    assert not any(isinstance(s, v.AccountLink) for s in counter.shown)


def test_a_late_ack_after_an_offline_spell_shows_nothing_to_the_next_person(counter):
    op = join_without_basket(counter)
    counter.tick(account_links.JOIN_WINDOW_S + 1)
    counter.ack(op["op_id"], member_id="m-1a2b3c4d", balance=0, tier="member")
    assert not link_asks(counter)


def test_a_member_asks_with_a_long_press_of_select_and_cancel_closes_it(counter):
    counter.tap("04A1B2C3D4E5F6")
    counter.answer(balance=240)
    counter.press("select", held=True)
    (ask,) = link_asks(counter)
    assert not counter.session.technician, "a member on screen: select held asks for the page"
    reply(counter, ask)
    assert counter.screen == v.AccountLink(LINK) and decoded(counter.screen) == [LINK]
    counter.press("cancel")
    assert isinstance(counter.screen, v.MemberRecognised), "the member stays attached"
    counter.press("cancel")
    counter.press("select", held=True)
    assert counter.session.technician, "nobody on screen: a hold is the technician's, as before"


def test_asking_offline_or_unanswered_says_so(tmp_path):
    c = Counter(tmp_path)
    c.handle(e.LedgerCapabilities(16, (1, 3)))
    c.tap("04A1B2C3D4E5F6")
    c.answer(balance=240)
    c.press("select", held=True)
    c.tick(0.5)  # lookup.timeout_ms is 400
    assert c.screen == v.ErrorMessage("Your account needs the network")
    c.link_up = False
    c.tick(10)
    c.press("select", held=True)
    assert c.screen == v.ErrorMessage("Your account needs the network")
    assert len(link_asks(c)) == 1


def test_the_link_is_not_kept_past_the_screen(counter, tmp_path):
    counter.till("open", items=[("sandwich", 1, 650)])
    counter.tap("04A1B2C3D4E5F6")
    counter.answer(balance=240)
    counter.press("select", held=True)
    reply(counter, link_asks(counter)[0])
    counter.press("cancel")
    counter.till("paid")
    counter.outbox.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.db*"))
    assert b"/me/" not in stored and LINK.encode() not in stored
    assert LINK not in repr(counter.session.screen.last_view), "the screen moved on"
    assert LINK not in repr(vars(counter.session.links))
