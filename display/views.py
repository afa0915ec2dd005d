"""View models: what a screen says, with no pixels in it.

The session builds these; :mod:`display.screens` turns one into a PIL image.
Amounts are integer minor units with an ISO 4217 currency, points are ints.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RewardChoice:
    reward_id: str
    name: str
    cost: int
    affordable: bool


@dataclass(frozen=True)
class Idle:
    program_name: str
    offline: bool = False


@dataclass(frozen=True)
class Reading:
    """A card is in the field; shown before any network answer."""


@dataclass(frozen=True)
class BasketTotal:
    total_minor: int
    currency: str
    projected_points: int | None = None


@dataclass(frozen=True)
class MemberRecognised:
    name: str
    balance: int
    tier: str
    projected_earn: int = 0
    pending: int = 0  # points queued offline, already in ``balance``
    balance_is_cached: bool = False  # ledger did not answer in time
    rewards: tuple[RewardChoice, ...] = ()
    selected: int = -1  # index into rewards the buttons point at, -1 for none
    next_goal: str = ""  # e.g. "Free coffee" or "Gold"
    progress: float = 0.0  # 0..1 towards next_goal
    unverified: bool = False  # plain UID card
    offers: tuple[str, ...] = ()  # names of the member's personal offers (segment-targeted)


@dataclass(frozen=True)
class RewardHeld:
    """Redeem confirmation: the POS was asked to apply the discount."""

    reward_name: str
    cost: int
    balance_after: int


@dataclass(frozen=True)
class PointsAdded:
    """A paid basket's result: the kiosk's preview until ``confirmed``, then the ledger's ack."""

    earned: int
    redeemed: int
    balance: int
    saved_offline: bool = False  # op is durable but the ledger has not acked yet
    confirmed: bool = False  # the figures are the ledger's (from its ack), not a preview
    tier: str = ""  # the member's tier after the op, as the ledger says
    released: tuple[str, ...] = ()  # rewards held but not discounted by the POS: points kept
    kept: tuple[str, ...] = ()  # cancelled at the kiosk, yet discounted by the POS: points spent


@dataclass(frozen=True)
class NotApplied:
    """The ledger refused a paid basket's op: nothing was added or spent."""

    reason: str


@dataclass(frozen=True)
class EnrolOffer:
    """An unknown card: press select to join."""


@dataclass(frozen=True)
class Enrolled:
    saved_offline: bool = False


@dataclass(frozen=True)
class AccountLink:
    """"Scan to see your account": the ledger's signed link to the member's page as a QR code.
    Shown, never stored: the kiosk keeps no personal data past the screen."""

    url: str


@dataclass(frozen=True)
class Offline:
    """Network down: points are saved and will be added."""

    pending_ops: int = 0


@dataclass(frozen=True)
class Trouble:
    """A device or link problem the customer should know about (reader, network, queue)."""

    what: str  # "reader" | "network" | "queue" | "display"
    detail: str = ""


@dataclass(frozen=True)
class ErrorMessage:
    reason: str


# The technician screen's link line: a cut uplink (the store broker is up, its bridge to the
# ledger's broker is not) is not a lost broker, and the fix differs (the shop's internet link,
# not the kiosk's network).
LINK_LINES = {"online": "Broker online", "uplink offline": "Uplink offline",
              "broker offline": "Broker offline"}


@dataclass(frozen=True)
class Technician:
    kiosk_id: str
    address: str
    broker: str  # "online", "uplink offline" or "broker offline"
    outbox_depth: int
    readers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def link_line(self) -> str:
        return LINK_LINES.get(self.broker, f"Broker {self.broker}")


View = (
    Idle | Reading | BasketTotal | MemberRecognised | RewardHeld | PointsAdded | NotApplied
    | EnrolOffer | Enrolled | AccountLink | Offline | Trouble | ErrorMessage | Technician
)
