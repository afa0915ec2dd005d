"""What each screen says in one language, in slots the layouts place.

The one source of the screens' wording: translated, numbers in the locale's
format, lines in priority order (a small panel drops the last ones first).
display/screens.py fits these slots to a panel and draws them; the lines drawn
(``Frame.lines()``) are what the scenarios and the simulated kiosk read.
"""

from __future__ import annotations

from dataclasses import dataclass

from display import views as v
from display.i18n import Words


@dataclass(frozen=True)
class Content:
    tone: str  # info | ok | reward | warn | error | tech: header colour, alignment
    title: str
    big: str = ""  # the one thing to read from afar
    lines: tuple[str, ...] = ()  # most important first
    progress: float | None = None  # 0..1 bar under the lines
    bar_label: str = ""
    small: str = ""  # what a panel too small for the screen's picture (a QR code) says instead


def _(msgid: str) -> str:
    """Marks a msgid for extraction; translation happens through Words at render time."""
    return msgid


def content(view: v.View, w: Words) -> Content:
    match view:
        case v.Idle(program_name=name, offline=offline):
            return Content("idle", name, w(_("Tap your card")), (w(_("Offline")),) if offline else ())
        case v.Reading():
            return Content("info", w(_("Reading card…")), w(_("Hold still")), ())
        case v.BasketTotal(total_minor=t, currency=c, projected_points=p):
            earn = (w(_("Earn {points}"), points=w.pts(p)),) if p is not None else ()
            return Content("info", w(_("Total")), w.money(t, c), (*earn, w(_("Tap your card"))))
        case v.MemberRecognised() as m:
            return _member(m, w)
        case v.RewardHeld(reward_name=n, cost=c, balance_after=b):
            return Content("reward", w(_("Reward applied")), n,
                           ("-" + w.pts(c), w(_("Balance {points}"), points=w.num(b))))
        case v.PointsAdded() as p:
            return _points_added(p, w)
        case v.NotApplied(reason=r):
            return Content("error", w(_("Not applied")), w(r), (w(_("No points added")),))
        case v.EnrolOffer():
            return Content("info", w(_("New card")), w(_("Press select")), (w(_("to join")),))
        case v.Enrolled(saved_offline=off):
            extra = (w(_("Saved, will be added")),) if off else ()
            return Content("ok", w(_("Welcome!")), w(_("You joined")), extra)
        case v.AccountLink():  # the QR code beside it is display.screens' (the URL is no text)
            return Content("ok", w(_("Your account")), w(_("Scan to see your account")),
                           (w(_("Cancel to close")),), small=w(_("No room for the code")))
        case v.Offline(pending_ops=n):
            return Content("warn", w(_("Offline")), w(_("Points are saved")),
                           (w(_("and will be added")), w(_("{count} waiting"), count=w.num(n))))
        case v.Trouble(what=what, detail=d):
            return Content("warn", w(_TROUBLE.get(what, _("Trouble"))), w(d) if d else "", ())
        case v.ErrorMessage(reason=r):
            return Content("error", w(_("Sorry")), w(r), ())
        case v.Technician() as t:
            # Staff read this one: always English, so support can read it over the phone.
            return Content("tech", f"Kiosk {t.kiosk_id}", "",
                           (t.address, t.link_line, f"Outbox {t.outbox_depth}",
                            *t.readers))
    raise TypeError(f"unknown view {view!r}")


_TROUBLE = {"reader": _("Reader trouble"), "network": _("Network trouble"),
            "queue": _("Queue trouble"), "display": _("Display trouble")}
# Reasons the session shows; listed so they reach the catalogs.
_REASONS = (_("This card is not accepted"), _("Rewards need the network now"),
            _("Queue full: ask staff"), _("Card not read, try again"), _("Sold out"),
            _("Your account needs the network"), _("No account page here"),
            _("Card blocked: ask staff"))


def _member(m: v.MemberRecognised, w: Words) -> Content:
    lines = []
    if 0 <= m.selected < len(m.rewards):
        r = m.rewards[m.selected]
        lines.append(f"> {r.name} {w.num(r.cost)}")
    elif any(r.affordable for r in m.rewards):
        lines.append(w(_("Reward available")))
    # a personal offer is why the shop targeted this member: it comes before the routine lines
    lines += [w(_("For you: {offer}"), offer=name) for name in m.offers]
    if m.projected_earn:
        lines.append(w(_("+{points} today"), points=w.pts(m.projected_earn)))
    if m.tier:
        lines.append(m.tier)
    if m.pending:
        lines.append(w(_("{points} pending"), points=w.pts(m.pending)))
    if m.balance_is_cached:
        lines.append(w(_("Last known balance")))
    if m.unverified:
        lines.append(w(_("Card not verified")))
    big = w.pts(m.balance) + ("*" if m.balance_is_cached else "")
    progress = m.progress if m.next_goal else None
    label = w(_("{percent} to {goal}"), percent=w.percent(m.progress), goal=m.next_goal) \
        if m.next_goal else ""
    return Content("info", m.name, big, tuple(lines), progress, label)


def _points_added(p: v.PointsAdded, w: Words) -> Content:
    """The ledger's figures once it acked; before that the kiosk's preview, marked as one."""
    # a discount the POS did not give comes first: the customer expected it
    lines = [w(_("{reward}: points kept"), reward=name) for name in p.released]
    lines += [w(_("{reward}: redeemed"), reward=name) for name in p.kept]
    lines += ["-" + w.pts(p.redeemed)] if p.redeemed else []
    if p.confirmed:
        big = "+" + w.pts(p.earned)
        lines.append(w(_("Balance {points}"), points=w.num(p.balance)))
    else:
        big = w(_("about +{points}"), points=w.pts(p.earned))
        lines.append(w(_("Balance about {points}"), points=w.num(p.balance)))
    if p.saved_offline:
        lines.append(w(_("Will be added when online")))
    elif not p.confirmed:
        lines.append(w(_("To be confirmed")))
    if p.confirmed and p.tier:
        lines.append(p.tier)
    head = _("Points saved") if p.saved_offline else _("Points added")
    return Content("warn" if p.saved_offline else "ok", w(head), big, tuple(lines))
