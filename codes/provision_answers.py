"""The answers a provisioning code (or `kiosk provision`'s flags and prompts) carries, and the
checks that need no kiosk config file: ids, broker host and credentials, device paths. Shared so
that `ledger provision-code` refuses what the kiosk would refuse; the kiosk then validates the
config the answers make against its full schema (kiosk.config)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from mqtt.topics import ID_RE

NFCPY_PATH = re.compile(r"^(usb(:[0-9a-f]{3,4}(:[0-9a-f]{3,4})?)?|tty:[A-Za-z0-9_]+(:[a-z0-9]+)?"
                        r"|udp:[A-Za-z0-9.-]+:\d{1,5})$")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$")


class BadAnswer(ValueError):
    """One answer cannot be used; the message names it, what was given and what is allowed."""


@dataclass
class Answers:
    store: str = ""
    lane: str = ""
    id: str = ""
    host: str = ""
    port: int | None = None
    tls: bool = False
    ca_file: str = ""
    ca_pem: str = ""  # from a provisioning code: written next to the config as ca.crt
    cert_file: str = ""
    key_file: str = ""
    username: str = ""
    password: str = ""
    allow_plain: bool = False  # a password over plain MQTT beyond this host
    reader: str = "none"
    reader_path: str = ""
    qr: str = "none"
    qr_device: str = ""
    qr_keys: list[str] = field(default_factory=list)
    display: str = "dummy"
    gpio: str = "mock"
    language: str = "en"
    outbox: str = "/var/lib/kiosk/outbox.db"
    pins: dict[str, int] = field(default_factory=dict)  # gpio.<name> overrides

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def check_host(a: Answers) -> None:
    if not a.host or not HOST.match(a.host):
        raise BadAnswer(f"broker host: {a.host!r} is not a host name or IP address"
                        " (give it without mqtt:// or a port)")
    if a.port is not None and not 1 <= a.port <= 65535:
        raise BadAnswer(f"broker port: {a.port} is not in 1..65535")


def need_id(name: str, value: str) -> None:
    if not ID_RE.match(value or ""):
        raise BadAnswer(f"{name}: {value!r} is not an id; use 1-32 of a-z, 0-9 and '-'")


def check_broker(a: Answers) -> None:
    check_host(a)
    if a.password and not a.username:
        raise BadAnswer("broker password given without a username")
    if a.username and not a.password and not a.cert_file:
        raise BadAnswer(f"broker username {a.username!r} given without a password")
    if bool(a.cert_file) != bool(a.key_file):
        raise BadAnswer("client certificate and key go together: give both or neither")
    local = a.host in ("localhost", "127.0.0.1", "::1")
    if a.password and not a.tls and not local and not a.allow_plain:
        raise BadAnswer(f"broker {a.host}: the password would cross the network in clear;"
                        " use --tls with the broker's CA (or --allow-plain on a closed network)")
    if a.tls and not (a.ca_file or a.ca_pem):
        raise BadAnswer("TLS needs the broker's CA certificate (--ca-file)")
    if a.ca_file:
        _check_pem(a.ca_file, "CA certificate", b"-----BEGIN CERTIFICATE-----")
    if a.cert_file:
        _check_pem(a.cert_file, "client certificate", b"-----BEGIN CERTIFICATE-----")
        _check_pem(a.key_file, "client key", b"PRIVATE KEY-----")


def _check_pem(path: str, what: str, marker: bytes) -> None:
    p = Path(path)
    if not p.is_absolute():
        raise BadAnswer(f"{what}: {path!r} must be an absolute path (the service runs from /)")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise BadAnswer(f"{what}: cannot read {path}: {exc.strerror}") from None
    if marker not in data:
        raise BadAnswer(f"{what}: {path} is not a PEM file with {marker.decode().strip('-')}")
    if what == "CA certificate" or what == "client certificate":
        from cryptography import x509

        try:
            x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise BadAnswer(f"{what}: {path} does not parse: {exc}") from None


def check_devices(a: Answers) -> None:
    if a.reader == "nfcpy" and not NFCPY_PATH.match(a.reader_path):
        raise BadAnswer(f"reader path: {a.reader_path!r} is not an nfcpy path"
                        " (usb, usb:072f:2200, tty:AMA0:pn532, udp:host:port)")
    if a.qr in ("hid", "serial") and not a.qr_device.startswith("/dev/"):
        raise BadAnswer(f"QR {a.qr} scanner needs its device (/dev/input/by-id/... or /dev/tty...),"
                        f" got {a.qr_device!r}")
    if not os.path.isabs(a.outbox):
        raise BadAnswer(f"outbox: {a.outbox!r} must be an absolute path")


def check_answers(a: Answers) -> None:
    """Every check that needs no config file; BadAnswer names the first problem."""
    for name in ("store", "lane", "id"):
        need_id(name, getattr(a, name))
    check_broker(a)
    check_devices(a)
