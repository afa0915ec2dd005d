"""One frame per batch of events: the session's last view is drawn once the batch is handled.

A tap reaches the session as two events, the card seen and the token read; on a simulated
reader, or a reader that reads fast, both are in one batch. Drawing "Reading..." and then the
member's screen cost two renders (a few ms each here, tens on a Pi) before the customer sees
their figures, and the lookup request waited behind the first. Views shown while a batch is
handled are on screen for microseconds, so only the last one is drawn: the lookup goes out
before any render, and a reader whose read takes longer still shows "Reading..." (its token
arrives in a later batch).

Work that the customer does not wait for, the LED and buzzer patterns, is held with ``after``
until the frame is drawn: waking the feedback thread during a render made the render compete
with it for Python's GIL (the kiosk section of docs/benchmarks.md). A light a few ms later is
not seen as late; a frame is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from display import views as v

log = logging.getLogger(__name__)


class LatestView:
    """Stands in for the screen's ``show`` during a batch; ``flush`` draws what was shown last."""

    def __init__(self, show: Callable[[v.View], None]) -> None:
        self._show = show
        self._view: v.View | None = None
        self._after: list[tuple[Callable[..., object], tuple]] = []

    def show(self, view: v.View) -> None:
        self._view = view

    def after(self, fn: Callable[..., object], *args: object, first: bool = False) -> None:
        """Run ``fn(*args)`` once this batch's frame is drawn (at the next ``flush``);
        ``first``: before what waits already (a lookup before the LED's pattern)."""
        if first:
            self._after.insert(0, (fn, args))
        else:
            self._after.append((fn, args))

    def flush(self) -> None:
        """Draw the last view shown since the previous flush, if any; then run what waited."""
        view, self._view = self._view, None
        if view is not None:
            try:
                self._show(view)
            except Exception:  # noqa: BLE001 - one view that fails to draw must not stop the kiosk
                log.exception("drawing %s failed", type(view).__name__)
        waiting, self._after = self._after, []
        for fn, args in waiting:
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - nor may a feedback pattern that fails
                log.exception("after the frame: %s failed", getattr(fn, "__qualname__", fn))
