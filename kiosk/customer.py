"""Who is at the counter: the token they showed, what the kiosk knows of them, what they hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from codes import tokens
from drivers import base as d
from program.engine import MemberState


@dataclass
class Member:
    """What the kiosk knows about a member; the balance is the ledger's last word."""

    member_id: str = ""
    name: str = ""
    tier: str = "member"
    balance: int = 0
    known: bool = False  # the ledger confirmed the member exists
    # offer id -> name: the personal offers the ledger's last lookup reply listed (kept with
    # the cached member, so offline the kiosk still prices what it was last told)
    offers: dict[str, str] = field(default_factory=dict)

    def state(self, balance: int | None = None) -> MemberState:
        """What the kiosk prices this member with: the ledger's balance (or ``balance``), tier,
        and the targeted offers the ledger said reach them (program.engine.in_segments)."""
        return MemberState(self.member_id, self.balance if balance is None else balance,
                           self.tier, {"offers": tuple(self.offers)})


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
    listed: tuple[str, ...] | None = None  # reward ids the ledger's lookup reply offers
    reservations: dict[str, str] = field(default_factory=dict)  # reward id -> ledger's hold
    cancelled: list[str] = field(default_factory=list)  # held, then cancelled on this basket
    reserving: tuple[str, str, float] | None = None  # (reward id, correlation, deadline)
    basket_id: str = ""

    def attachment_record(self) -> dict:
        """What the outbox keeps of an attached customer, so a restart finds them again."""
        t = self.token
        return {"kind": t.kind, "value": t.value, "reader": t.reader, "verified": t.verified,
                "proof": t.proof, "member": self.member.__dict__, "held": self.held,
                "enrol": self.enrol, "reservations": self.reservations,
                "cancelled": self.cancelled}

    @classmethod
    def from_attachment(cls, data: dict, basket_id: str) -> Customer:
        """The customer :meth:`attachment_record` saved for ``basket_id``."""
        token = d.Token(data["kind"], data["value"], data["reader"], verified=data["verified"],
                        proof=data.get("proof"))  # the ledger checks it: keep it across a restart
        return cls(token, Member(**data["member"]), held=data["held"], enrol=data["enrol"],
                   basket_id=basket_id, answered=True,
                   reservations=data.get("reservations", {}),
                   cancelled=data.get("cancelled", []))


def token_key(token: d.Token) -> str:
    """The key the ledger uses for this card or code (codes.tokens)."""
    return tokens.token_key(token.kind, token.value)


def short_card(token: d.Token) -> str:
    """A name for a card nobody has named yet: its last four digits."""
    return "Card ..." + token.value[-4:] if token.kind != "qr" else "Member"


# The ledger's reason codes in a lookup reply for a card it refuses (ledger/blocks.py): a
# replaced card, or a member staff blocked. The kiosk says so and offers no joining.
BLOCKED = ("card_blocked", "member_blocked")


def offers_enrolment(c: Customer) -> bool:
    """An unknown card the ledger did not find, or one seen offline for the first time."""
    # Offline we cannot ask; joining twice is harmless (the ledger keeps the first member).
    return not c.member.known and (c.answered or c.maybe_new)

