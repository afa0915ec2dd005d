"""What the ledger trusts a kiosk with: the proof keys it checks tokens with (ledger.proof) and
the kiosk policy (ledger.policy), given to `ledger serve` as one object. ``Trust()``: no keys,
no policy, which is today's behaviour for kiosks plus the proof checks (no qr token passes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.policy import KioskPolicy
from ledger.proof import Checked, ProofKeys, check_counter, check_token
from ledger.store import LedgerStore


@dataclass(frozen=True)
class Trust:
    keys: ProofKeys = field(default_factory=ProofKeys)
    policy: KioskPolicy = field(default_factory=KioskPolicy)
    clock: Callable[[], float] = time.time  # wall time, for QR codes' time steps

    def token(self, store: LedgerStore, token: dict, origin: tuple[str, str],
              record: bool) -> Checked:
        """Check ``token``'s proof; ``record``: an op (its SUN counter is kept), else a lookup
        (an app code must be current, nothing is written). ProofRefused if it does not hold."""
        checked = check_token(token, self.keys, self.clock(), live=not record)
        if checked.sun is not None:
            check_counter(store, checked.sun, origin, record)
        return checked
