"""`ledger` with fact recording switched off, for bench.bench_replay's comparison only: the
sale path as it was before the ledger kept baskets (ledger.facts), in the same run.

Run by the benchmark as: python -m bench.ledger_without_facts serve ...
"""

from __future__ import annotations

import sys

from ledger import facts
from ledger.cli import main


def _no_fact(cls, *args, **kwargs) -> None:
    return None


def _write_nothing(ledger, rows) -> None:
    return None


if __name__ == "__main__":
    facts.Fact.of = classmethod(_no_fact)
    facts.write_many = _write_nothing
    sys.exit(main())
