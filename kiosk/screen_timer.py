"""Puts views on the customer's screen; a result message holds it for a few seconds.

"Points added", errors and confirmations stay up for RESULT_SCREEN_S even when the moment moves
on (a lookup answer, a basket update): the session's refresh waits until they have been read.
"""

from __future__ import annotations

from collections.abc import Callable

from display import views as v

RESULT_SCREEN_S = 6.0  # how long "points added" and errors stay up


class ScreenTimer:
    def __init__(self, show: Callable[[v.View], None], monotonic: Callable[[], float]) -> None:
        self._show, self._monotonic = show, monotonic  # Ports.show, Ports.monotonic
        self.until = 0.0  # monotonic time the result message may go; 0: none up
        self.last_view: v.View | None = None

    def show(self, view: v.View) -> None:
        self.last_view = view
        self._show(view)

    def show_result(self, view: v.View, seconds: float = RESULT_SCREEN_S) -> None:
        """A message that stays up for ``seconds``, then the screen returns to the moment."""
        self.until = self._monotonic() + seconds
        self.show(view)

    def result_up(self) -> bool:
        return bool(self.until) and self._monotonic() < self.until

    def clear(self) -> None:
        """End the result message now (a new tap: the customer wants their figures)."""
        self.until = 0.0

    def expired(self, now: float) -> bool:
        """True once, when a result message's time is up at ``now`` (a Tick's time)."""
        if self.until and now >= self.until:
            self.until = 0.0
            return True
        return False
