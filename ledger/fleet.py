"""The fleet's state from the kiosks' retained status messages, and what needs a technician.

A kiosk's last will says only "offline": the queue depth it had is taken from the last full
status seen (kept in a small JSON file between runs), so a kiosk that went away while holding
unsynced ops is still flagged. An "online" status that has not been refreshed for
``STALE_S`` (``--stale``) counts as offline too: that is what a store whose uplink is cut looks
like from here. A kiosk that is known (seen before, or provisioned: ``--kiosks``) and has no
status on the broker at all (it never reported, or the broker lost its retained messages) is
listed offline as well, never left out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STALE_S = 120.0  # kiosks publish status every 30 s
PENDING_ALERT_S = 15 * 60.0  # an op this old has not reached the ledger: worth a look


@dataclass
class KioskRow:
    store: str
    kiosk: str
    state: str
    last_seen: str | None
    version: str | None
    queue_depth: int | None
    oldest_pending_s: float | None
    flag: str = ""
    readers: dict = field(default_factory=dict)  # reader name -> "ok" or what is wrong
    display: str | None = None
    program_version: int | None = None  # the program the kiosk prices with (status v1.3)

    def as_dict(self) -> dict:
        return asdict(self)


def _age(at: str | None, now: dt.datetime) -> float | None:
    try:
        return (now - dt.datetime.fromisoformat(at)).total_seconds() if at else None
    except ValueError:
        return None


def row(store: str, kiosk: str, status: dict | None, known: dict | None, now: dt.datetime,
        stale_s: float = STALE_S) -> KioskRow:
    """One kiosk's row: its status (None: none on the broker), filled in from the last full
    status when it lacks figures."""
    full = status if status and "queue_depth" in status else (known or {})
    at = (status or {}).get("at") or full.get("at")
    age = _age(at, now)
    state = status.get("state", "unknown") if status else "offline"
    silent = state == "online" and age is not None and age > stale_s
    if silent:
        state = "offline"
    depth = full.get("queue_depth")
    oldest = full.get("oldest_pending_s")
    if oldest is not None and age is not None and depth:
        oldest = round(oldest + age, 1)  # the status was that old already
    r = KioskRow(store, kiosk, state, at, full.get("version"), depth, oldest,
                 readers=full.get("readers", {}), display=full.get("display"),
                 program_version=full.get("program_version"))
    r.flag = _flag(r, status, known, silent, age, full.get("queue_warning"))
    return r


def _flag(r: KioskRow, status: dict | None, known: dict | None, silent: bool,
          age: float | None, queue_warning: bool | None) -> str:
    if r.state == "online":
        return "queue nearly full" if queue_warning else ""
    if r.queue_depth:
        return f"OFFLINE WITH {r.queue_depth} UNSYNCED OPS"
    if status is None:
        return "no status on the broker" if known else "never reported"
    if silent:
        return f"no status for {age / 60:.0f} min"
    return "offline, queue unknown" if r.queue_depth is None else ""


def alert(r: KioskRow, pending_limit_s: float = PENDING_ALERT_S) -> str:
    """What needs a technician now: a kiosk offline holding unsynced ops, or one whose oldest
    pending op has waited longer than ``pending_limit_s`` (its ops do not reach the ledger)."""
    if r.state != "online" and r.queue_depth:
        return f"offline with {r.queue_depth} unsynced ops"
    if r.queue_depth and r.oldest_pending_s is not None and r.oldest_pending_s > pending_limit_s:
        return (f"oldest pending op waiting {r.oldest_pending_s / 60:.0f} min"
                f" (more than {pending_limit_s / 60:.0f})")
    return ""


def rows(statuses: dict[str, dict], known: dict[str, dict], expected: set[str],
         now: dt.datetime, stale_s: float = STALE_S) -> list[KioskRow]:
    """A row for every kiosk with a status, seen before (``known``) or provisioned
    (``expected``, "store/kiosk"), sorted."""
    keys = sorted(set(statuses) | set(known) | expected)
    return [row(*key.split("/"), statuses.get(key), known.get(key), now, stale_s)
            for key in keys]


def load_known(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}  # a lost cache only costs the figures of kiosks already offline


def save_known(path: str, known: dict, statuses: dict) -> None:
    if not path:
        return
    for key, status in statuses.items():
        if "queue_depth" in status:
            known[key] = status
    tmp = Path(path + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(known, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def table(rows: list[KioskRow]) -> str:
    head = ("store", "kiosk", "state", "last seen", "queue", "oldest pending", "flag")
    lines = [head]
    for r in rows:
        oldest = "-" if r.oldest_pending_s is None else f"{r.oldest_pending_s / 60:.0f} min"
        lines.append((r.store, r.kiosk, r.state, (r.last_seen or "-")[:19],
                      "?" if r.queue_depth is None else str(r.queue_depth), oldest, r.flag))
    widths = [max(len(x[i]) for x in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip() for x in lines)
