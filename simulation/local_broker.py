"""Private Mosquitto brokers: free port, own data dir; stop/start cuts the network.

Used by `make demo`, `kiosk sim` and the tests, so none of them touches a broker
the machine may already run on 1883. ``bridge_conf`` gives the store broker's side of
the store-to-central bridge (see docs/operations.md): stopping the central broker is
then a WAN cut, while the kiosk and the POS keep talking on the store broker.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What crosses the store-to-central bridge: ops, status, lookups and reservations up, acks,
# lookup and reserve replies, the program and the ledger's capabilities down. Everything per
# lane (basket, member, redemption, refund, notice) stays local.
# Lookup replies cross at QoS 0: Mosquitto (2.0.11) leaves Nagle's algorithm on the bridge's
# own socket (set_tcp_nodelay covers accepted sockets only), so the bridge's PUBACK for a reply,
# which the central broker answers with a delayed ACK, held the next lookup request for up
# to 40 ms (docs/benchmarks.md, lookup trace). A reply is worth nothing after the kiosk's
# lookup.timeout_ms anyway, so it is not worth a PUBACK or a queue while the link is down.
BRIDGE_TOPICS = (
    "loyalty/v1/stores/{store}/kiosks/+/ops out 1",
    "loyalty/v1/stores/{store}/kiosks/+/status out 1",
    "loyalty/v1/stores/{store}/kiosks/+/lookup out 1",
    "loyalty/v1/ledger/lookup out 1",
    "loyalty/v1/stores/{store}/kiosks/+/reserve out 1",
    "loyalty/v1/stores/{store}/kiosks/+/acks in 1",
    "loyalty/v1/stores/{store}/kiosks/+/lookup-reply in {reply_qos}",
    "loyalty/v1/stores/{store}/kiosks/+/reserve-reply in 1",
    "loyalty/v1/program in 1",
    "loyalty/v1/ledger/capabilities in 1",
)


def bridge_conf(store: str, host: str, port: int, reply_qos: int = 0) -> str:
    """Mosquitto bridge section: MQTT 5 (lookups need response topic and correlation data),
    a persistent bridge session, and the uplink state published on the store broker.
    ``reply_qos`` 1 is the old setting, kept for the lookup trace's comparison."""
    lines = [f"connection central-{store}", f"address {host}:{port}",
             "bridge_protocol_version mqttv50", "cleansession false",
             f"remote_clientid bridge-{store}", f"local_clientid bridge-{store}-local",
             "restart_timeout 1 5", "notifications true", "notifications_local_only true",
             f"notification_topic loyalty/v1/stores/{store}/uplink"]
    lines += [f"topic {t.format(store=store, reply_qos=reply_qos)}" for t in BRIDGE_TOPICS]
    return "\n".join(lines) + "\n"


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM (the child saves its state and exits), SIGKILL if it has not after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def mosquitto_binary() -> str:
    for path in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if path and Path(path).exists():
            return path
    raise RuntimeError("mosquitto not installed: run `make test` (scripts/bootstrap.sh installs it)")


class Mosquitto:
    """One broker process; ``stop()`` and ``start()`` keep the port and the persistence file."""

    def __init__(self, workdir: Path, port: int | None = None, extra_conf: str = "") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.conf = self.workdir / "mosquitto.conf"
        self.log = self.workdir / "mosquitto.log"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_queued_messages 100000\n"
            "set_tcp_nodelay true\n"
            f"{extra_conf}\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            return
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf)],
                                     stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, it saves persistence): the network is cut."""
        stop_process(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
