"""The rotating member QR code on the member's page: the codes of the next time steps, signed
now (codes.member_qr.app_code, the ledger's QR key, as `ledger qr` signs them) and drawn as SVG
(segno), so the page's script (ledger/web/static/member-qr.js) can show each in its turn while
the phone is offline, for STEPS periods.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from codes import member_qr

STEPS = 20  # 20 x 30 s: ten minutes of codes without the network


@dataclass(frozen=True)
class TimedCode:
    text: str  # what the kiosk's camera reads
    starts: int  # Unix seconds the code's time step begins
    ends: int
    svg: str  # inline <svg>, no script, no external reference


def codes_ahead(key: Ed25519PrivateKey, program: str, member_id: str, period: int = 30,
                steps: int = STEPS, now: float | None = None) -> list[TimedCode]:
    """The app codes of ``member_id`` for this time step and the ``steps - 1`` after it."""
    import segno

    now = time.time() if now is None else now
    first = int(now // period)
    out = []
    for step in range(first, first + steps):
        text = member_qr.app_code(key, program, member_id, period, now=step * period)
        svg = segno.make(text, error="m", micro=False).svg_inline(
            scale=4, border=4, dark="#000", light="#fff", title="Your member code")
        out.append(TimedCode(text, step * period, (step + 1) * period, svg))
    return out
