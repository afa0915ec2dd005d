"""`kiosk provision`: answers (flags, prompts or a signed code) -> checked -> the config file.

Every answer is checked before anything is written, and the file written is re-read with the
same validation as `kiosk config check`, so a provisioned kiosk always starts with a config
it accepts. Secrets stay in the file (mode 0640), never on the screen.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from kiosk.config import ID_RE, SCHEMA, Config, ConfigError, _toml_value, load, validate

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


def _check_broker(a: Answers) -> None:
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


def _check_devices(a: Answers) -> None:
    if a.reader == "nfcpy" and not NFCPY_PATH.match(a.reader_path):
        raise BadAnswer(f"reader path: {a.reader_path!r} is not an nfcpy path"
                        " (usb, usb:072f:2200, tty:AMA0:pn532, udp:host:port)")
    if a.qr in ("hid", "serial") and not a.qr_device.startswith("/dev/"):
        raise BadAnswer(f"QR {a.qr} scanner needs its device (/dev/input/by-id/... or /dev/tty...),"
                        f" got {a.qr_device!r}")
    if not os.path.isabs(a.outbox):
        raise BadAnswer(f"outbox: {a.outbox!r} must be an absolute path")


def _check_pins(cfg: dict) -> None:
    """Two functions on one pin would fight; the SPI panel's D/C and reset pins count too."""
    used: dict[int, str] = {}
    pins = {f"gpio.{k}": v for k, v in cfg["gpio"].items() if k != "driver"}
    if cfg["display"]["driver"] in ("ssd1351",) or cfg["display"]["interface"] == "spi":
        pins |= {"display.gpio_dc": cfg["display"]["gpio_dc"],
                 "display.gpio_rst": cfg["display"]["gpio_rst"]}
    for name, pin in pins.items():
        if pin in used:
            raise BadAnswer(f"GPIO {pin} is given to both {used[pin]} and {name}")
        used[pin] = name


def to_data(a: Answers, ca_path: str = "") -> dict:
    broker = {"host": a.host, "tls": a.tls, "username": a.username, "password": a.password,
              "ca_file": a.ca_file or ca_path, "cert_file": a.cert_file, "key_file": a.key_file}
    broker["port"] = a.port or (8883 if a.tls else 1883)
    return {"kiosk": {"store": a.store, "lane": a.lane, "id": a.id, "language": a.language},
            "broker": broker, "outbox": {"path": a.outbox},
            "reader": {"driver": a.reader, "path": a.reader_path},
            "qr": {"driver": a.qr, "device": a.qr_device, "keys": list(a.qr_keys)},
            "display": {"driver": a.display}, "gpio": {"driver": a.gpio, **a.pins}}


def check(a: Answers, ca_path: str = "") -> Config:
    """All answers checked; the config they make. Raises BadAnswer with the first problem."""
    for name in ("store", "lane", "id"):
        need_id(name, getattr(a, name))
    _check_broker(a)
    _check_devices(a)
    try:
        cfg = validate(to_data(a, ca_path), "<answers>")
    except ConfigError as exc:
        raise BadAnswer(str(exc).replace("<answers>: ", "")) from None
    _check_pins(cfg)
    return cfg


def to_toml(cfg: Config) -> str:
    """The config as TOML: only keys that differ from the defaults, so upgrades bring new ones."""
    lines = ["# Written by `kiosk provision`; check with `kiosk config check FILE`.", ""]
    for section, fields_ in SCHEMA.items():
        keys = [k for k, f in fields_.items() if f.required or cfg[section][k] != f.default]
        if not keys:
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(cfg[section][k])}" for k in keys]
        lines.append("")
    return "\n".join(lines)


def write(a: Answers, path: str | Path, force: bool = False) -> Config:
    """Check, write atomically (0640), re-read as `kiosk config check` would."""
    path = Path(path)
    if path.exists() and not force:
        raise BadAnswer(f"{path} exists; pass --force to replace it")
    ca_path = ""
    if a.ca_pem and not a.ca_file:
        if "-----BEGIN CERTIFICATE-----" not in a.ca_pem:
            raise BadAnswer("the code's CA certificate is not PEM")
        ca_path = str(path.parent.resolve() / "ca.crt")
    cfg = check(a, ca_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if ca_path:
        Path(ca_path).write_text(a.ca_pem, encoding="ascii")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    os.fchmod(fd, 0o640)  # whatever the umask: the service's group must read it
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(to_toml(cfg))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _share_with_service(path)
    return load(path)


def _share_with_service(path: Path) -> None:
    """The service runs as user kiosk: give the 0640 file to its group when we can."""
    import grp

    try:
        gid = grp.getgrnam("kiosk").gr_gid
    except KeyError:
        return  # no service user here (a workstation, the tests)
    if os.geteuid() == 0:
        os.chown(path, -1, gid)
