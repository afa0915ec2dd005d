"""The kiosk's one TOML config file: schema, validation, defaults, commented example.

Every key is declared once in ``SCHEMA`` (the ``[reader]`` and ``[qr]`` sections
in drivers.config_schema, so drivers can take their defaults from there too);
validation names the file, the key and what is allowed, and ``example()`` is
generated from the same schema, so the docs and the checker cannot drift apart.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from drivers.config_schema import IDF, QR, READER, Field

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")


class ConfigError(ValueError):
    """The config cannot be used; the message names file, key and what is allowed."""


SCHEMA: dict[str, dict[str, Field]] = {
    "kiosk": {
        "store": Field(**IDF, required=True, example="store-1", help="Store id (a-z, 0-9, -)."),
        "lane": Field(**IDF, required=True, example="lane-1", help="POS lane this kiosk serves."),
        "id": Field(**IDF, required=True, example="kiosk-1", help="This kiosk's id, unique in the store."),
        "language": Field(str, "en", choices=("en", "de", "hi", "te"),
                          help="Language of the customer's screen (display/locale)."),
        "program_name": Field(str, "Loyalty", help="Shown on the idle screen until the program arrives."),
    },
    "broker": {
        "host": Field(str, "localhost", help="MQTT broker host."),
        "port": Field(int, 1883, min=1, max=65535, help="MQTT broker port (8883 for TLS)."),
        "tls": Field(bool, False, help="Connect with TLS."),
        "ca_file": Field(str, "", help="CA certificate to verify the broker (TLS)."),
        "cert_file": Field(str, "", help="Client certificate (TLS client auth)."),
        "key_file": Field(str, "", help="Client private key (TLS client auth)."),
        "username": Field(str, "", help="MQTT username."),
        "password": Field(str, "", secret=True, help="MQTT password."),
        "keepalive": Field(int, 30, min=5, max=600, help="MQTT keepalive, seconds."),
        "reconnect_min": Field((int, float), 0.5, min=0.05, max=60, help="First reconnect delay, s."),
        "reconnect_max": Field((int, float), 30, min=0.1, max=600, help="Reconnect delay cap, s."),
    },
    "outbox": {
        "path": Field(str, "/var/lib/kiosk/outbox.db", help="SQLite file of the durable outbox."),
        "max_ops": Field(int, 50000, min=10, help="Refuse new ops past this many queued."),
        "warn_ratio": Field(float, 0.8, min=0.1, max=1.0, help="Warn when this full."),
        "inflight": Field(int, 64, min=1, max=1000, help="Ops sent and not yet acked, at most."),
        "retry_seconds": Field((int, float), 5.0, min=0.1, max=600,
                               help="Resend an op not acked after this long."),
    },
    "lookup": {
        "timeout_ms": Field(int, 400, min=20, max=10000,
                            help="Wait this long for the ledger before showing cached figures."),
        "cache_size": Field(int, 2000, min=0, max=100000, help="Members kept in the local cache."),
    },
    "offline": {
        "max_redeem_points": Field(int, 500, min=0,
                                   help="Points one member may redeem here while offline (0: none)."),
    },
    "reader": READER,  # declared beside the drivers that read them
    "qr": QR,
    "program": {
        "keys": Field(list, (), example=[], help="The ledger's program public keys, base64url"
                      " (`ledger program new-key FILE` prints one); empty ignores the program"
                      " the ledger publishes and previews with the default program."),
    },
    "display": {
        "driver": Field(str, "dummy",
                        choices=("dummy", "emulator-capture", "emulator-asciiblock",
                                 "emulator-pygame", "ssd1306", "sh1106", "ssd1351"),
                        help="Display device (dummy and emulator-* are simulated; ssd1351 is the"
                             " 128x128 colour panel)."),
        "width": Field(int, 128, choices=(128,), help="Panel width in pixels."),
        "height": Field(int, 64, choices=(32, 64, 128), help="Panel height in pixels."),
        "colour": Field(bool, False, help="Simulated panels draw in colour (ssd1351 always does)."),
        "rotate": Field(int, 0, choices=(0, 1, 2, 3), help="Rotation in quarter turns clockwise."),
        "interface": Field(str, "i2c", choices=("i2c", "spi"),
                           help="Bus of an SSD1306/SH1106 (the SSD1351 is always SPI)."),
        "i2c_port": Field(int, 1, min=0, max=20, help="I2C bus number (/dev/i2c-N)."),
        "i2c_address": Field(int, 0x3C, choices=(0x3C, 0x3D),
                             help="I2C address of the panel: 60 (0x3C) or 61 (0x3D)."),
        "spi_port": Field(int, 0, min=0, max=6, help="SPI bus (/dev/spidevPORT.DEVICE)."),
        "spi_device": Field(int, 0, min=0, max=2, help="SPI chip select."),
        "spi_speed_hz": Field(int, 8_000_000, min=500_000, max=32_000_000, help="SPI clock, Hz."),
        "gpio_dc": Field(int, 24, min=0, max=27, help="BCM pin of the SPI panel's D/C line."),
        "gpio_rst": Field(int, 25, min=0, max=27, help="BCM pin of the SPI panel's reset line."),
        "contrast": Field(int, 200, min=1, max=255, help="Contrast (brightness) when in use."),
        "dim_contrast": Field(int, 16, min=0, max=255, help="Contrast after dim_after_s idle."),
        "dim_after_s": Field((int, float), 60, min=0, max=86400,
                             help="Dim after this many seconds without a new screen (0: never)."),
        "shift_every_s": Field((int, float), 60, min=0, max=86400,
                               help="Move the idle screen one pixel this often, s (0: never)."),
    },
    "gpio": {
        "driver": Field(str, "mock", choices=("mock", "real"), help="gpiozero pin factory: mock or the Pi's."),
        "button_next": Field(int, 5, min=0, max=27, help="BCM pin of the 'next' button."),
        "button_select": Field(int, 6, min=0, max=27, help="BCM pin of the 'select' button."),
        "button_cancel": Field(int, 13, min=0, max=27, help="BCM pin of the 'cancel' button."),
        "led_green": Field(int, 17, min=0, max=27, help="BCM pin of the green LED."),
        "led_red": Field(int, 27, min=0, max=27, help="BCM pin of the red LED."),
        "buzzer": Field(int, 22, min=0, max=27, help="BCM pin of the buzzer."),
    },
    "remote": {
        "keys": Field(list, (), example=[], help="Public keys (base64url) whose signed config"
                      " updates this kiosk applies (`ledger config-update`); empty: none."),
        "confirm_s": Field(int, 120, min=2, max=3600, help="A config update that cannot reach the"
                           " broker within this many seconds is dropped again."),
    },
}


class Config(dict):
    """Validated config: ``cfg["broker"]["port"]``; ``cfg.path`` is where it came from."""

    path: str = "<defaults>"

    def redacted(self) -> dict:
        return {s: {k: ("********" if SCHEMA[s][k].secret and val else val)
                    for k, val in sec.items()} for s, sec in self.items()}


def _check_value(where: str, field: Field, value: Any) -> None:
    types = field.type if isinstance(field.type, tuple) else (field.type,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok or (field.choices and value not in field.choices):
        raise ConfigError(f"{where}: got {value!r}, expected {field.allowed()}")
    if field.pattern is not None and not field.pattern.match(value):
        raise ConfigError(f"{where}: {value!r} is not allowed, expected {field.allowed()}")
    if field.min is not None and value < field.min or field.max is not None and value > field.max:
        raise ConfigError(f"{where}: {value!r} is out of range, expected {field.allowed()}")
    if field.check is not None:
        try:
            field.check(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None


def _suggest(name: str, options) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate(data: dict, path: str = "<config>") -> Config:
    """Check ``data`` (parsed TOML) against the schema and fill defaults."""
    cfg = Config()
    cfg.path = path
    for section in data:
        if section not in SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}]{_suggest(section, SCHEMA)};"
                              f" allowed: {', '.join(SCHEMA)}")
        if not isinstance(data[section], dict):
            raise ConfigError(f"{path}: {section} must be a table [{section}]")
    for section, fields in SCHEMA.items():
        given = data.get(section, {})
        for key in given:
            if key not in fields:
                raise ConfigError(f"{path}: unknown key {section}.{key}{_suggest(key, fields)};"
                                  f" allowed: {', '.join(fields)}")
        out = {}
        for key, field in fields.items():
            where = f"{path}: {section}.{key}"
            if key not in given:
                if field.required:
                    raise ConfigError(f"{where} is missing; expected {field.allowed()}")
                out[key] = field.default
                continue
            _check_value(where, field, given[key])
            out[key] = given[key]
        cfg[section] = out
    if cfg["broker"]["reconnect_min"] > cfg["broker"]["reconnect_max"]:
        raise ConfigError(f"{path}: broker.reconnect_min must not exceed broker.reconnect_max")
    return cfg


def load(path: str | Path = DEFAULT_PATH) -> Config:
    """Read and validate a config file; raises ConfigError with a clear message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (use --config or `kiosk config example`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return validate(data, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def example() -> str:
    """A complete, commented config that passes ``validate``."""
    lines = ["# Loyalty kiosk configuration (/etc/kiosk/kiosk.toml).",
             "# Check it with: kiosk config check FILE", ""]
    for section, fields in SCHEMA.items():
        lines.append(f"[{section}]")
        for key, field in fields.items():
            value = field.example if field.example is not None else field.default
            lines.append(f"# {field.help} Allowed: {field.allowed()}.")
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
