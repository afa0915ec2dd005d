"""The session state machine: one thread, one queue of events, no locks.

It pairs the customer (a token from a reader) with the lane's basket, shows
the member's balance, holds redemptions, and on 'paid' writes one op into the
outbox in the same transaction that settles the basket. Side effects go
through ``Ports`` (publish, show, signal), so tests and benchmarks can run it
without hardware or a broker.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from codes import tokens
from display import views as v
from drivers import base as d
from kiosk import events as e
from kiosk.outbox import Outbox, OutboxFull
from kiosk.replay import Replayer
from kiosk.returns import Returns
from mqtt import messages, topics
from program.engine import Basket, DefaultProgram, MemberState, Program

log = logging.getLogger(__name__)

RESULT_SCREEN_S = 6.0  # how long "points added" and errors stay up
MEMBER_SCREEN_S = 45.0  # an attached member with no basket activity goes back to idle


@dataclass
class Ports:
    publish: Callable[..., bool]  # (topic, payload, qos=1, retain=False, response_topic, correlation)
    show: Callable[[v.View], None]
    signal: Callable[[str], None] = lambda pattern: None
    online: Callable[[], bool] = lambda: False
    clock_synced: Callable[[], bool] = lambda: False
    display_health: Callable[[], str] = lambda: "ok"


@dataclass
class Member:
    """What the kiosk knows about a member; the balance is the ledger's last word."""

    member_id: str = ""
    name: str = ""
    tier: str = "member"
    balance: int = 0
    known: bool = False  # the ledger confirmed the member exists


@dataclass
class Customer:
    """The person at the counter now: their token, who they are, what they hold."""

    token: d.Token
    member: Member
    lookup_id: str = ""
    lookup_deadline: float = 0.0
    answered: bool = False  # the ledger replied (found or not)
    maybe_new: bool = False  # offline, and this kiosk has never seen the card
    enrol: bool = False
    selected: int = -1
    held: list[str] = field(default_factory=list)  # reward ids the POS was asked to apply
    basket_id: str = ""


def token_key(token: d.Token) -> str:
    """The key the ledger uses for this card or code (codes.tokens)."""
    return tokens.token_key(token.kind, token.value)


def short_card(token: d.Token) -> str:
    return "Card ..." + token.value[-4:] if token.kind != "qr" else "Member"


class Session:
    def __init__(self, cfg: dict, outbox: Outbox, ports: Ports,
                 program: Program | None = None) -> None:
        self.cfg = cfg
        self.store, self.lane, self.kiosk_id = (cfg["kiosk"][k] for k in ("store", "lane", "id"))
        self.outbox = outbox
        self.ports = ports
        self.program: Program = program or DefaultProgram(name=cfg["kiosk"]["program_name"])
        self.replayer = Replayer(outbox, self._send_op, cfg["outbox"]["inflight"],
                                 cfg["outbox"]["retry_seconds"])
        self.cache: OrderedDict[str, Member] = OrderedDict()
        self.pending = outbox.pending_points()  # member key -> points not yet acked
        self.offline_redeemed: dict[str, int] = {}
        self.basket: dict | None = None
        self.last_basket_seen: tuple[str, int] = ("", -1)  # for simulators that wait on us
        self.customer: Customer | None = None
        self.screen_until = 0.0
        self.technician = False
        self.readers: dict[str, str] = {}
        self.last_view: v.View | None = None
        self._acks: list[str] = []
        self._status_due = 0.0
        self.started = time.monotonic()
        self.returns = Returns(outbox, self.store, self.lane, self._publish, ports.online,
                               ports.clock_synced)

    # -- dispatch -------------------------------------------------------------------
    def handle(self, event: object) -> None:
        handler = getattr(self, "on_" + type(event).__name__, None)
        if handler is None:
            log.debug("no handler for %r", event)
            return
        handler(event)

    def after_batch(self, now: float) -> None:
        """Run after a batch of events: commit acks together, then send more."""
        if self._acks:
            acked, self._acks = self._acks, []
            self.outbox.ack(acked)
            self.replayer.acked(acked)
        self.replayer.pump(now, self.ports.online())
        if now >= self._status_due:
            self.publish_status()

    # -- readers ----------------------------------------------------------------------
    def on_CardDetected(self, ev: d.CardDetected) -> None:
        self.show(v.Reading())
        self.ports.signal("reading")

    def on_ReadFailed(self, ev: d.ReadFailed) -> None:
        self.show_result(v.ErrorMessage(ev.reason))
        self.ports.signal("error")

    def on_CardRemoved(self, ev: d.CardRemoved) -> None:
        pass  # the member stays attached until the basket ends or cancel

    def on_ReaderHealth(self, ev: d.ReaderHealth) -> None:
        self.readers[ev.reader] = "ok" if ev.ok else (ev.detail or "failed")
        if not ev.ok:
            log.warning("reader %s: %s", ev.reader, ev.detail)
            self.show_result(v.Trouble("reader", ev.detail))
        self._status_due = 0.0

    def on_TokenRead(self, ev: d.TokenRead) -> None:
        token = ev.token
        if token.kind == "uid" and not token.verified and not self.program.allow_unverified_uid:
            self.show_result(v.ErrorMessage("This card is not accepted"))
            self.ports.signal("error")
            return
        key = token_key(token)
        cached = self.cache.get(key)
        member = replace(cached) if cached else Member(name=short_card(token))
        self.customer = Customer(token, member, basket_id=self._basket_id())
        if self.ports.online():
            self._send_lookup(token)
        else:
            self.customer.lookup_deadline = 0.0
            self.customer.maybe_new = cached is None
        self._attach()
        self.screen_until = 0.0  # a new tap ends any message still up
        self.show_customer()

    # -- buttons ----------------------------------------------------------------------
    def on_ButtonPressed(self, ev: d.ButtonPressed) -> None:
        if ev.held:
            self.technician = not self.technician
            self.refresh()
            return
        if self.technician:
            self.technician = False
            self.refresh()
            return
        getattr(self, f"_press_{ev.button}")()

    def _press_next(self) -> None:
        c = self.customer
        if c is None:
            return
        rewards = self._rewards_view(c)
        affordable = [i for i, r in enumerate(rewards) if r.affordable]
        if affordable:
            later = [i for i in affordable if i > c.selected]
            c.selected = later[0] if later else affordable[0]
        self.show_customer()

    def _press_select(self) -> None:
        c = self.customer
        if c is None:
            return
        if self._offers_enrolment(c) and not c.enrol:
            self._enrol(c)
            return
        rewards = self._rewards_view(c)
        if 0 <= c.selected < len(rewards) and rewards[c.selected].affordable:
            self._hold_reward(c, rewards[c.selected].reward_id)

    def _press_cancel(self) -> None:
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
        self.basket = msg
        self._restore_attachment(msg["basket_id"])
        match msg["status"]:
            case "open" | "total":
                self._attach()
                self.refresh()
            case "paid":
                self._settle_paid(msg)
            case "void":
                self._settle_void(msg)

    def on_RefundRequested(self, ev: e.RefundRequested) -> None:
        self.returns.refund(ev.msg, self.program.version)

    def _basket_id(self) -> str:
        return self.basket["basket_id"] if self.basket else ""

    def _restore_attachment(self, basket_id: str) -> None:
        if self.customer is not None:
            if self.customer.basket_id not in ("", basket_id):
                self.customer = None  # a new basket: the last customer has gone
            return
        data = self.outbox.load_attachment(basket_id)
        if data:
            token = d.Token(data["kind"], data["value"], data["reader"], verified=data["verified"])
            member = Member(**data["member"])
            self.customer = Customer(token, member, held=data["held"], enrol=data["enrol"],
                                     basket_id=basket_id, answered=True)

    def _attach(self) -> None:
        """Tell the POS who is paying, and remember it on disk in case we restart."""
        c, b = self.customer, self.basket
        if c is None or b is None or b["status"] not in ("open", "total"):
            return
        c.basket_id = b["basket_id"]
        self.outbox.save_attachment(c.basket_id, {
            "kind": c.token.kind, "value": c.token.value, "reader": c.token.reader,
            "verified": c.token.verified, "member": c.member.__dict__, "held": c.held,
            "enrol": c.enrol})
        member = {"id": c.member.member_id or "unknown", "tier": c.member.tier,
                  "name": c.member.name[:64], "verified": c.token.verified}
        msg = {"v": 1, "basket_id": c.basket_id, "member": member,
               "balance": self.projected_balance(c), "projected_earn": self.projected_earn(),
               "balance_is_cached": not c.answered,
               "rewards": [{"reward_id": r.reward_id, "name": r.name, "cost": r.cost,
                            "affordable": r.affordable} for r in self._rewards_view(c)]}
        self._publish(topics.member(self.store, self.lane), "member", msg)

    def _settle_paid(self, basket: dict) -> None:
        c = self.customer
        if c is None:
            self.outbox.settle(basket["basket_id"], "paid", None)
            self.basket = None
            self.refresh()
            return
        op, delta = self._build_op(c, basket)
        try:
            self.outbox.settle(basket["basket_id"], "paid", op, token_key(c.token), delta)
        except OutboxFull as exc:
            log.error("op for basket %s NOT saved: %s", basket["basket_id"], exc)
            self.show_result(v.Trouble("queue", "Queue full: ask staff"))
            self.ports.signal("error")
            return
        self._count_pending(c, op, delta)
        online = self.ports.online()
        log.info("points %s: basket %s op %s earn %d", "added" if online else "saved offline",
                 basket["basket_id"], op["op_id"], op["earn"])
        redeemed = sum(r["points"] for r in op["redeem"])
        self.show_result(v.PointsAdded(op["earn"], redeemed, self.projected_balance(c),
                                       saved_offline=not online))
        self.ports.signal("reward" if redeemed else "ok")
        self.customer, self.basket = None, None
        self._status_due = 0.0

    def _settle_void(self, basket: dict) -> None:
        if self.customer is not None:
            self._release_holds(self.customer, publish=False)
        self.outbox.settle(basket["basket_id"], "void", None)
        self.customer, self.basket = None, None
        self.refresh()

    def _build_op(self, c: Customer, basket: dict) -> tuple[dict, int]:
        created_at = now_iso()
        earn = self.projected_earn(created_at)  # priced at the time the op carries
        redeem = [{"reward_id": rid, "points": self.program.reward(rid).cost}
                  for rid in c.held if self.program.reward(rid)]
        op = {"v": 1, "op_id": str(uuid.uuid4()), "kind": "sale",
              "token": {"kind": c.token.kind, "value": c.token.value,
                        "verified": c.token.verified},
              "basket_id": basket["basket_id"], "currency": basket["currency"],
              "total_minor": basket["total_minor"], "items": basket.get("items", []),
              "earn": earn, "redeem": redeem, "enrol": c.enrol, "offline": not self.ports.online(),
              "created_at": created_at, "clock_synced": self.ports.clock_synced(),
              "program_version": self.program.version}
        if c.member.member_id:
            op["member_id"] = c.member.member_id
        return op, earn - sum(r["points"] for r in redeem)

    def _count_pending(self, c: Customer, op: dict, delta: int) -> None:
        key = token_key(c.token)
        self.pending[key] = self.pending.get(key, 0) + delta
        if op["offline"] and op["redeem"]:
            spent = sum(r["points"] for r in op["redeem"])
            self.offline_redeemed[key] = self.offline_redeemed.get(key, 0) + spent

    # -- enrolment and rewards ----------------------------------------------------------------
    def _offers_enrolment(self, c: Customer) -> bool:
        # Offline we cannot ask; joining twice is harmless (the ledger keeps the first member).
        return not c.member.known and (c.answered or c.maybe_new)

    def _enrol(self, c: Customer) -> None:
        c.enrol = True
        if self.basket is not None:
            self._attach()  # enrolment rides on the sale op
            self.show_result(v.Enrolled(saved_offline=not self.ports.online()))
            return
        op = {"v": 1, "op_id": str(uuid.uuid4()), "kind": "enrol",
              "token": {"kind": c.token.kind, "value": c.token.value,
                        "verified": c.token.verified},
              "enrol": True, "offline": not self.ports.online(), "created_at": now_iso(),
              "clock_synced": self.ports.clock_synced(), "program_version": self.program.version}
        try:
            self.outbox.settle(None, "enrol", op, token_key(c.token), 0)
        except OutboxFull:
            self.show_result(v.Trouble("queue", "Queue full: ask staff"))
            return
        self.show_result(v.Enrolled(saved_offline=not self.ports.online()))
        self.ports.signal("ok")
        self.customer = None

    def _hold_reward(self, c: Customer, reward_id: str) -> None:
        reward = self.program.reward(reward_id)
        if reward is None or self.basket is None:
            return
        key = token_key(c.token)
        if not self.ports.online():
            used = self.offline_redeemed.get(key, 0) + self._held_points(c)
            if used + reward.cost > self.cfg["offline"]["max_redeem_points"]:
                self.show_result(v.ErrorMessage("Rewards need the network now"))
                self.ports.signal("error")
                return
        c.held.append(reward_id)
        self._publish(topics.redemption(self.store, self.lane), "redemption", {
            "v": 1, "basket_id": self.basket["basket_id"], "reward_id": reward_id,
            "action": "apply", "points": reward.cost,
            "discount_minor": reward.discount_for(Basket.from_message(self.basket, "")),
            "currency": self.basket["currency"], **({"sku": reward.sku} if reward.sku else {})})
        self._attach()
        self.show_result(v.RewardHeld(reward.name, reward.cost, self.projected_balance(c)))
        self.ports.signal("reward")

    def _release_holds(self, c: Customer, publish: bool) -> None:
        for reward_id in c.held:
            reward = self.program.reward(reward_id)
            if publish and self.basket is not None and reward is not None:
                self._publish(topics.redemption(self.store, self.lane), "redemption", {
                    "v": 1, "basket_id": self.basket["basket_id"], "reward_id": reward_id,
                    "action": "cancel", "points": reward.cost})
        c.held.clear()
        if publish:
            self._attach()

    def _held_points(self, c: Customer) -> int:
        return sum(r.cost for r in map(self.program.reward, c.held) if r is not None)

    def _rewards_view(self, c: Customer) -> list[v.RewardChoice]:
        state = MemberState(c.member.member_id, self.projected_balance(c), c.member.tier)
        free = self.projected_balance(c)
        return [v.RewardChoice(r.reward_id, r.name, r.cost, r.cost <= free)
                for r in self.program.rewards(state)]

    # -- figures --------------------------------------------------------------------------------
    def projected_balance(self, c: Customer) -> int:
        """Last known balance + points queued but not acked - points held on this basket."""
        return c.member.balance + self.pending.get(token_key(c.token), 0) - self._held_points(c)

    def projected_earn(self, at: str = "") -> int:
        if self.basket is None:
            return 0
        c = self.customer
        state = MemberState(c.member.member_id, c.member.balance, c.member.tier) if c else MemberState()
        return self.program.quote(Basket.from_message(self.basket, at), state).earn

    # -- ledger: lookup and acks -------------------------------------------------------------------
    def _send_lookup(self, token: d.Token) -> None:
        c = self.customer
        c.lookup_id = uuid.uuid4().hex
        c.lookup_deadline = time.monotonic() + self.cfg["lookup"]["timeout_ms"] / 1000
        body = {"v": 1, "token": {"kind": token.kind, "value": token.value,
                                  "verified": token.verified}}
        self._publish(topics.LOOKUP, "lookup_request", body,
                      response_topic=topics.lookup_reply(self.store, self.kiosk_id),
                      correlation=c.lookup_id.encode())

    def on_LookupAnswered(self, ev: e.LookupAnswered) -> None:
        c = self.customer
        if c is None or ev.correlation != c.lookup_id:
            return  # a late answer for someone who has gone
        msg = ev.msg
        c.answered = True
        if msg["found"]:
            m = msg["member"]
            c.member = Member(m["id"], m.get("name") or short_card(c.token), m.get("tier", "member"),
                              msg.get("balance", 0), known=True)
            self._remember(c)
        self._attach()
        self.refresh()  # a confirmation still up (reward applied) stays up

    def _remember(self, c: Customer) -> None:
        key = token_key(c.token)
        self.cache[key] = replace(c.member)
        self.cache.move_to_end(key)
        while len(self.cache) > self.cfg["lookup"]["cache_size"]:
            self.cache.popitem(last=False)

    def on_AckReceived(self, ev: e.AckReceived) -> None:
        msg = ev.msg
        op_id = msg["op_id"]
        if op_id in self._acks:
            return  # a second ack for the same op in this batch
        entry = self.replayer.inflight.get(op_id)
        op = entry[0] if entry else self.outbox.get(op_id)
        if op is None:
            log.debug("ack for op %s that is no longer queued", op_id)
            return
        if msg["status"] == "rejected":
            log.warning("ledger rejected op %s: %s", op_id, msg.get("reason", ""))
            self.outbox.reject(op_id, msg.get("reason", "rejected"))
            self.replayer.acked([op_id])
        else:
            if msg.get("reason"):
                log.warning("ledger applied op %s in part: %s", op_id, msg["reason"])
                self.outbox.note_refusal(op_id, msg["reason"])
            self._acks.append(op_id)
        self.returns.acked(op.body, msg)
        key = op.member_key
        self.pending[key] = self.pending.get(key, 0) - op.points_delta
        if "balance" in msg and "member_id" in msg:
            cached = self.cache.get(key) or Member(name="Member")
            self.cache[key] = replace(cached, member_id=msg["member_id"], balance=msg["balance"],
                                      tier=msg.get("tier", cached.tier), known=True)

    def _send_op(self, message: dict) -> bool:
        topic = topics.ops(self.store, self.kiosk_id)
        return self.ports.publish(topic, messages.encode("op", message), 1)

    # -- network and time ---------------------------------------------------------------------------------
    def on_LinkUp(self, ev: e.LinkUp) -> None:
        self._status_due = 0.0
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
        self.refresh()

    def on_Tick(self, ev: e.Tick) -> None:
        c = self.customer
        if c and not c.answered and c.lookup_deadline and ev.now >= c.lookup_deadline:
            c.lookup_deadline = 0.0
            self.refresh()  # no answer in time: show the cached or pending figure, marked
        if self.screen_until and ev.now >= self.screen_until:
            self.screen_until = 0.0
            self.refresh()

    # -- screens -----------------------------------------------------------------------------------------
    def show(self, view: v.View) -> None:
        self.last_view = view
        self.ports.show(view)

    def show_result(self, view: v.View) -> None:
        """A message that stays up for a few seconds, then the screen returns to the moment."""
        self.screen_until = time.monotonic() + RESULT_SCREEN_S
        self.show(view)

    def show_customer(self) -> None:
        c = self.customer
        if c is None:
            return
        if self._offers_enrolment(c) and not c.enrol:
            self.show(v.EnrolOffer())
            return
        rewards = tuple(self._rewards_view(c))
        self.show(v.MemberRecognised(
            name=c.member.name, balance=self.projected_balance(c), tier=c.member.tier,
            projected_earn=self.projected_earn(), pending=self.pending.get(token_key(c.token), 0),
            balance_is_cached=not c.answered, rewards=rewards, selected=c.selected,
            unverified=c.token.kind == "uid" and not c.token.verified))

    def idle_view(self) -> v.View:
        if self.technician:
            return v.Technician(self.kiosk_id, f"{self.store}/{self.lane}",
                                "online" if self.ports.online() else "offline",
                                self.outbox.depth(),
                                tuple(f"{k}: {s}" for k, s in self.readers.items()))
        if self.queue_warning():
            return v.Trouble("queue", f"{self.outbox.depth()} ops waiting")
        if self.basket is not None:
            return v.BasketTotal(self.basket["total_minor"], self.basket["currency"],
                                 self.projected_earn())
        if not self.ports.online() and self.outbox.depth():
            return v.Offline(self.outbox.depth())
        return v.Idle(self.program.name, offline=not self.ports.online())

    def refresh(self) -> None:
        """Show what fits the moment, unless a result message is still up."""
        if self.screen_until and time.monotonic() < self.screen_until:
            return
        if self.customer is not None and not self.technician:
            self.show_customer()
        else:
            self.show(self.idle_view())

    # -- status --------------------------------------------------------------------------------------------
    def queue_warning(self) -> bool:
        o = self.cfg["outbox"]
        return self.outbox.depth() >= o["max_ops"] * o["warn_ratio"]

    def status_message(self, state: str = "online") -> dict:
        stats = self.outbox.stats()
        return {"v": 1, "state": state, "version": _version(),
                "queue_depth": stats.depth, "queue_limit": self.cfg["outbox"]["max_ops"],
                "queue_warning": self.queue_warning(), "oldest_pending_s": stats.oldest_age_s,
                "uptime_s": round(time.monotonic() - self.started, 1), "readers": self.readers,
                "display": self.ports.display_health(),
                "clock_synced": self.ports.clock_synced(), "at": now_iso()}

    def publish_status(self) -> None:
        self._status_due = time.monotonic() + 30.0
        self._publish(topics.status(self.store, self.kiosk_id), "status", self.status_message(),
                      retain=True)

    def _publish(self, topic: str, schema: str, body: dict, retain: bool = False,
                 response_topic: str | None = None, correlation: bytes | None = None) -> bool:
        return self.ports.publish(topic, messages.encode(schema, body), 1, retain,
                                  response_topic, correlation)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _version() -> str:
    from kiosk import __version__

    return __version__
