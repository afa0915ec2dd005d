"""What the session may do to the world, and where its time comes from.

The kiosk app wires these to the broker link, the screen, the GPIO feedback and the real
clocks; tests and benchmarks pass recorders and a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from display import views as v
from mqtt.timestamps import now_iso


@dataclass
class Ports:
    publish: Callable[..., bool]  # (topic, payload, qos=1, retain=False, response_topic, correlation)
    show: Callable[[v.View], None]
    signal: Callable[[str], None] = lambda pattern: None
    # Run a call once the frame being prepared is drawn (the app: LatestView.after, first).
    after_frame: Callable[..., None] = lambda fn, *args: fn(*args)
    online: Callable[[], bool] = lambda: False
    link_state: Callable[[], str] = lambda: "broker offline"  # for the technician screen
    clock_synced: Callable[[], bool] = lambda: False
    display_health: Callable[[], str] = lambda: "ok"
    monotonic: Callable[[], float] = time.monotonic  # deadlines, result screens, uptime
    now_iso: Callable[[], str] = now_iso  # informational wall time in ops and status
