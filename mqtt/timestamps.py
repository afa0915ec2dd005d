"""Timestamps as contract messages and the ledger's records write them: UTC, ISO 8601, ms.

Informational only: ordering never depends on them (the Pi has no real-time clock; see
``clock_synced`` in the op and status messages).
"""

from __future__ import annotations

import datetime as dt
import time


def iso(epoch_s: float) -> str:
    """``epoch_s`` (seconds since 1970, as ``time.time()``) as ``2026-01-31T12:00:00.250+00:00``."""
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds")


def now_iso() -> str:
    """The wall clock now, formatted as :func:`iso`."""
    return iso(time.time())
