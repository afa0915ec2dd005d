"""The session state machine: one thread, one queue of events, no locks.

It pairs the customer (a token from a reader) with the lane's basket, shows
the member's balance, holds redemptions, and on 'paid' writes one op into the
outbox in the same transaction that settles the basket. Side effects and time
go through ``Ports`` (publish, show, signal, clocks), so tests and benchmarks can
run it without hardware, a broker or a real clock. What is not a transition
lives beside it: ops and lane messages (kiosk.ops, kiosk.lane_messages), figures
(kiosk.balances), rewards offered and confirmed (kiosk.redemptions), screens
(kiosk.screen_choice, kiosk.screen_timer, kiosk.results), status (kiosk.status), acks
(kiosk.acks), topics (kiosk.publisher), what the POS is told besides (kiosk.notices), the
rule for a new basket under an attached member (kiosk.basket_switch) and, as parts of this
class, settling a paid or void basket (kiosk.checkout) and reserving a limited reward at the
ledger (kiosk.reserving).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from display import views as v
from drivers import base as d
from kiosk import account_links, basket_switch, lane_messages, notices, ops, redemptions
from kiosk import events as e
from kiosk import screen_choice as sc
from kiosk.acks import Acks
from kiosk.balances import Balances, held_points, projected_earn
from kiosk.checkout import Checkout
from kiosk.customer import BLOCKED, Customer, Member, offers_enrolment, short_card, token_key
from kiosk.outbox import Outbox
from kiosk.ports import Ports
from kiosk.publisher import Publisher
from kiosk.replay import Replayer
from kiosk.reserving import Reserving
from kiosk.results import ResultScreen
from kiosk.returns import Returns
from kiosk.screen_timer import ScreenTimer
from kiosk.status import KioskStatus
from program.engine import DefaultProgram, Program, Reward

log = logging.getLogger(__name__)

MEMBER_SCREEN_S = 45.0  # an attached member with no basket activity goes back to idle


class Session(Checkout, Reserving):
    def __init__(self, cfg: dict, outbox: Outbox, ports: Ports,
                 program: Program | None = None) -> None:
        self.cfg = cfg
        self.store, self.lane, self.kiosk_id = (cfg["kiosk"][k] for k in ("store", "lane", "id"))
        self.outbox = outbox
        self.ports = ports
        self.program: Program = program or DefaultProgram(name=cfg["kiosk"]["program_name"])
        self.out = Publisher(ports.publish, self.store, self.lane, self.kiosk_id)
        self.pos = notices.PosNotices(self.out, ports.now_iso)
        self.replayer = Replayer(outbox, self.out.op, cfg["outbox"]["inflight"],
                                 cfg["outbox"]["retry_seconds"], send_batch=self.out.ops)
        self.balances = Balances(outbox.pending_points())
        self.returns = Returns(outbox, self.store, self.lane, self.out.notice, ports)
        self.acks = Acks(outbox, self.replayer, self.balances, on_ack=self.returns.acked)
        self.status = KioskStatus(outbox, ports, self.out, cfg["outbox"])
        self.status.program_version = self.program.version
        self.readers = self.status.readers
        self.basket: dict | None = None
        self.last_basket_seen: tuple[str, int] = ("", -1)  # for simulators that wait on us
        self.customer: Customer | None = None
        self.screen = ScreenTimer(ports.show, ports.monotonic)
        self.result = ResultScreen(self.screen)  # a paid basket's preview, until its ack
        self.technician = False
        self.links = account_links.AccountLinks()  # "scan to see your account" (v1.3)

    # -- dispatch -------------------------------------------------------------------
    def handle(self, event: object) -> None:
        handler = getattr(self, "on_" + type(event).__name__, None)
        if handler is None:
            log.debug("no handler for %r", event)
            return
        handler(event)

    def after_batch(self, now: float) -> None:
        """Run after a batch of events: commit acks together, then send more."""
        self.acks.commit()
        self.replayer.pump(now, self.ports.online())
        self.status.publish_if_due(now)

    # -- readers ----------------------------------------------------------------------
    def on_CardDetected(self, ev: d.CardDetected) -> None:
        self.screen.show(v.Reading())
        self.ports.signal("reading")

    def on_ReadFailed(self, ev: d.ReadFailed) -> None:
        self.screen.show_result(v.ErrorMessage(ev.reason))
        self.ports.signal("error")

    def on_CardRemoved(self, ev: d.CardRemoved) -> None:
        pass  # the member stays attached until the basket ends or cancel

    def on_ReaderHealth(self, ev: d.ReaderHealth) -> None:
        self.readers[ev.reader] = "ok" if ev.ok else (ev.detail or "failed")
        if not ev.ok:
            log.warning("reader %s: %s", ev.reader, ev.detail)
            self.screen.show_result(v.Trouble("reader", ev.detail))
        self.status.soon()

    def on_TokenRead(self, ev: d.TokenRead) -> None:
        token = ev.token
        if token.kind == "uid" and not token.verified and not self.program.allow_unverified_uid:
            self.screen.show_result(v.ErrorMessage("This card is not accepted"))
            self.ports.signal("error")
            return
        if self.customer is not None:  # a new tap starts afresh: what was held is let go
            self._release_reservations(self.customer)
        cached = self.balances.cached(token_key(token))
        member = replace(cached) if cached else Member(name=short_card(token))
        self.customer = Customer(token, member, basket_id=self._basket_id())
        if self.ports.online() and cached:
            # The cached figures are on screen first; the lookup that refreshes them goes out
            # once that frame is drawn (docs/benchmarks.md, kiosk section).
            self.ports.after_frame(self._send_lookup, self.customer)
        elif self.ports.online():
            self._send_lookup(self.customer)
        else:
            self.customer.maybe_new = cached is None
        self._attach()
        self.screen.clear()  # a new tap ends any message still up
        self.show_customer()

    # -- buttons ----------------------------------------------------------------------
    def on_ButtonPressed(self, ev: d.ButtonPressed) -> None:
        if ev.held and ev.button == "select" and self._member_on_screen():
            self._ask_link(self.customer.token, on_request=True)  # "show me my account"
            return
        if ev.held:
            self.technician = not self.technician
            self.refresh()
            return
        if self.technician:
            self.technician = False  # any short press leaves the technician screen
            self.refresh()
            return
        getattr(self, f"_press_{ev.button}")()

    def _press_next(self) -> None:
        c = self.customer
        if c is None:
            return
        c.selected = sc.next_affordable(self._rewards_view(c), c.selected)
        self.show_customer()

    def _press_select(self) -> None:
        c = self.customer
        if c is None:
            return
        if offers_enrolment(c) and not c.enrol:
            self._enrol(c)
            return
        rewards = self._rewards_view(c)
        if 0 <= c.selected < len(rewards) and rewards[c.selected].affordable:
            self._hold_reward(c, rewards[c.selected].reward_id)

    def _press_cancel(self) -> None:
        if self.screen.result_up() and isinstance(self.screen.last_view, v.AccountLink):
            self.screen.clear()  # close the code; the member stays attached
            self.refresh()
            return
        c = self.customer
        if c is None:
            return
        if c.held:
            self._release_holds(c, publish=True)
            self.show_customer()
            return
        self.customer = None
        self.refresh()

    # -- basket -----------------------------------------------------------------------
    def on_BasketUpdate(self, ev: e.BasketUpdate) -> None:
        msg = ev.msg
        self.last_basket_seen = (msg["basket_id"], msg["seq"])
        old = self.basket
        if old and old["basket_id"] == msg["basket_id"] and msg["seq"] <= old["seq"]:
            log.debug("stale basket %s seq %s", msg["basket_id"], msg["seq"])
            return
        if self.outbox.is_settled(msg["basket_id"]):
            if msg["status"] == "void":  # after paid: a post-void (once; see kiosk.returns)
                self.returns.post_void(msg, self.program.version)
            self.basket = None
            return  # a retained paid/void basket we already settled (e.g. after a restart)
        earn = projected_earn(self.program, msg, None)
        if why := notices.basket_refusal(self.program.currency, msg, earn):
            self._refuse_basket(msg["basket_id"], why)
            return
        self.basket = msg
        self._restore_attachment(old, msg["basket_id"])
        match msg["status"]:
            case "open" | "total":
                self._attach()
                self.refresh()
            case "paid":
                self._settle_paid(msg)
            case "void":
                self._settle_void(msg)

    def on_BasketRefused(self, ev: e.BasketRefused) -> None:
        self._refuse_basket(ev.basket_id, ev.reason)

    def on_RefundRequested(self, ev: e.RefundRequested) -> None:
        self.returns.refund(ev.msg, self.program.version)

    def _basket_id(self) -> str:
        return self.basket["basket_id"] if self.basket else ""

    def _restore_attachment(self, old: dict | None, basket_id: str) -> None:
        if self.customer is not None:
            if self.customer.basket_id not in ("", basket_id):
                self._switch_basket(self.customer, old, basket_id)
            return
        data = self.outbox.load_attachment(basket_id)
        if data:
            self.customer = Customer.from_attachment(data, basket_id)

    def _switch_basket(self, c: Customer, old: dict | None, new_id: str) -> None:
        """A new basket while ``c`` sits on an unpaid one: move or drop (kiosk.basket_switch)."""
        self._release_reservations(c)  # the old basket's holds are cancelled at the POS
        c.cancelled.clear()
        if basket_switch.switch(c, old, new_id, self.program, self.out, self.outbox,
                                self.pos) == "drop":
            self.customer = None
            self.screen.show_result(v.ErrorMessage("New basket: please tap again"))

    def _attach(self) -> None:
        """Tell the POS who is paying, and remember it on disk in case we restart."""
        c, b = self.customer, self.basket
        if c is None or b is None or b["status"] not in ("open", "total"):
            return
        c.basket_id = b["basket_id"]
        self.outbox.save_attachment(c.basket_id, c.attachment_record())
        self.pos.member(lane_messages.member_message(c, self.projected_balance(c),
                                                     self.projected_earn(), self._rewards_view(c)))

    # -- enrolment and rewards ----------------------------------------------------------------
    def _enrol(self, c: Customer) -> None:
        c.enrol = True
        if self.basket is not None:
            self._attach()  # enrolment rides on the sale op
            self.screen.show_result(v.Enrolled(saved_offline=not self.ports.online()))
            return
        op = ops.enrol_op(c.token, self._stamp())
        if (why := self._save_op(None, "enrol", op, token_key(c.token), 0)) is not None:
            log.error("enrol op NOT saved: %s", why)
            return
        self.links.joined(op["op_id"], c.token, self.ports.monotonic())
        self.screen.show_result(v.Enrolled(saved_offline=not self.ports.online()))
        self.ports.signal("ok")
        self.customer = None

    def _hold_reward(self, c: Customer, reward_id: str) -> None:
        reward = self.program.reward(reward_id)
        if reward is None or self.basket is None:
            return
        held, limit = held_points(self.program, c.held), self.cfg["offline"]["max_redeem_points"]
        if not (self.ports.online()
                or self.balances.may_redeem_offline(token_key(c.token), held, reward.cost, limit)):
            self.screen.show_result(v.ErrorMessage("Rewards need the network now"))
            self.ports.signal("error")
            return
        if redemptions.limited(reward):
            self._ask_reserve(c, reward)  # the ledger holds one first (kiosk.reserving)
            return
        self._ask_pos(c, reward)

    def _ask_pos(self, c: Customer, reward: Reward) -> None:
        """Ask the POS for the reward's discount and hold it until the basket is paid."""
        if not self.out.redemption(lane_messages.redemption_apply(self.basket, reward)):
            # the POS never heard of it: no hold, so nothing can be spent for it
            log.warning("redemption of %s not sent: the broker is unreachable", reward.reward_id)
            self._release_reservations(c, keep=c.held)
            self.screen.show_result(v.ErrorMessage("Rewards need the network now"))
            self.ports.signal("error")
            return
        c.held.append(reward.reward_id)
        self._attach()
        self.screen.show_result(v.RewardHeld(reward.name, reward.cost, self.projected_balance(c)))
        self.ports.signal("reward")

    def _release_holds(self, c: Customer, publish: bool) -> None:
        if publish:  # the cancel may be lost: a paid basket still carrying it decides
            c.cancelled.extend(c.held)
        self._release_reservations(c)
        for reward_id in c.held:
            reward = self.program.reward(reward_id)
            if publish and self.basket is not None and reward is not None:
                self.out.redemption(lane_messages.redemption_cancel(self.basket["basket_id"],
                                                                    reward))
        c.held.clear()
        if publish:
            self._attach()

    def _rewards_view(self, c: Customer) -> list[v.RewardChoice]:
        return sc.reward_choices(self.program, c.member, self.projected_balance(c), c.listed,
                                 self.ports.online(), c.held)

    # -- figures --------------------------------------------------------------------------------
    def projected_balance(self, c: Customer) -> int:
        """Last known balance + points queued but not acked - points held on this basket."""
        return self.balances.projected(token_key(c.token), c.member,
                                       held_points(self.program, c.held))

    def projected_earn(self, at: str = "") -> int:
        c = self.customer
        return projected_earn(self.program, self.basket, c.member if c else None, at)

    # -- ledger: lookup and acks -------------------------------------------------------------------
    def _send_lookup(self, c: Customer) -> None:
        c.lookup_id = uuid.uuid4().hex
        c.lookup_deadline = self.ports.monotonic() + self.cfg["lookup"]["timeout_ms"] / 1000
        self.out.lookup(ops.lookup_request(c.token), c.lookup_id.encode())

    def on_LookupAnswered(self, ev: e.LookupAnswered) -> None:
        if (ask := self.links.answered(ev.correlation)) is not None:
            self._show_link(account_links.link_of(ev.msg), ask.on_request)
            return
        c = self.customer
        if c is None or ev.correlation != c.lookup_id:
            return  # a late answer for someone who has gone
        msg = ev.msg
        if msg["found"] and "member" not in msg:  # the schema cannot require it only if found
            log.warning("lookup reply says found but names no member: ignored")
            return
        if not msg["found"] and msg.get("reason", "").startswith(BLOCKED):
            self._refuse_blocked(c, msg["reason"])
            return
        c.answered = True
        if msg["found"]:
            m = msg["member"]
            c.member = Member(m["id"], m.get("name") or short_card(c.token), m.get("tier", "member"),
                              msg.get("balance", 0), known=True, offers=redemptions.offers(msg))
            self.balances.remember(token_key(c.token), c.member, self.cfg["lookup"]["cache_size"])
            c.listed = redemptions.listed(msg)
        self._attach()
        self.refresh()  # a confirmation still up (reward applied) stays up

    def _refuse_blocked(self, c: Customer, reason: str) -> None:
        """The ledger blocked this card (replaced) or its member: say so, offer no joining,
        forget the cached member and let go of what was held. A sale paid all the same still
        makes its op, which the ledger rejects and the kiosk keeps (`kiosk queue rejected`)."""
        log.warning("lookup: %s", reason)
        self._release_holds(c, publish=bool(c.held))
        self.balances.forget(token_key(c.token))
        self.customer = None
        self.screen.show_result(v.ErrorMessage("Card blocked: ask staff"))
        self.ports.signal("error")

    def on_AckReceived(self, ev: e.AckReceived) -> None:
        op = self.acks.receive(ev.msg)
        if op is not None:
            self.pos.after_ack(op.body, ev.msg)
        self.result.ack(ev.msg)  # the ledger's figures replace the preview still up
        if (token := self.links.joined_token(ev.msg, self.ports.monotonic())) is not None:
            self._ask_link(token, on_request=False)  # a new member: their page, to complete

    def on_LedgerCapabilities(self, ev: e.LedgerCapabilities) -> None:
        self.replayer.use_batches(ev.max_ops_per_batch)
        self.links.contract = ev.contract

    # -- "scan to see your account" (kiosk.account_links) -----------------------------------------
    def _member_on_screen(self) -> bool:
        c = self.customer
        return c is not None and c.member.known and not self.technician

    def _ask_link(self, token: d.Token, on_request: bool) -> None:
        """Ask the ledger for the link to the page of ``token``'s member (contract v1.3)."""
        if not (self.links.available() and self.ports.online()):
            if on_request:  # an older ledger has no links to give
                why = "No account page here" if self.ports.online() else \
                    "Your account needs the network"
                self.screen.show_result(v.ErrorMessage(why))
                self.ports.signal("error")
            return
        deadline = self.ports.monotonic() + self.cfg["lookup"]["timeout_ms"] / 1000
        correlation = self.links.ask(deadline, on_request)
        self.out.lookup(ops.lookup_request(token, ask_link=True), correlation.encode())

    def _show_link(self, link: str, on_request: bool) -> None:
        if not link:
            if on_request:  # no web address configured at the ledger, or the member is gone
                self.screen.show_result(v.ErrorMessage("No account page here"))
            return
        if (self.screen.result_up() and not on_request
                and not isinstance(self.screen.last_view, v.Enrolled)):
            self.links.waiting = link  # "Points added" first; the code when it has been read
            return
        self.screen.show_result(v.AccountLink(link), account_links.SCREEN_S)
        self.ports.signal("ok")

    # -- network and time ---------------------------------------------------------------------------------
    def on_LinkUp(self, ev: e.LinkUp) -> None:
        self.status.soon()
        self.refresh()

    def on_LinkDown(self, ev: e.LinkDown) -> None:
        self.replayer.link_down()
        self.refresh()

    def on_ProgramReceived(self, ev: e.ProgramReceived) -> None:
        if isinstance(self.program, type(ev.program)) and ev.program.version < self.program.version:
            log.warning("program version %s ignored: version %s is newer", ev.program.version,
                        self.program.version)
            return
        log.info("program version %s received", ev.program.version)
        self.program = ev.program
        self.status.program_version = ev.program.version
        self.status.soon()  # the fleet sees the new version at once
        self.refresh()

    def on_Tick(self, ev: e.Tick) -> None:
        self._reserve_overdue(ev.now)
        if (late := self.links.overdue(ev.now)) is not None and late.on_request:
            self.screen.show_result(v.ErrorMessage("Your account needs the network"))
        c = self.customer
        if c and not c.answered and c.lookup_deadline and ev.now >= c.lookup_deadline:
            c.lookup_deadline = 0.0
            self.refresh()  # no answer in time: show the cached or pending figure, marked
        if self.screen.expired(ev.now):
            if link := self.links.waiting:
                self.links.waiting = ""
                self.screen.show_result(v.AccountLink(link), account_links.SCREEN_S)
                return
            self.refresh()

    # -- screens -----------------------------------------------------------------------------------------
    def show_customer(self) -> None:
        c = self.customer
        if c is None:
            return
        pending = self.balances.pending_for(token_key(c.token))
        self.screen.show(sc.customer_view(c, self.projected_balance(c), self.projected_earn(),
                                          pending, self._rewards_view(c)))

    def idle_view(self) -> v.View:
        depth = self.outbox.depth()
        if self.technician:
            return sc.technician_view(self.kiosk_id, f"{self.store}/{self.lane}",
                                      self.ports.link_state(), depth, self.readers)
        return sc.idle_view(sc.Counter(self.program.name, self.ports.online(), depth,
                                       self.status.queue_warning(), self.basket, self.projected_earn()))

    def refresh(self) -> None:
        """Show what fits the moment, unless a result message is still up."""
        if self.screen.result_up():
            return
        if self.customer is not None and not self.technician:
            self.show_customer()
        else:
            self.screen.show(self.idle_view())

    def status_message(self, state: str = "online") -> dict:
        return self.status.message(state)
