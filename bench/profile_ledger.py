"""`ledger` with every thread under cProfile, for profiling the worker only: each thread's
stats are written to ``$LEDGER_PROFILE_DIR/<pid>-<thread>.prof`` when the process ends.

Run by a benchmark as: python -m bench.profile_ledger serve ... (LedgerProcess(module=...)).
"""

from __future__ import annotations

import atexit
import cProfile
import os
import sys
import threading
from pathlib import Path

from ledger.cli import main

_profiles: dict[str, cProfile.Profile] = {}


def _dump() -> None:
    out = Path(os.environ.get("LEDGER_PROFILE_DIR", "."))
    for name, prof in _profiles.items():
        prof.disable()
        prof.dump_stats(str(out / f"{os.getpid()}-{name}.prof"))


def _profiled_run(self) -> None:
    prof = _profiles.setdefault(self.name, cProfile.Profile())
    prof.enable()
    try:
        _plain_run(self)
    finally:
        prof.disable()


_plain_run = threading.Thread.run

if __name__ == "__main__":
    threading.Thread.run = _profiled_run
    atexit.register(_dump)
    sys.exit(main())
