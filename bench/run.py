"""`make bench`: run every bench/bench_*.py and rewrite docs/benchmarks.md with their sections.

Each benchmark prints one markdown section. Run one alone with
`.venv/bin/python -m bench.bench_NAME`; `--only NAME` here does the same but
also updates its section in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

from bench.common import machine

DOC = Path("docs/benchmarks.md")
HEADER = """# Benchmarks

Produced by `make bench` (`.venv/bin/python -m bench.run`); each section names its own command.
Each section gives its command and machine; `--only NAME` re-runs one section and keeps the others,
so sections may come from different runs. Compare the ratios, which are measured against a
baseline in the same run, more than the absolute numbers: this shared machine's speed varies (the
ledger section's in-process apply rate, the same code, has measured 24,000 and 48,000 ops/s). The target device, a Raspberry Pi Zero 2 W
(512 MB RAM, four Cortex-A53 cores at 1 GHz, an SD card whose fsync can take tens of milliseconds),
is roughly ten times slower than this machine.

"""


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"(?m)^(?=## )", text)
    return {p.splitlines()[0]: p.rstrip() + "\n" for p in parts if p.startswith("## ")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", action="append", default=[], help="benchmark name(s), e.g. outbox")
    args = ap.parse_args()
    names = args.only or sorted(p.stem[len("bench_"):] for p in Path("bench").glob("bench_*.py"))
    old = sections(DOC.read_text()) if DOC.exists() else {}
    failed = 0
    for name in names:
        print(f"== bench_{name}", flush=True)
        res = subprocess.run([sys.executable, "-m", f"bench.bench_{name}"], capture_output=True,
                             text=True, timeout=900)
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            failed += 1
            continue
        print(res.stdout)
        old.update(sections(res.stdout))
    stamp = f"Last run: {dt.date.today().isoformat()} on {machine()}.\n\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(HEADER + stamp + "\n".join(old.values()))
    print(f"wrote {DOC}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
