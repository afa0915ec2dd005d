"""A paid basket's result on screen: the kiosk's preview, then the ledger's word.

The preview (points the kiosk priced, the projected balance) is marked as one until the op's
ack arrives; then the ack's figures (earned, redeemed, balance, tier) replace it, or a "not
applied" screen with the ledger's reason when it refused the op. Only a preview still on screen
is replaced: a customer who has moved on is not interrupted.
"""

from __future__ import annotations

from display import views as v
from kiosk.screen_timer import ScreenTimer


def from_ack(ack: dict, preview: v.PointsAdded) -> v.View:
    """The screen the ledger's ``ack`` (a validated ack message) says for ``preview``."""
    if ack["status"] == "rejected":
        return v.NotApplied(ack.get("reason") or "rejected")
    if "balance" not in ack:
        return preview  # an ack without figures confirms nothing on screen
    return v.PointsAdded(ack.get("earned", preview.earned), ack.get("redeemed", preview.redeemed),
                         ack["balance"], confirmed=True, tier=ack.get("tier", ""),
                         released=preview.released)


class ResultScreen:
    """Which op the preview on screen belongs to, so its ack can replace it."""

    def __init__(self, screen: ScreenTimer) -> None:
        self.screen = screen
        self.op_id = ""
        self._preview: v.PointsAdded | None = None

    def preview(self, op_id: str, view: v.PointsAdded) -> None:
        self.op_id, self._preview = op_id, view
        self.screen.show_result(view)

    def ack(self, msg: dict) -> None:
        """An ack arrived: if it is for the preview still up, show the ledger's figures."""
        if not self.op_id or msg["op_id"] != self.op_id:
            return
        preview, self.op_id, self._preview = self._preview, "", None
        if self.screen.result_up() and self.screen.last_view is preview:
            self.screen.show_result(from_ack(msg, preview))
