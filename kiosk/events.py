"""Events the session consumes besides the drivers' ones (see drivers.base)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BasketUpdate:
    msg: dict  # validated basket message


@dataclass(frozen=True)
class BasketRefused:
    basket_id: str
    reason: str  # why the basket message broke the contract (mqtt.messages.BadMessage)


@dataclass(frozen=True)
class RefundRequested:
    msg: dict  # validated refund message (kiosk.returns.read_refund)


@dataclass(frozen=True)
class AckReceived:
    msg: dict  # validated ack message


@dataclass(frozen=True)
class LookupAnswered:
    correlation: str
    msg: dict  # validated lookup_reply


@dataclass(frozen=True)
class ReserveAnswered:
    correlation: str
    msg: dict  # validated reserve_reply (contract v1.1)


@dataclass(frozen=True)
class ProgramReceived:
    program: object  # a verified program.engine.Program


@dataclass(frozen=True)
class LedgerCapabilities:
    max_ops_per_batch: int  # 1: the ledger reads one op per message (contract v1.0)
    contract: tuple[int, int] = (1, 0)  # what it speaks; (1, 3): lookups may ask for a link


@dataclass(frozen=True)
class LinkUp:
    session_present: bool


@dataclass(frozen=True)
class LinkDown:
    reason: str


@dataclass(frozen=True)
class Tick:
    now: float


@dataclass(frozen=True)
class Stop:
    """Finish the current step, save state and leave the loop."""
