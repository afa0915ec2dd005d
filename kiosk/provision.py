"""`kiosk provision`: answers (flags, prompts or a signed code) -> checked -> the config file.

Every answer is checked before anything is written, and the file written is re-read with the
same validation as `kiosk config check`, so a provisioned kiosk always starts with a config
it accepts. Secrets stay in the file (mode 0640), never on the screen.
"""

from __future__ import annotations

import os
from pathlib import Path

from codes.provision_answers import Answers, BadAnswer, check_answers
from kiosk.config import SCHEMA, Config, ConfigError, _toml_value, load, validate


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
    check_answers(a)
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
