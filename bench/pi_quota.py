"""A CPU quota that makes this machine's core about as fast as a Raspberry Pi Zero 2 W core.

A cgroup with a CFS quota of 1/SLOWDOWN of one core: cgroup v2 ``cpu.max`` where this
container may write it, else cgroup v1 ``cpu.cfs_quota_us`` (this container: v2 has no cpu
controller here, v1's cpu hierarchy is writable by root). The period is short (10 ms), so a
throttled process waits at most ~9 ms at a time rather than 90 ms as with the default 100 ms:
closer to a slower core than to a fast one that stops. systemd-run is not available in the
container, hence writing the cgroup files directly.

SLOWDOWN 10 is the factor docs/benchmarks.md already states (Cortex-A53 at 1 GHz against this
machine's core); ``calibrate()`` measures a pure-Python and an SQLite micro-benchmark with and
without the quota, so the factor the quota gives is shown beside the one assumed, and the same
two figures can be taken on a Pi (`python -m bench.pi_quota` there) to replace the assumption.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

SLOWDOWN = float(os.environ.get("BENCH_PI_SLOWDOWN", "10"))
PERIOD_US = 10_000
V2_ROOT, V1_ROOT = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/cpu")


class PiQuota:
    """One cgroup, created on ``open()``, removed on ``close()``; ``run_here()`` moves the
    calling process (all its threads, and children it starts later) in, ``leave()`` out."""

    def __init__(self, name: str = "kiosk-bench-pi", slowdown: float = SLOWDOWN) -> None:
        self.slowdown = slowdown
        self.quota_us = max(1000, round(PERIOD_US / slowdown))  # the kernel's minimum is 1 ms
        self.period_us = round(self.quota_us * slowdown)
        self.kind, self.path, self.parent = _pick(name)

    def open(self) -> PiQuota:
        self.path.mkdir(exist_ok=True)
        if self.kind == "v2":
            (self.path / "cpu.max").write_text(f"{self.quota_us} {self.period_us}\n")
        else:
            (self.path / "cpu.cfs_period_us").write_text(f"{self.period_us}\n")
            (self.path / "cpu.cfs_quota_us").write_text(f"{self.quota_us}\n")
        return self

    def describe(self) -> str:
        file = "cpu.max" if self.kind == "v2" else "cpu.cfs_quota_us / cpu.cfs_period_us"
        return (
            f"cgroup {self.kind} `{file}` = {self.quota_us} / {self.period_us} µs"
            f" ({100 / self.slowdown:.0f}% of one core)"
        )

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(f"{pid}\n")

    def run_here(self) -> None:
        self.add(os.getpid())

    def leave(self) -> None:
        (self.parent / "cgroup.procs").write_text(f"{os.getpid()}\n")

    def close(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still inside: the kernel refuses, and it is harmless to leave


def _pick(name: str) -> tuple[str, Path, Path]:
    controllers = V2_ROOT / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return "v2", V2_ROOT / name, V2_ROOT
    if (V1_ROOT / "cpu.cfs_quota_us").exists() and os.access(V1_ROOT, os.W_OK):
        return "v1", V1_ROOT / name, V1_ROOT
    raise SystemExit(
        "no writable cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us):"
        " run as root in a container that mounts one"
    )


def python_loop_ms(n: int = 300_000) -> float:
    """Dict updates and integer arithmetic: the interpreter's speed."""
    t0, d = time.perf_counter(), {}
    for i in range(n):
        d[i % 1000] = d.get(i % 1000, 0) + i * 3 // 7
    return (time.perf_counter() - t0) * 1000


def sqlite_ms(n: int = 2000) -> float:
    """Inserts and point reads in memory: SQLite's C code, no disk."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
    t0 = time.perf_counter()
    for i in range(n):
        db.execute("INSERT INTO t (b) VALUES (?)", (str(i),))
    db.commit()
    for i in range(n):
        db.execute("SELECT b FROM t WHERE a = ?", (i + 1,)).fetchone()
    db.close()
    return (time.perf_counter() - t0) * 1000


def micro() -> tuple[float, float]:
    """Best of 5 of each micro-benchmark, ms."""
    return min(python_loop_ms() for _ in range(5)), min(sqlite_ms() for _ in range(5))


def calibrate(quota: PiQuota) -> list[str]:
    free = micro()
    quota.run_here()
    try:
        held = micro()
    finally:
        quota.leave()
    rows = ["| micro-benchmark | here ms | under the quota ms | factor |", "|---|---:|---:|---:|"]
    for name, a, b in (
        ("pure Python: 300,000 dict updates", free[0], held[0]),
        ("SQLite in memory: 2,000 inserts + 2,000 reads", free[1], held[1]),
    ):
        rows.append(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.1f}x |")
    return rows


if __name__ == "__main__":
    py, sq = micro()
    print(f"pure Python {py:.1f} ms, SQLite {sq:.1f} ms")
