"""systemd's notify protocol (sd_notify) in a few lines: READY=1, WATCHDOG=1, STOPPING=1.

The service runs with Type=notify and WatchdogSec: systemd restarts it when the pings stop.
The event loop pings once per turn, so a stalled loop (a driver call that hangs, a deadlock)
stops the pings, even while paho's and the readers' threads are still alive.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


def _address(raw: str) -> str | bytes:
    # "@name" is an abstract socket (a leading NUL byte in the address).
    return b"\0" + raw[1:].encode() if raw.startswith("@") else raw


def notify(state: str, env: dict | None = None) -> bool:
    """Send one sd_notify message; False (and no error) when not run by systemd."""
    raw = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not raw:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(_address(raw))
            s.sendall(state.encode())
        return True
    except OSError as exc:
        log.warning("sd_notify %s to %s failed: %s", state.split("=")[0], raw, exc)
        return False


class Watchdog:
    """Pings at most every half of WatchdogSec, however often ``ping`` is called."""

    def __init__(self, interval_s: float, env: dict | None = None) -> None:
        self.every = interval_s / 2
        self.env = env
        self._last = float("-inf")

    @classmethod
    def from_env(cls, env: dict | None = None) -> Watchdog | None:
        """A watchdog when systemd asked for one (NOTIFY_SOCKET and WATCHDOG_USEC), else None."""
        env = env if env is not None else os.environ
        usec = env.get("WATCHDOG_USEC", "")
        if not env.get("NOTIFY_SOCKET") or not usec.isdigit() or int(usec) == 0:
            return None
        pid = env.get("WATCHDOG_PID", "")
        if pid.isdigit() and int(pid) != os.getpid():
            return None  # the watchdog is meant for another process (e.g. our parent)
        return cls(int(usec) / 1e6, env)

    def ping(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            notify("WATCHDOG=1", self.env)
