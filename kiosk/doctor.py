"""`kiosk doctor`: one line per check, OK / WARN / FAIL and what to do about it.

Each check is a small function from the config to a ``Result``; none of them changes anything
(the outbox is opened read-only, pins are claimed and released at once). The verdict is the
worst level: exit 0 all OK, 1 warnings, 2 a failure.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from drivers.system_clock import clock_synced
from kiosk.config import Config
from kiosk.doctor_result import EXIT, FAIL, OK, WARN, Result

OLD_OP_S = 3600  # an op waiting longer than this means the ledger has not been reached


def verdict(results: list[Result]) -> int:
    return max((EXIT[r.level] for r in results), default=0)


# -- clock and disk -------------------------------------------------------------------------
class _Timex(ctypes.Structure):
    # Enough of struct timex for adjtimex(2) to write into; the rest is padding.
    _fields_ = [("modes", ctypes.c_uint), ("rest", ctypes.c_long * 60)]


def kernel_clock_synced() -> bool | None:
    """adjtimex(2) returns TIME_ERROR (5) while the kernel clock is not synchronised."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        state = libc.adjtimex(ctypes.byref(_Timex()))
    except (OSError, AttributeError):
        return None
    return None if state < 0 else state != 5


def check_clock(cfg: Config) -> Result:
    if clock_synced() or kernel_clock_synced():
        return Result(OK, "clock", "synchronised")
    return Result(WARN, "clock", "not synchronised: op timestamps are flagged as unsynced",
                  "check network time: timedatectl; systemctl status systemd-timesyncd")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(cfg: Config) -> Result:
    where = _existing_parent(Path(cfg["outbox"]["path"]).parent)
    usage = shutil.disk_usage(where)
    free_mb = usage.free / 2**20
    detail = f"{free_mb:.0f} MB free of {usage.total / 2**20:.0f} MB on {where}"
    if free_mb < 50:
        return Result(FAIL, "disk", detail, "free space: the outbox cannot grow (journalctl --vacuum-size=50M)")
    if free_mb < 200 or usage.free < usage.total * 0.05:
        return Result(WARN, "disk", detail, "free some space before the outbox needs it")
    return Result(OK, "disk", detail)


# -- outbox ---------------------------------------------------------------------------------
def check_outbox(cfg: Config) -> Result:
    path = Path(cfg["outbox"]["path"])
    if not os.access(_existing_parent(path.parent), os.W_OK):
        return Result(FAIL, "outbox", f"{path.parent} is not writable by this user",
                      "run as the service user (sudo -u kiosk kiosk doctor) or fix ownership")
    if not path.exists():
        return Result(OK, "outbox", f"{path} not created yet (the first run creates it)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            integrity = db.execute("PRAGMA quick_check").fetchone()[0]
            depth, oldest = db.execute("SELECT COUNT(*), MIN(created_wall) FROM ops").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return Result(FAIL, "outbox", f"{path}: {exc}",
                      "stop the service, copy the file aside, `kiosk queue export` from the copy")
    if integrity != "ok":
        return Result(FAIL, "outbox", f"{path}: integrity check says {integrity}",
                      "stop the service and keep a copy of the file before anything else")
    return _outbox_level(cfg, depth, None if oldest is None else time.time() - oldest)


def _outbox_level(cfg: Config, depth: int, age: float | None) -> Result:
    limit = cfg["outbox"]["max_ops"]
    detail = f"{depth} ops waiting (limit {limit})"
    if age is not None:
        detail += f", oldest {age / 60:.0f} min old"
    if depth >= limit:
        return Result(FAIL, "outbox", detail, "full: new sales cannot earn; restore the link to the ledger")
    if depth >= limit * cfg["outbox"]["warn_ratio"] or (age or 0) > OLD_OP_S:
        return Result(WARN, "outbox", detail, "ops are not reaching the ledger: see the broker and ledger checks")
    return Result(OK, "outbox", detail)


# -- broker and ledger -------------------------------------------------------------------------
class Probe:
    """One MQTT connection with the kiosk's own credentials, for the broker and ledger checks."""

    def __init__(self, cfg: Config) -> None:
        import paho.mqtt.client as paho

        self.cfg = cfg
        b, k = cfg["broker"], cfg["kiosk"]
        self.connack = None
        self.error = ""
        self.reply: dict | None = None
        self._connected, self._replied = threading.Event(), threading.Event()
        self._subscribed = threading.Event()
        self._corr = uuid.uuid4().hex.encode()
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                             client_id=f"doctor-{k['store']}-{k['id']}-{os.getpid()}")
        if b["username"]:
            self.c.username_pw_set(b["username"], b["password"] or None)
        if b["tls"]:
            import ssl

            self.c.tls_set(ca_certs=b["ca_file"] or None, certfile=b["cert_file"] or None,
                           keyfile=b["key_file"] or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *_: self._subscribed.set()

    def _on_connect(self, c, u, flags, rc, props) -> None:
        self.connack = rc
        self._connected.set()

    def _on_message(self, c, u, msg) -> None:
        from mqtt import messages

        if getattr(msg.properties, "CorrelationData", None) == self._corr:
            try:
                self.reply = messages.decode("lookup_reply", msg.payload)
            except messages.BadMessage as exc:
                self.error = str(exc)
            self._replied.set()

    def connect(self, timeout: float = 10.0) -> bool:
        b = self.cfg["broker"]
        try:
            self.c.connect(b["host"], b["port"], 30)
        except (OSError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return False
        self.c.loop_start()
        if not self._connected.wait(timeout):
            self.error = "no answer to CONNECT"
            return False
        return not self.connack.is_failure

    def lookup(self, timeout: float) -> float | None:
        """Seconds the ledger took to answer a lookup, or None."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        from mqtt import messages, topics

        k = self.cfg["kiosk"]
        reply_topic = topics.lookup_reply(k["store"], k["id"])
        self.c.subscribe(reply_topic, 1)
        self._subscribed.wait(timeout)  # the answer must not come before we listen
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic, props.CorrelationData = reply_topic, self._corr
        body = {"v": 1, "token": {"kind": "uid", "value": "00DOC70R"}}
        t0 = time.monotonic()
        self.c.publish(topics.lookup(k["store"], k["id"]), messages.encode("lookup_request", body),
                       1, properties=props)
        return time.monotonic() - t0 if self._replied.wait(timeout) and self.reply else None

    def close(self) -> None:
        try:
            self.c.disconnect()
            self.c.loop_stop()
        except Exception:  # noqa: BLE001 - a failed probe has nothing to close
            pass


def check_network(cfg: Config, ledger_timeout: float = 5.0) -> list[Result]:
    b = cfg["broker"]
    where = f"{b['host']}:{b['port']}" + (" (TLS)" if b["tls"] else "")
    probe = Probe(cfg)
    try:
        if not probe.connect():
            return [_broker_failure(probe, where),
                    Result(FAIL, "ledger", "not checked: no broker", "fix the broker first")]
        results = [Result(OK, "broker", f"{where} accepted {b['username'] or 'anonymous'}")]
        took = probe.lookup(ledger_timeout)
    finally:
        probe.close()
    if took is None:
        results.append(Result(FAIL, "ledger", f"no lookup answer within {ledger_timeout:.0f} s"
                              + (f" ({probe.error})" if probe.error else ""),
                              "is `ledger serve` running, and the store broker's bridge up?"))
    else:
        results.append(Result(OK, "ledger", f"answered a lookup in {took * 1000:.0f} ms"))
    return results


def _broker_failure(probe: Probe, where: str) -> Result:
    if probe.connack is not None:
        return Result(FAIL, "broker", f"{where} refused the connection: {probe.connack}",
                      "check broker.username / broker.password (or the client certificate)")
    err = probe.error
    if "SSL" in err or "certificate" in err.lower():
        return Result(FAIL, "broker", f"{where}: TLS failed: {err}",
                      "check broker.ca_file and that the host name matches the broker's certificate")
    return Result(FAIL, "broker", f"{where} unreachable: {err}",
                  "check broker.host / broker.port, the network and the firewall")


# -- hardware ---------------------------------------------------------------------------------
def check_hardware(cfg: Config) -> list[Result]:
    from kiosk import doctor_hw

    return [doctor_hw.check_reader(cfg), doctor_hw.check_qr(cfg), doctor_hw.check_display(cfg),
            doctor_hw.check_gpio(cfg)]


def run_checks(cfg: Config, skip_network: bool = False) -> list[Result]:
    checks: list[Callable[[Config], Result | list[Result]]] = [check_clock, check_disk, check_outbox]
    if not skip_network:
        checks.append(check_network)
    checks.append(check_hardware)
    results: list[Result] = []
    for check in checks:
        try:
            out = check(cfg)
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
            out = Result(FAIL, check.__name__.removeprefix("check_"), f"check crashed: {exc!r}")
        results.extend(out if isinstance(out, list) else [out])
    return results
