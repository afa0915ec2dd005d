"""A CPU quota that makes this machine's core about as fast as a Raspberry Pi Zero 2 W core.

A cgroup with a CFS quota of 1/SLOWDOWN of one core: cgroup v2 ``cpu.max`` where this
container may write it, else cgroup v1 ``cpu.cfs_quota_us`` (this container: v2 has no cpu
controller here, v1's cpu hierarchy is writable by root). The period is short (10 ms), so a
throttled process waits at most ~9 ms at a time rather than 90 ms as with the default 100 ms:
closer to a slower core than to a fast one that stops. systemd-run is not available in the
container, hence writing the cgroup files directly. Where no cgroup can be written (not root,
or no cpu controller mounted), ``open_quota()`` falls back to a SIGSTOP/SIGCONT duty cycle
(``DutyCycle``), and the benchmark's text says which one ran and why;
``BENCH_PI_DUTY_CYCLE=1`` picks the duty cycle even where a cgroup could be written.

SLOWDOWN 10 is the factor docs/benchmarks.md already states (Cortex-A53 at 1 GHz against this
machine's core); ``calibrate()`` measures a pure-Python and an SQLite micro-benchmark with and
without the quota, so the factor the quota gives is shown beside the one assumed, and the same
two figures can be taken on a Pi (`python -m bench.pi_quota` there) to replace the assumption.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
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

    @property
    def preexec(self):
        """For Popen: the child joins the cgroup before it runs anything."""
        return self.run_here

    def run_here(self) -> None:
        self.add(os.getpid())

    def leave(self) -> None:
        (self.parent / "cgroup.procs").write_text(f"{os.getpid()}\n")

    def close(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still inside: the kernel refuses, and it is harmless to leave


class NoCgroup(RuntimeError):
    """No cgroup cpu controller this process may write."""


def _pick(name: str) -> tuple[str, Path, Path]:
    controllers = V2_ROOT / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split() and \
            os.access(V2_ROOT, os.W_OK):
        return "v2", V2_ROOT / name, V2_ROOT
    if (V1_ROOT / "cpu.cfs_quota_us").exists() and os.access(V1_ROOT, os.W_OK):
        return "v1", V1_ROOT / name, V1_ROOT
    raise NoCgroup(
        "no writable cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us; root in a"
        " container that mounts one)"
    )


def open_quota(slowdown: float = SLOWDOWN) -> PiQuota | DutyCycle:
    """The cgroup quota where one can be written, else the SIGSTOP/SIGCONT duty cycle (which
    ``describe()`` names, and why)."""
    if os.environ.get("BENCH_PI_DUTY_CYCLE") == "1":
        return DutyCycle(slowdown, why="BENCH_PI_DUTY_CYCLE=1 asked for it")
    try:
        return PiQuota(slowdown=slowdown).open()
    except (NoCgroup, OSError) as exc:
        return DutyCycle(slowdown, why=str(exc))


class DutyCycle:
    """The fallback without a cgroup: a helper process lets each process run for 1/SLOWDOWN
    of every period and holds it stopped (SIGSTOP) for the rest. Coarser than a quota: the
    process's threads may use both cores in their share, and an idle share is lost rather
    than saved. Same interface as PiQuota; ``add(pid)`` after a child is started."""

    kind = "duty cycle"
    preexec = None  # a stopped child cannot start its own helper: add(pid) it after Popen

    def __init__(self, slowdown: float = SLOWDOWN, why: str = "") -> None:
        self.slowdown, self.why = slowdown, why
        self.period_us = PERIOD_US
        self.quota_us = round(PERIOD_US / slowdown)
        self._helpers: dict[int, subprocess.Popen] = {}

    def open(self) -> DutyCycle:
        return self

    def describe(self) -> str:
        return (f"a SIGSTOP/SIGCONT duty cycle of {self.quota_us} µs running per {self.period_us}"
                f" µs ({100 / self.slowdown:.0f}% of the time; {self.why}, so no CPU quota)")

    def add(self, pid: int) -> None:
        if pid not in self._helpers:
            helper = subprocess.Popen(
                [sys.executable, "-m", "bench.pi_quota", "--cycle", str(pid),
                 str(self.quota_us), str(self.period_us)], stdout=subprocess.PIPE)
            helper.stdout.readline()  # it has started: from here on ``pid`` runs its share
            self._helpers[pid] = helper

    def run_here(self) -> None:
        self.add(os.getpid())

    def leave(self, pid: int | None = None) -> None:
        helper = self._helpers.pop(pid or os.getpid(), None)
        if helper is not None:
            helper.terminate()  # it lets the process run on before it exits
            helper.wait(10)

    def close(self) -> None:
        for pid in list(self._helpers):
            self.leave(pid)


def cycle(pid: int, on_us: int, period_us: int) -> None:
    """Let ``pid`` run ``on_us`` of every ``period_us`` until it ends or this is terminated.
    A busy machine wakes this helper late: each stop lasts as much longer as the run before
    it overran, so the share holds."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    off_per_on = (period_us - on_us) / on_us
    print("cycling", flush=True)
    try:
        while not stop:
            os.kill(pid, signal.SIGCONT)
            t0 = time.perf_counter()
            time.sleep(on_us / 1e6)
            if stop:
                break
            os.kill(pid, signal.SIGSTOP)
            time.sleep((time.perf_counter() - t0) * off_per_on)
    except ProcessLookupError:
        return
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


def python_loop_ms(n: int = 300_000) -> float:
    """Dict updates and integer arithmetic: the interpreter's speed."""
    t0, d = time.perf_counter(), {}
    for i in range(n):
        d[i % 1000] = d.get(i % 1000, 0) + i * 3 // 7
    return (time.perf_counter() - t0) * 1000


def sqlite_ms(n: int = 10_000) -> float:
    """Inserts and point reads in memory: SQLite's C code, no disk. Long enough (about 20 ms
    here) to span several quota periods: 2,000 of each took 4 ms, and the best of five could
    fall inside one period's unspent budget (measured 1.0x under a 10x quota)."""
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


def calibrate(quota: PiQuota | DutyCycle) -> tuple[list[str], float]:
    """The calibration table, and the slowdown the quota gave pure Python (its factor)."""
    free = micro()
    quota.run_here()
    try:
        held = micro()
    finally:
        quota.leave()
    rows = ["| micro-benchmark | here ms | under the quota ms | factor |", "|---|---:|---:|---:|"]
    for name, a, b in (
        ("pure Python: 300,000 dict updates", free[0], held[0]),
        ("SQLite in memory: 10,000 inserts + 10,000 reads", free[1], held[1]),
    ):
        rows.append(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.1f}x |")
    return rows, held[0] / free[0]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cycle"]:  # DutyCycle's helper: --cycle PID ON_US PERIOD_US
        cycle(*(int(a) for a in sys.argv[2:5]))
        sys.exit(0)
    py, sq = micro()
    print(f"pure Python {py:.1f} ms, SQLite {sq:.1f} ms")
