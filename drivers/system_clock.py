"""What the Pi's clock is worth: it has no real-time clock, so time is right only once synced.

Ordering never depends on wall time (ops carry a per-kiosk sequence); these
answer whether a timestamp can be trusted (ops flag ``clock_synced``) and
whether a time-boxed QR code can be judged at all.
"""

from __future__ import annotations

import os
import time

SYNCED_FLAG = "/run/systemd/timesync/synchronized"  # systemd-timesyncd leaves it once synced
CLOCK_FLOOR = 1_735_689_600  # 2025-01-01: a Pi without RTC that reads less has no real time


def clock_synced() -> bool:
    """The clock was set from the network since boot (systemd-timesyncd says so)."""
    return os.path.exists(SYNCED_FLAG)


def wall_clock() -> float | None:
    """Unix time, or None when the clock has obviously never been set."""
    now = time.time()
    return now if now >= CLOCK_FLOOR else None
