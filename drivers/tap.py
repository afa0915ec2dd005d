"""Debounce: which presence changes seen by a polling driver are taps and removals.

A card held on the reader is one tap. A card that leaves the field and comes back
within ``debounce_s`` (a card wobbling at the edge of the field) is the same tap,
unless its read had failed: then the customer is asked to try again and must not
be ignored when they do.
"""

from __future__ import annotations


class TapTracker:
    def __init__(self, debounce_s: float) -> None:
        self.debounce_s = debounce_s
        self.current: bytes | None = None
        self._announced = False
        self._gone: tuple[bytes, float] | None = None
        self._failed = False

    def present(self, card: bytes, now: float) -> bool:
        """A card is in the field; True when it is a new tap that should be read.

        When another card replaced the current one, call ``absent`` first.
        """
        if card == self.current:
            return False
        self.current = card
        gone = self._gone
        bounce = gone is not None and gone[0] == card and now - gone[1] < self.debounce_s
        self._announced = not bounce
        self._failed = False
        return self._announced

    def failed(self) -> None:
        """The read of the current card failed: held, it is not re-read; back later, it is."""
        self._failed = True

    def absent(self, now: float) -> bool:
        """No card in the field; True when a removal event should be sent."""
        if self.current is None:
            return False
        was = self._announced
        self._gone = None if self._failed else (self.current, now)
        self.current = None
        return was
