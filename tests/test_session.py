"""The session state machine driven event by event: a fake clock, recording ports, a real outbox.

No broker and no threads: each test plays what the readers, buttons, POS and ledger would send
and checks what the customer sees, what the POS and the ledger receive and what is on disk.
The transitions are the ones the shipped scenarios (tests/scenarios/*.txt) play end to end.
"""

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass

import pytest

from display import views as v
from drivers.base import (
    ButtonPressed,
    CardDetected,
    CardRemoved,
    ReaderHealth,
    ReadFailed,
    Token,
    TokenRead,
)
from kiosk import events as e
from kiosk.config import validate
from kiosk.outbox import Outbox
from kiosk.session import Ports, Session
from mqtt import messages, timestamps, topics
from program.engine import DefaultProgram

CARD = "04A1B2C3D4E5F6"
START_WALL = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    """Monotonic and wall time that move only when the test says so."""

    def __init__(self) -> None:
        self.mono = 500.0
        self.wall = START_WALL

    def monotonic(self) -> float:
        return self.mono

    def now_iso(self) -> str:
        return timestamps.iso(self.wall)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


@dataclass
class Sent:
    topic: str
    body: dict
    retain: bool
    response_topic: str | None
    correlation: bytes | None


class Counter:
    """One kiosk at a counter: the session, its ports, the lane's till and the ledger's replies."""

    def __init__(self, tmp_path, online: bool = True, **sections) -> None:
        self.clock = FakeClock()
        self.sent: list[Sent] = []
        self.shown: list[v.View] = []
        self.signals: list[str] = []
        self.link_up = online  # the ledger is reachable (Ports.online)
        self.broker_up = True  # the store broker the POS shares takes messages (Ports.publish)
        data = {"kiosk": {"store": "store-1", "lane": "lane-1", "id": "kiosk-1"},
                "outbox": {"path": str(tmp_path / "outbox.db")}}
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        self.cfg = validate(data, "<test>")
        self.outbox = Outbox(self.cfg["outbox"]["path"], self.cfg["outbox"]["max_ops"])
        self.session = self.new_session()
        self.basket: dict | None = None

    def new_session(self, program=None) -> Session:
        ports = Ports(publish=self._publish, show=self.shown.append, signal=self.signals.append,
                      online=lambda: self.link_up, clock_synced=lambda: True,
                      link_state=lambda: "online" if self.link_up else "broker offline",
                      monotonic=self.clock.monotonic, now_iso=self.clock.now_iso)
        return Session(self.cfg, self.outbox, ports, program)

    def _publish(self, topic, payload, qos=1, retain=False, response_topic=None,
                 correlation=None) -> bool:
        if self.broker_up:
            self.sent.append(Sent(topic, json.loads(payload), retain, response_topic, correlation))
        return self.broker_up

    # -- what happens at the counter -------------------------------------------------------
    def handle(self, event) -> None:
        self.session.handle(event)

    def tap(self, card: str = CARD, kind: str = "uid", verified: bool = False) -> None:
        self.handle(CardDetected("sim"))
        self.handle(TokenRead(Token(kind, card, "sim", verified=verified)))

    def press(self, button: str, held: bool = False) -> None:
        self.handle(ButtonPressed(button, held))

    def till(self, status: str, items=(("coffee", 2, 350), ("cake", 1, 420)),
             basket_id: str = "b-1", discount: int = 0, discounts: dict | None = None) -> None:
        """The POS publishes the basket: open starts a new one, every change raises seq.
        ``discounts`` (reward_id -> minor units) are the redemptions the POS applied and carries."""
        if status == "open" or self.basket is None:
            lines = [{"sku": s, "qty": q, "unit_minor": u} for s, q, u in items]
            self.basket = {"v": 1, "basket_id": basket_id, "seq": 0, "status": "open",
                           "currency": "EUR", "items": lines,
                           "total_minor": sum(i["qty"] * i["unit_minor"] for i in lines)}
        b = self.basket
        if discounts:
            b["discounts"] = [{"reward_id": r, "discount_minor": m} for r, m in discounts.items()]
            discount += sum(discounts.values())
        b.update(status=status, seq=b["seq"] + 1, total_minor=b["total_minor"] - discount)
        self.handle(e.BasketUpdate(messages.validate("basket", dict(b))))

    def answer(self, found: bool = True, member_id: str = "m-ada", name: str = "Ada",
               balance: int = 240, reason: str = "") -> None:
        """The ledger answers the last lookup request."""
        request = self.of_kind("lookup")[-1]
        reply = {"v": 1, "found": found} | ({"reason": reason} if reason else {})
        if found:
            reply |= {"member": {"id": member_id, "name": name, "tier": "member"},
                      "balance": balance}
        self.handle(e.LookupAnswered(request.correlation.decode(),
                                     messages.validate("lookup_reply", reply)))

    def ack(self, op_id: str, status: str = "applied", **fields) -> None:
        msg = messages.validate("ack", {"v": 1, "op_id": op_id, "status": status, **fields})
        self.handle(e.AckReceived(msg))

    def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.handle(e.Tick(self.clock.mono))

    def batch_done(self) -> None:
        self.session.after_batch(self.clock.mono)

    # -- what the test looks at --------------------------------------------------------------
    @property
    def screen(self) -> v.View:
        return self.shown[-1]

    def of_kind(self, kind: str) -> list[Sent]:
        """Messages sent on topics ending in ``kind`` (member, redemption, lookup, ops, status)."""
        return [s for s in self.sent if s.topic.rsplit("/", 1)[-1] == kind]

    def queued(self) -> list[dict]:
        return [p.body for p in self.outbox.pending()]


@pytest.fixture
def counter(tmp_path):
    c = Counter(tmp_path)
    yield c
    c.outbox.close()


# -- taps and lookups ---------------------------------------------------------------------------
def test_tap_online_asks_the_ledger_and_shows_the_card_until_it_answers(counter):
    counter.tap()
    assert isinstance(counter.shown[0], v.Reading) and counter.signals[0] == "reading"
    (req,) = counter.of_kind("lookup")
    assert req.topic == topics.lookup("store-1", "kiosk-1") and req.body["token"] == {"kind": "uid", "value": CARD,
                                                                "verified": False}
    assert req.response_topic == topics.lookup_reply("store-1", "kiosk-1") and req.correlation
    assert counter.screen == v.MemberRecognised("Card ...E5F6", 0, "member", balance_is_cached=True,
                                                rewards=(v.RewardChoice("coffee", "Free coffee",
                                                                        100, False),),
                                                unverified=True)
    counter.answer(balance=240)
    assert counter.screen.name == "Ada" and counter.screen.balance == 240
    assert not counter.screen.balance_is_cached and counter.screen.rewards[0].affordable


def test_unknown_card_is_offered_enrolment(counter):
    counter.tap()
    counter.answer(found=False)
    assert counter.screen == v.EnrolOffer()


@pytest.mark.parametrize("reason", ["card_blocked: card blocked on 2026-12-02; ask staff",
                                    "member_blocked: member blocked since 2026-12-02; ask staff"])
def test_a_blocked_card_says_so_and_offers_no_joining(counter, reason):
    counter.tap()
    counter.answer(balance=240)
    counter.press("cancel")
    counter.tap()  # the same card, its member cached: shown at once, then the ledger refuses
    assert counter.screen.name == "Ada"
    counter.answer(found=False, reason=reason)
    assert counter.screen == v.ErrorMessage("Card blocked: ask staff")
    assert counter.signals[-1] == "error" and counter.session.customer is None
    counter.tick(30)
    assert counter.screen != v.EnrolOffer()
    counter.link_up = False
    counter.tap()  # offline now: the member is no longer cached, so no balance is shown
    assert counter.screen == v.EnrolOffer()


def test_lookup_timeout_refreshes_with_the_figure_marked_cached(counter):
    counter.tap()
    frames = len(counter.shown)
    counter.tick(0.39)  # lookup.timeout_ms is 400
    assert len(counter.shown) == frames, "nothing changes before the deadline"
    counter.tick(0.02)
    assert len(counter.shown) == frames + 1 and counter.screen.balance_is_cached
    counter.tick(1.0)
    assert len(counter.shown) == frames + 1, "the deadline fires once"
    counter.answer(balance=7)  # a late answer still replaces the preview
    assert counter.screen.balance == 7 and not counter.screen.balance_is_cached


def test_an_answer_for_a_customer_who_left_is_ignored(counter):
    counter.tap()
    counter.press("cancel")
    assert isinstance(counter.screen, v.Idle)
    counter.answer(balance=999)
    assert isinstance(counter.screen, v.Idle) and counter.session.balances.cached("uid:" + CARD) is None


def test_cache_hit_shows_the_ledger_figure_at_once_even_offline(counter):
    counter.tap()
    counter.answer(balance=240)
    counter.press("cancel")
    counter.link_up = False
    counter.tap()
    assert counter.screen.name == "Ada" and counter.screen.balance == 240
    assert counter.screen.balance_is_cached, "not confirmed by the ledger this time"
    assert len(counter.of_kind("lookup")) == 1, "no lookup offline"


def test_cache_keeps_the_most_recently_answered_members(tmp_path):
    c = Counter(tmp_path, lookup={"cache_size": 2})
    for n, card in enumerate(("04AA", "04BB", "04CC")):
        c.tap(card)
        c.answer(member_id=f"m-{n}", name=f"N{n}", balance=n)
    c.link_up = False
    c.tap("04AA")
    assert c.screen == v.EnrolOffer(), "the oldest answer was dropped: an unknown card again"
    c.tap("04CC")
    assert c.screen.name == "N2"


def test_unverified_uid_is_refused_when_the_program_says_so(counter):
    counter.session = counter.new_session(DefaultProgram(allow_unverified_uid=False))
    counter.tap()
    assert counter.screen == v.ErrorMessage("This card is not accepted")
    assert counter.signals[-1] == "error" and not counter.of_kind("lookup")


# -- baskets: attach, pay, void ---------------------------------------------------------------------
def test_the_pos_is_told_who_pays_with_the_projected_earn(counter):
    counter.till("open")
    assert counter.screen == v.BasketTotal(1120, "EUR", 11)
    counter.tap()
    counter.answer(balance=240)
    member = counter.of_kind("member")[-1]
    assert member.topic == topics.member("store-1", "lane-1")
    assert member.body["member"]["id"] == "m-ada" and member.body["balance"] == 240
    assert member.body["projected_earn"] == 11 and not member.body["balance_is_cached"]
    assert counter.outbox.load_attachment("b-1")["value"] == CARD


def test_paid_writes_one_op_and_tells_the_customer(counter):
    counter.till("open")
    counter.tap()
    counter.answer(balance=240)
    counter.till("total")
    counter.till("paid")
    (op,) = counter.queued()
    assert op["kind"] == "sale" and op["earn"] == 11 and op["redeem"] == []
    assert op["member_id"] == "m-ada" and op["token"]["value"] == CARD
    assert op["created_at"] == "2026-01-01T00:00:00.000+00:00" and op["offline"] is False
    assert counter.screen == v.PointsAdded(11, 0, 251) and counter.signals[-1] == "ok"
    assert counter.outbox.is_settled("b-1")
    counter.batch_done()
    (sent,) = counter.of_kind("ops")
    assert sent.body["op_id"] == op["op_id"] and sent.body["kiosk_seq"] == 1


def test_a_paid_basket_seen_again_makes_no_second_op(counter):
    counter.till("open")
    counter.tap()
    counter.till("paid")
    counter.session = counter.new_session()  # a restart: the broker hands back the retained basket
    counter.handle(e.BasketUpdate(dict(counter.basket)))
    assert len(counter.queued()) == 1


def test_stale_basket_updates_are_ignored(counter):
    counter.till("open")
    counter.tap()
    old = dict(counter.basket, status="void", seq=0)
    counter.handle(e.BasketUpdate(old))
    assert counter.session.customer is not None and not counter.outbox.is_settled("b-1")


def test_attachment_survives_a_restart(counter):
    counter.till("open")
    counter.tap()
    counter.answer(balance=240)
    counter.session = counter.new_session()
    counter.till("paid")
    (op,) = counter.queued()
    assert op["member_id"] == "m-ada" and op["earn"] == 11


def test_a_new_basket_after_a_total_means_the_last_customer_has_gone(counter):
    counter.till("open")
    counter.tap()
    counter.till("total")
    counter.till("open", basket_id="b-2")  # the rule for a basket never totalled: test_pos_notices
    counter.till("paid", basket_id="b-2")
    (op,) = counter.queued()  # the basket is reported, with no member and no points
    assert op["kind"] == "basket" and "token" not in op and counter.outbox.is_settled("b-2")


def test_a_paid_basket_without_a_member_is_queued_once_as_a_basket_op(counter):
    counter.till("open", items=[("coffee", 2, 350)])
    counter.till("paid")
    counter.till("paid")  # the POS publishes the paid basket again (retained, a restart)
    (op,) = counter.queued()
    assert (op["kind"], op["basket_id"], op["lane"], op["currency"], op["total_minor"]) == (
        "basket", "b-1", "lane-1", "EUR", 700)
    assert op["items"] == [{"sku": "coffee", "qty": 2, "unit_minor": 350}]
    assert "earn" not in op and "member_id" not in op
    counter.batch_done()
    (sent,) = counter.of_kind("ops")
    assert sent.body["op_id"] == op["op_id"] and messages.validate("op", sent.body)
    counter.ack(op["op_id"])
    counter.batch_done()
    assert counter.queued() == [] and isinstance(counter.screen, v.Idle)


def test_a_basket_op_that_finds_the_queue_full_still_settles_the_basket(counter):
    counter.outbox.max_ops = counter.outbox.depth()  # full
    counter.till("open")
    counter.till("paid")
    assert counter.queued() == [] and counter.outbox.is_settled("b-1")


def test_void_releases_the_held_reward_and_writes_no_op(counter):
    counter.till("open", items=[("coffee", 1, 350)])
    counter.tap()
    counter.answer(balance=250)
    counter.press("next")
    counter.press("select")
    counter.till("void")
    assert counter.queued() == [] and counter.outbox.is_settled("b-1")
    assert counter.session.customer is None and isinstance(counter.screen, v.RewardHeld)
    assert [s.body["action"] for s in counter.of_kind("redemption")] == ["apply"]


# -- rewards ----------------------------------------------------------------------------------------------
def test_redeem_a_reward_then_pay(counter):
    counter.till("open", items=[("coffee", 4, 350)])
    counter.tap()
    counter.answer(name="Bo", balance=250)
    counter.press("next")
    assert counter.screen.selected == 0
    counter.press("select")
    (apply,) = counter.of_kind("redemption")
    assert apply.body == {"v": 1, "basket_id": "b-1", "reward_id": "coffee", "action": "apply",
                          "points": 100, "discount_minor": 250, "currency": "EUR"}
    assert counter.screen == v.RewardHeld("Free coffee", 100, 150)
    assert counter.signals[-1] == "reward" and counter.of_kind("member")[-1].body["balance"] == 150
    counter.till("paid", discounts={"coffee": 250})  # the POS took 2.50 off: 11.50 EUR
    (op,) = counter.queued()
    assert op["earn"] == 11 and op["redeem"] == [{"reward_id": "coffee", "points": 100}]
    # The reward counts once, in the op's pending points (11 - 100): 250 - 89 = 161, as the
    # ledger will say (main said 61: it also subtracted the reward as still held).
    assert counter.screen == v.PointsAdded(11, 100, 161) and counter.signals[-1] == "reward"


def test_cancel_releases_a_held_reward_then_detaches(counter):
    counter.till("open")
    counter.tap()
    counter.answer(balance=250)
    counter.press("next")
    counter.press("select")
    counter.press("cancel")
    assert counter.of_kind("redemption")[-1].body["action"] == "cancel"
    assert counter.screen.balance == 250 and counter.session.customer.held == []
    counter.press("cancel")
    assert counter.session.customer is None
    assert isinstance(counter.screen, v.MemberRecognised), "the confirmation's time is not up"
    counter.tick(6.0)
    assert counter.screen == v.BasketTotal(1120, "EUR", 11)


def test_next_skips_rewards_the_member_cannot_afford(counter):
    counter.till("open")
    counter.tap()
    counter.answer(balance=50)
    counter.press("next")
    counter.press("select")
    assert counter.screen.selected == -1 and not counter.of_kind("redemption")


def test_offline_redemptions_are_limited_per_member(tmp_path):
    c = Counter(tmp_path, offline={"max_redeem_points": 150})
    c.tap()
    c.answer(balance=1000)
    c.press("cancel")
    c.link_up = False
    c.till("open", items=[("coffee", 1, 350)])
    c.tap()
    c.press("next")
    c.press("select")
    assert isinstance(c.screen, v.RewardHeld)
    c.press("select")
    assert c.screen == v.ErrorMessage("Rewards need the network now") and c.signals[-1] == "error"
    c.till("paid", discounts={"coffee": 250})
    assert c.queued()[0]["offline"] and c.screen.saved_offline
    c.till("open", items=[("coffee", 1, 350)], basket_id="b-2")
    c.tap()
    c.press("next")
    c.press("select")
    assert c.screen == v.ErrorMessage("Rewards need the network now"), "100 spent already"


def test_limits_are_read_from_the_config_when_used(counter):
    counter.cfg["offline"]["max_redeem_points"] = 0  # as tests/test_sale_path.py changes it live
    counter.tap()
    counter.answer(balance=500)
    counter.press("cancel")
    counter.link_up = False
    counter.till("open", items=[("coffee", 1, 350)])
    counter.tap()
    counter.press("next")
    counter.press("select")
    assert counter.screen == v.ErrorMessage("Rewards need the network now")


# -- enrolment ----------------------------------------------------------------------------------------------
def test_enrol_on_a_basket_rides_on_the_sale_op(counter):
    counter.till("open", items=[("sandwich", 1, 650)])
    counter.tap("04DEADBEEF0001")
    counter.answer(found=False)
    counter.press("select")
    assert counter.screen == v.Enrolled()
    counter.till("paid")
    (op,) = counter.queued()
    assert op["kind"] == "sale" and op["enrol"] is True and op["earn"] == 6
    assert "member_id" not in op


def test_enrol_offline_without_a_basket_queues_an_enrol_op(tmp_path):
    c = Counter(tmp_path, online=False)
    c.tap("04DEADBEEF0002")
    assert c.screen == v.EnrolOffer(), "offline and never seen: offer to join"
    c.press("select")
    (op,) = c.queued()
    assert op["kind"] == "enrol" and op["offline"] is True and op["token"]["value"] == "04DEADBEEF0002"
    assert c.screen == v.Enrolled(saved_offline=True) and c.session.customer is None


# -- offline sales, acks ------------------------------------------------------------------------------------
def test_offline_sales_show_pending_points_until_acked(tmp_path):
    c = Counter(tmp_path)
    c.tap()
    c.answer(balance=0)
    c.press("cancel")
    c.link_up = False
    c.handle(e.LinkDown("broker gone"))
    assert c.screen == v.Idle("Loyalty", offline=True)
    for n, price in enumerate((350, 300)):
        c.till("open", items=[("x", 1, price)], basket_id=f"b-{n}")
        c.tap()
        c.till("paid")
    assert c.screen == v.PointsAdded(3, 0, 6, saved_offline=True)
    c.tick(6.0)
    assert c.screen == v.Offline(2)
    c.tap()
    assert c.screen.balance == 6 and c.screen.pending == 6
    c.press("cancel")
    c.link_up = True
    c.handle(e.LinkUp(True))
    c.batch_done()
    ops = [s.body for s in c.of_kind("ops")]
    assert [o["kiosk_seq"] for o in ops] == [1, 2]
    c.ack(ops[0]["op_id"], member_id="m-ada", balance=3)
    c.ack(ops[0]["op_id"], status="duplicate")  # a repeat in the same batch counts once
    c.batch_done()
    assert [o["op_id"] for o in c.queued()] == [ops[1]["op_id"]]
    c.tap()
    assert c.screen.balance == 6 and c.screen.pending == 3, "the ack's balance plus one pending"


def test_a_rejected_op_is_kept_for_reports_not_replayed(counter):
    counter.till("open")
    counter.tap()
    counter.till("paid")
    counter.batch_done()
    op_id = counter.of_kind("ops")[0].body["op_id"]
    counter.ack(op_id, status="rejected", reason="unknown card")
    counter.batch_done()
    assert counter.queued() == []
    assert [(r["op_id"], r["reason"]) for r in counter.outbox.rejected()] == [(op_id, "unknown card")]


def test_an_ack_for_an_unknown_op_changes_nothing(counter):
    counter.ack(str(uuid.uuid4()), member_id="m-x", balance=5)
    counter.batch_done()
    assert counter.session.balances.pending == {}


# -- screens and time --------------------------------------------------------------------------------------
def test_result_screen_stays_up_then_gives_way(counter):
    counter.till("open")
    counter.tap()
    counter.till("paid")
    counter.handle(e.LinkUp(True))  # something to refresh for
    assert isinstance(counter.screen, v.PointsAdded)
    counter.tick(5.9)
    assert isinstance(counter.screen, v.PointsAdded)
    counter.tick(0.1)
    assert counter.screen == v.Idle("Loyalty")


def test_a_new_tap_ends_a_result_message(counter):
    counter.handle(ReadFailed("sim", "card moved away"))
    assert counter.screen == v.ErrorMessage("card moved away") and counter.signals[-1] == "error"
    counter.tap()
    assert isinstance(counter.screen, v.MemberRecognised)


def test_card_removal_keeps_the_member_attached(counter):
    counter.tap()
    counter.handle(CardRemoved("sim"))
    counter.tick(60.0)
    assert counter.session.customer is not None and isinstance(counter.screen, v.MemberRecognised)


def test_hold_opens_the_technician_screen_and_a_press_closes_it(counter):
    counter.handle(ReaderHealth("sim", True))
    counter.press("select", held=True)
    assert counter.screen == v.Technician("kiosk-1", "store-1/lane-1", "online", 0, ("sim: ok",))
    counter.press("next")
    assert counter.screen == v.Idle("Loyalty")


def test_reader_failure_is_shown(counter):
    counter.handle(ReaderHealth("nfc", False, "unplugged"))
    assert counter.screen == v.Trouble("reader", "unplugged")


def test_near_full_queue_is_shown_instead_of_idle(tmp_path):
    c = Counter(tmp_path, online=False, outbox={"max_ops": 10, "warn_ratio": 0.2})
    for n in range(2):
        c.till("open", basket_id=f"b-{n}")
        c.tap()
        c.till("paid")
    c.tick(6.0)
    assert c.screen == v.Trouble("queue", "2 ops waiting")


def test_an_older_program_is_ignored(counter):
    counter.session.handle(e.ProgramReceived(DefaultProgram(version=3, name="Beans")))
    counter.session.handle(e.ProgramReceived(DefaultProgram(version=2, name="Old")))
    assert counter.session.program.name == "Beans" and counter.screen == v.Idle("Beans")


# -- status ------------------------------------------------------------------------------------------------
def test_status_is_published_every_30_s_and_after_changes(counter):
    counter.batch_done()
    (first,) = counter.of_kind("status")
    assert first.retain and first.topic == topics.status("store-1", "kiosk-1")
    assert first.body["state"] == "online" and first.body["uptime_s"] == 0.0
    assert first.body["at"] == "2026-01-01T00:00:00.000+00:00" and first.body["queue_depth"] == 0
    counter.tick(29.0)
    counter.batch_done()
    assert len(counter.of_kind("status")) == 1
    counter.handle(ReaderHealth("nfc", False, "unplugged"))
    counter.batch_done()
    latest = counter.of_kind("status")[-1].body
    assert latest["readers"] == {"nfc": "unplugged"} and latest["uptime_s"] == 29.0
    counter.tick(30.0)
    counter.batch_done()
    assert len(counter.of_kind("status")) == 3


def test_status_counts_queued_ops_and_the_offline_message(tmp_path):
    c = Counter(tmp_path, online=False, outbox={"max_ops": 10, "warn_ratio": 0.1})
    c.till("open")
    c.tap()
    c.till("paid")
    body = c.session.status_message("offline")
    assert body["state"] == "offline" and body["queue_depth"] == 1 and body["queue_warning"]
    assert body["queue_limit"] == 10 and body["clock_synced"] is True


def test_default_ports_use_the_real_clocks(tmp_path):
    """kiosk.app and the simulators build Ports without clocks: the session then reads real time."""
    cfg = validate({"kiosk": {"store": "s-1", "lane": "l-1", "id": "k-1"},
                    "outbox": {"path": str(tmp_path / "o.db")}})
    outbox = Outbox(cfg["outbox"]["path"])
    session = Session(cfg, outbox, Ports(publish=lambda *a: True, show=lambda view: None))
    body = session.status_message()
    wall = dt.datetime.fromisoformat(body["at"]).timestamp()
    assert abs(wall - time.time()) < 60 and 0 <= body["uptime_s"] < 60
    outbox.close()
