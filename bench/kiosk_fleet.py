"""The simulated kiosks of the ledger benchmark, as Mosquitto's own command-line clients.

100 kiosks in 10 stores. Each kiosk publishes its ops on its own connection (`mosquitto_pub -l`,
one message per line, QoS 1, pipelined): one op per message as a contract v1.0 kiosk sends them,
or op_batch messages (v1.2). Each store takes its kiosks' acks on one connection
(`mosquitto_sub` on their ten acks topics, a persistent session made before the run, so no ack
is missed): that is how acks reach a shop in production, where the store broker's bridge is the
ledger broker's only client for the shop (docs/architecture.md).

They are C programs because the benchmark runs on the ledger's own 2 cores: 100 paho clients in
one Python process took about as much CPU as the ledger workers, and the benchmark measured them
instead. Their CPU is still measured (``cpu_seconds``) and reported, since it shares the cores.
"""

from __future__ import annotations

import json
import resource
import subprocess
import time
from pathlib import Path

from bench.common import process_cpu
from mqtt import topics

KIOSKS_PER_STORE = 10


def place(k: int) -> tuple[str, str]:
    """(store, kiosk) ids of kiosk number k."""
    return f"store-{k // KIOSKS_PER_STORE}", f"kiosk-{k % KIOSKS_PER_STORE}"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class KioskFleet:
    """``ops[k]`` is kiosk k's list of encoded messages (an op or an op_batch each);
    ``expected``: how many acks all kiosks together wait for. ``start()``, then ``publish()``,
    then ``wait_acks()``; ``acks(k)`` are the acks kiosk k got (a batch's acks one by one)."""

    def __init__(self, broker, workdir: Path, ops: list[list[bytes]], acks: bool = True,
                 expected: int = 0) -> None:
        self.ops, self.workdir, self.want_acks = ops, workdir, acks
        self.expected = expected or sum(len(o) for o in ops)
        self.common = ["-h", broker.host, "-p", str(broker.port), "-V", "5", "-q", "1"]
        self.stores = range((len(ops) + KIOSKS_PER_STORE - 1) // KIOSKS_PER_STORE)
        self.subs: list[subprocess.Popen] = []
        self.pubs: list[subprocess.Popen] = []
        self._cpu_before = self._cpu_at_start = 0.0

    def _store_kiosks(self, s: int) -> range:
        return range(s * KIOSKS_PER_STORE, min(len(self.ops), (s + 1) * KIOSKS_PER_STORE))

    def start(self) -> None:
        """Subscribe each store to its kiosks' acks and connect every kiosk's publisher."""
        for s in self.stores if self.want_acks else ():
            sub = [*self.common, "-c", "-i", f"bench-store-{s}"]
            for k in self._store_kiosks(s):
                sub += ["-t", topics.acks(*place(k))]
            subprocess.run(["mosquitto_sub", *sub, "-E"], check=True, timeout=30)
            # How many ack messages come is the ledger's choice (it packs a pass's acks per
            # kiosk): wait_acks counts acks in the files; each line is written out at once.
            with open(self.workdir / f"acks-{s}.jsonl", "wb") as out:
                self.subs.append(subprocess.Popen(
                    ["stdbuf", "-oL", "mosquitto_sub", *sub, "-v"], stdout=out))
        for k, ops in enumerate(self.ops):
            self.pubs.append(subprocess.Popen(
                ["mosquitto_pub", *self.common, "-i", f"bench-kiosk-{k}", "-t",
                 topics.ops(*place(k)), "-l", "-M", str(max(len(ops), 20))],
                stdin=subprocess.PIPE, stderr=subprocess.PIPE))
        time.sleep(1.0)  # mosquitto_pub prints nothing when connected; it reads stdin after
        for proc in self.pubs:
            if proc.poll() is not None:
                raise SystemExit(f"mosquitto_pub exited: {proc.stderr.read().decode()[:300]}")
        self._cpu_before = _children_cpu()  # the `-E` runs above, already ended
        self._cpu_at_start = sum(process_cpu(p.pid) for p in self.subs + self.pubs)

    def publish(self) -> None:
        """Hand every kiosk its ops; return when all are published (PUBACKed by the broker)."""
        for proc, ops in zip(self.pubs, self.ops, strict=True):
            proc.stdin.write(b"\n".join(ops) + b"\n")
            proc.stdin.close()
        for proc in self.pubs:
            if proc.wait(300) != 0:
                raise SystemExit(f"mosquitto_pub failed: {proc.stderr.read().decode()[:300]}")

    def wait_acks(self, timeout: float) -> None:
        """Return when ``expected`` acks have arrived (reading only what is new each time)."""
        deadline = time.monotonic() + timeout
        seen, got = [0] * len(self.subs), 0
        while got < self.expected:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {got} acks within {timeout:.0f} s")
            time.sleep(0.01)
            for s in self.stores:
                with open(self.workdir / f"acks-{s}.jsonl", "rb") as f:
                    f.seek(seen[s])
                    new = f.read()
                cut = new.rfind(b"\n") + 1  # whole lines only
                seen[s] += cut
                got += new[:cut].count(b'"op_id"')
        for proc in self.subs:  # done: their CPU counts once they have exited
            proc.terminate()
            proc.wait(10)

    def _store_acks(self, s: int) -> list[str]:
        return (self.workdir / f"acks-{s}.jsonl").read_text().splitlines()

    def acks(self, k: int) -> list[dict]:
        """The acks that arrived on kiosk k's topic (`mosquitto_sub -v`: topic, space, payload)."""
        topic = topics.acks(*place(k))
        lines = (line.split(" ", 1) for line in self._store_acks(k // KIOSKS_PER_STORE))
        bodies = (json.loads(payload) for t, payload in lines if t == topic)
        return [ack for body in bodies for ack in body.get("acks", [body])]

    def restart_cpu_count(self) -> None:
        """Count from now on (the publishers have ended: only the stores' subscribers run)."""
        self._cpu_before = _children_cpu()
        self._cpu_at_start = sum(process_cpu(p.pid) for p in self.subs if p.poll() is None)

    def cpu_seconds(self) -> float:
        """CPU the kiosk processes used since ``start()`` (all of them must have exited)."""
        return _children_cpu() - self._cpu_before - self._cpu_at_start

    def stop(self) -> None:
        for proc in self.subs + self.pubs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
