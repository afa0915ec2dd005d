"""Do mqtt/paho_tuned.py's patches still pay? Each of its two patches on and off, in one run:
the ledger through MQTT (bench.bench_ledger, SQLite, one worker, live), the kiosk's replay
drain (bench.bench_replay; kiosk and ledger with the same client), and that drain with the
kiosk under the Pi-class quota (bench.pi_quota: a cgroup as root, else a duty cycle). Variants alternate round by round,
so the machine's load falls on all of them alike.

Run: .venv/bin/python -m bench.bench_paho_tuned [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from pathlib import Path

from bench import bench_ledger, bench_replay, paho_variants
from bench.common import machine, median

REPLAY_OPS, PI_OPS, WINDOW = 10_000, 3_000, 256
MODULE = "bench.paho_variants"


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def one_round(tmp: Path, variant: str, quota) -> dict[str, float]:
    """ops/s and CPU µs per op of each measure, for one variant."""
    os.environ["BENCH_PAHO"] = variant  # the ledger processes started from here on
    paho_variants.use(variant)  # the kiosk, in this process
    tag = variant.replace(" ", "-")
    work = tmp / f"ledger-{tag}"
    work.mkdir()
    run = bench_ledger.run_once(work, str(work / "l.db"), 1, module=MODULE)
    n = bench_ledger.N
    found = {"ledger": n / run.seconds, "ledger cpu": run.cpu["workers"] * 1e6 / n}
    t0 = _cpu()
    secs, ops = bench_replay.drain(tmp / f"replay-{tag}", REPLAY_OPS, WINDOW, ledger_module=MODULE)
    found["replay"], found["replay cpu"] = ops / secs, (_cpu() - t0) * 1e6 / ops
    if quota is not None:
        secs, ops = bench_replay.drain(tmp / f"pi-{tag}", PI_OPS, WINDOW, quota, MODULE)
        found["pi"] = ops / secs
    return found


def table(runs: dict[str, list[dict]], with_pi: bool) -> list[str]:
    base = {key: median([r[key] for r in runs["both"]]) for key in runs["both"][0]}
    head = (
        "| paho client | ledger ops/s | ledger worker CPU µs/op | kiosk replay ops/s |"
        " bench process CPU µs/op (kiosk + checks) |"
        + (" Pi-class replay ops/s |" if with_pi else "")
    )
    out = [head, "|---" + "|---:" * (head.count("|") - 2) + "|"]
    for variant, found in runs.items():
        cells = []
        for key in ("ledger", "ledger cpu", "replay", "replay cpu") + (("pi",) if with_pi else ()):
            value = median([r[key] for r in found])
            cells.append(f"{value:,.0f} ({value / base[key]:.2f})")
        out.append(f"| {variant} | " + " | ".join(cells) + " |")
    return out


def run(rounds: int = 2) -> str:
    from bench.pi_quota import open_quota

    quota = open_quota()
    runs: dict[str, list[dict]] = {v: [] for v in paho_variants.VARIANTS}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-paho-") as tmp:
            for r in range(rounds):
                for variant in paho_variants.VARIANTS:
                    work = Path(tmp) / f"r{r}"
                    work.mkdir(exist_ok=True)
                    runs[variant].append(one_round(work, variant, quota))
    finally:
        if quota is not None:
            quota.close()
    return "\n".join(
        [
            "### mqtt/paho_tuned.py: each patch on and off",
            "",
            "Command: `.venv/bin/python -m bench.bench_paho_tuned` (root: a cgroup quota for the Pi-class column, else a duty cycle)  ",
            f"Machine: {machine()}",
            "",
            f"Median of {rounds} alternated rounds; in brackets, against both patches on."
            f" Ledger: {bench_ledger.N:,} ops from 100 kiosks, SQLite, one worker, live. Replay:"
            f" {REPLAY_OPS:,} ops, window {WINDOW}, kiosk and ledger with the same client."
            f" Pi-class: {PI_OPS:,} ops with the kiosk under the quota.",
            "",
            *table(runs, quota is not None),
            "",
        ]
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    print(run(ap.parse_args().rounds))
