"""The "scan to see your account" screen: the ledger's signed link to a member's page, asked
for by a lookup with ``ask_link`` (contract v1.3) and shown as a QR code (display.screens).

Two moments ask for it: a customer who has just joined (when the ledger acks their enrolment,
within JOIN_WINDOW_S, so a late ack after an offline spell shows nothing to the next person),
and a found member who long-presses select. The kiosk keeps no link: it lives in the view on
screen and goes with it. Only a ledger that announces contract 1.3 or later is asked; an older
one would refuse a lookup carrying ``ask_link``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from drivers.base import Token

LINKS_SINCE = (1, 3)  # the contract that added ask_link / account_link
JOIN_WINDOW_S = 60.0  # a join acked later than this: the customer has gone
SCREEN_S = 30.0  # how long the code stays up (cancel closes it sooner)


@dataclass(frozen=True)
class Ask:
    correlation: str
    deadline: float  # monotonic; no answer by then: the ledger did not answer in time
    on_request: bool  # the customer asked (long press): tell them if it fails


class AccountLinks:
    def __init__(self) -> None:
        self.contract: tuple[int, int] = (1, 0)  # from the ledger's capabilities message
        self._joins: dict[str, tuple[Token, float]] = {}  # op_id -> (token, until)
        self._ask: Ask | None = None
        self.waiting: str = ""  # a link that came while another result was up: shown next

    def available(self) -> bool:
        return self.contract >= LINKS_SINCE

    def joined(self, op_id: str, token: Token, now: float) -> None:
        """The customer with ``token`` joined in op ``op_id``: show their link on its ack."""
        self._joins = {k: j for k, j in self._joins.items() if j[1] > now}
        self._joins[op_id] = (token, now + JOIN_WINDOW_S)

    def joined_token(self, ack: dict, now: float) -> Token | None:
        """The token to ask a link for, when ``ack`` confirms a join made moments ago."""
        join = self._joins.pop(ack["op_id"], None)
        if join is None or ack["status"] == "rejected" or join[1] <= now:
            return None
        return join[0]

    def ask(self, deadline: float, on_request: bool) -> str:
        """A new request's correlation; an older one still out is forgotten."""
        self._ask = Ask(uuid.uuid4().hex, deadline, on_request)
        return self._ask.correlation

    def answered(self, correlation: str) -> Ask | None:
        """The ask this lookup reply answers (then it is done), or None: not ours."""
        ask = self._ask
        if ask is None or correlation != ask.correlation:
            return None
        self._ask = None
        return ask

    def overdue(self, now: float) -> Ask | None:
        """The ask whose answer is late at ``now`` (once), or None."""
        ask = self._ask
        if ask is None or now < ask.deadline:
            return None
        self._ask = None
        return ask


def link_of(reply: dict) -> str:
    """The link in a lookup reply ('' when the member was not found or the ledger has none)."""
    return reply.get("account_link", "") if reply.get("found") else ""
