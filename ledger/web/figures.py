"""The dashboard's figures, built once per period, store and data version and then reused.

``ledger.report.build`` reads the whole period (seconds on PostgreSQL at 100,000 members), far
too slow for every page view. A ``FigureCache`` keeps the last few builds, each with the data
version (ledger/data_version.py) it was built at: a request reads the version (five index reads)
and takes the kept figures only when it is unchanged, so an op applied a moment ago is on the
next page. Several requests for figures not built yet wait for one build instead of each
running it. In-process and bounded: each ``ledger web`` process keeps its own few entries.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger import kpi_series, report, segment_book
from ledger.report_scope import Period, Scope
from ledger.store import LedgerStore
from program.segments import RFM_SEGMENTS

Key = tuple  # (first day, last day included, store or None), or another page's own key


@dataclass
class Built:
    """Figures of one (period, store) at one data version, and the charts drawn from them."""

    figures: dict
    segments: dict[str, int]
    kiosks: dict
    charts: dict[str, str] = field(default_factory=dict)  # name -> SVG, drawn when first asked


def build(store: LedgerStore, key: Key) -> Built:
    """What the dashboard shows, from the ledger's own functions (those `ledger report` and
    `ledger segments list` use)."""
    first, last, store_id = key
    period, scope = Period(first, last + dt.timedelta(days=1)), Scope(store=store_id)
    return Built(report.build(store, period, scope, report.settings(store)),
                 segment_sizes(store), kpi_series.kiosks(store, period, scope))


def segment_sizes(store: LedgerStore) -> dict[str, int]:
    """Each segment's size at its last refresh, as `ledger segments list` shows it; segments
    never refreshed are left out."""
    found = {}
    for segment_id in [*RFM_SEGMENTS, *segment_book.definitions(store)]:
        history = segment_book.sizes(store, segment_id)
        if history:
            found[segment_id] = history[-1][1]
    return found


class FigureCache:
    """At most ``size`` builds (Built, or what else a key names), least recently used dropped
    first."""

    def __init__(self, size: int = 16, gates: int = 8) -> None:
        self.size = size
        self._kept: OrderedDict[Key, tuple[tuple, object]] = OrderedDict()
        self._lock = threading.Lock()
        # One build at a time per key (striped, so the locks stay few whatever the keys).
        self._gates = [threading.Lock() for _ in range(gates)]
        self.builds = 0  # how many times figures were built (tests and the benchmark read it)

    def _kept_at(self, key: Key, version: tuple):
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept[0] != version:
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def get(self, key: Key, version: tuple, make: Callable[[], object]):
        """The figures of ``key`` at ``version``: kept ones, or ``make()``'s, then kept."""
        if (kept := self._kept_at(key, version)) is not None:
            return kept
        with self._gates[hash(key) % len(self._gates)]:
            if (kept := self._kept_at(key, version)) is not None:
                return kept  # built by the request we waited for
            built = make()
            with self._lock:
                self.builds += 1
                self._kept[key] = (version, built)
                self._kept.move_to_end(key)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return built
