"""The words each screen shows, as lines; the renderer draws them, scenarios check them."""

from __future__ import annotations

from display import views as v


def money(minor: int, currency: str) -> str:
    return f"{minor / 100:.2f} {currency}"


def describe(view: v.View) -> list[str]:
    """Lines of text for ``view``, top to bottom (English)."""
    match view:
        case v.Idle(program_name=name, offline=offline):
            return [name, "Tap your card", "(offline)" if offline else ""]
        case v.Reading():
            return ["Reading card..."]
        case v.BasketTotal(total_minor=t, currency=c, projected_points=p):
            lines = ["Total " + money(t, c)]
            if p is not None:
                lines.append(f"Earn {p} pts")
            return lines + ["Tap your card"]
        case v.MemberRecognised() as m:
            mark = "*" if m.balance_is_cached else ""
            lines = [m.name + (" (unverified)" if m.unverified else ""),
                     f"{m.balance}{mark} pts  {m.tier}"]
            if m.pending:
                lines.append(f"{m.pending} pts pending")
            if m.projected_earn:
                lines.append(f"+{m.projected_earn} pts today")
            if 0 <= m.selected < len(m.rewards):
                r = m.rewards[m.selected]
                lines.append(f"> {r.name} {r.cost}")
            elif any(r.affordable for r in m.rewards):
                lines.append("Reward available")
            return lines
        case v.RewardHeld(reward_name=n, cost=c, balance_after=b):
            return ["Reward applied", n, f"-{c} pts -> {b}"]
        case v.PointsAdded(earned=e, redeemed=r, balance=b, saved_offline=off):
            head = "Points saved" if off else "Points added"
            lines = [head, f"+{e} pts"]
            if r:
                lines.append(f"-{r} pts")
            lines.append(f"Balance {b}")
            if off:
                lines.append("will be added")
            return lines
        case v.EnrolOffer():
            return ["New card", "Press select", "to join"]
        case v.Enrolled(saved_offline=off):
            return ["Welcome!", "You joined" + (" (saved)" if off else "")]
        case v.Offline(pending_ops=n):
            return ["Offline", "Your points are saved", f"and will be added ({n})"]
        case v.Trouble(what=w, detail=d):
            return [f"{w.capitalize()} trouble", d]
        case v.ErrorMessage(reason=r):
            return ["Sorry", r]
        case v.Technician() as t:
            return [f"Kiosk {t.kiosk_id}", t.address, t.link_line,
                    f"Outbox {t.outbox_depth}", *t.readers]
    raise TypeError(f"unknown view {view!r}")
