"""The kiosk's retained status message: link state, queue, readers, display, clock, and the
program version it prices with (so the fleet page shows which kiosks have a new program)."""

from __future__ import annotations

from collections.abc import Mapping

from kiosk import __version__
from kiosk.outbox import Outbox, OutboxStats
from kiosk.ports import Ports
from kiosk.publisher import Publisher
from mqtt.messages import VERSION

STATUS_EVERY_S = 30.0  # republished this often, and at once when something changes


def queue_warning(depth: int, max_ops: int, warn_ratio: float) -> bool:
    """The outbox is nearly full (config outbox.warn_ratio of outbox.max_ops)."""
    return depth >= max_ops * warn_ratio


def status_message(*, state: str, stats: OutboxStats, queue_limit: int, warning: bool,
                   uptime_s: float, readers: Mapping[str, str], display: str,
                   clock_synced: bool, at: str, program_version: int | None = None) -> dict:
    body = {"v": VERSION, "state": state, "version": __version__,
            "queue_depth": stats.depth, "queue_limit": queue_limit, "queue_warning": warning,
            "oldest_pending_s": stats.oldest_age_s, "uptime_s": round(uptime_s, 1),
            "readers": readers, "display": display, "clock_synced": clock_synced, "at": at}
    if program_version is not None:
        body["program_version"] = program_version
    return body



class KioskStatus:
    """The status the kiosk keeps and republishes: every STATUS_EVERY_S, or soon after a change."""

    def __init__(self, outbox: Outbox, ports: Ports, out: Publisher,
                 limits: Mapping[str, float]) -> None:
        self.outbox, self.ports, self.out = outbox, ports, out
        self.limits = limits  # config [outbox]: max_ops, warn_ratio, read when used
        self.readers: dict[str, str] = {}  # reader name -> "ok" or what is wrong
        self.started = ports.monotonic()
        self.due = 0.0  # monotonic time of the next publish; 0: at the end of this batch
        self.program_version: int | None = None  # set by the session as programs arrive

    def soon(self) -> None:
        self.due = 0.0

    def queue_warning(self) -> bool:
        return queue_warning(self.outbox.depth(), self.limits["max_ops"],
                             self.limits["warn_ratio"])

    def message(self, state: str = "online") -> dict:
        p = self.ports
        return status_message(
            state=state, stats=self.outbox.stats(), queue_limit=self.limits["max_ops"],
            warning=self.queue_warning(), uptime_s=p.monotonic() - self.started,
            readers=self.readers, display=p.display_health(), clock_synced=p.clock_synced(),
            at=p.now_iso(), program_version=self.program_version)

    def publish_if_due(self, now: float) -> None:
        if now >= self.due:
            self.due = self.ports.monotonic() + STATUS_EVERY_S
            self.out.status(self.message())
