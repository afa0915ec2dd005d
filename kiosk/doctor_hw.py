"""`kiosk doctor`'s hardware checks: readers, QR input, display, GPIO pins.

Simulated drivers pass without touching anything. Real devices are opened and closed at once;
while the kiosk service runs it holds them, so stop it first for these checks.
"""

from __future__ import annotations

import glob
import os

from kiosk.config import Config
from kiosk.doctor_result import FAIL, OK, WARN, Result

SIMULATED = ("sim", "mock", "dummy")
STOP_SERVICE = "stop the service first (sudo systemctl stop kiosk), it holds the device"


def check_reader(cfg: Config) -> Result:
    r = cfg["reader"]
    if r["driver"] in ("sim", "none"):
        return Result(OK, "reader", "simulated" if r["driver"] == "sim" else "none configured")
    if r["driver"] == "pcsc":
        return _pcsc(r["path"])
    return _nfcpy(r["path"])


def _pcsc(name: str) -> Result:
    try:
        from smartcard.System import readers

        found = [str(x) for x in readers()]
    except Exception as exc:  # noqa: BLE001 - pyscard raises its own types for a dead pcscd
        return Result(FAIL, "reader", f"PC/SC: {exc}", "start pcscd: sudo systemctl start pcscd")
    match = [x for x in found if name in x] if name else found
    if not match:
        return Result(FAIL, "reader", f"no PC/SC reader {name!r} (found: {found or 'none'})",
                      "plug the reader in; check `pcsc_scan`; set reader.path to its name")
    return Result(OK, "reader", f"PC/SC reader {match[0]!r}")


def _nfcpy(path: str) -> Result:
    if path.startswith("tty:"):
        dev = "/dev/tty" + path.split(":")[1]
        if not os.path.exists(dev):
            return Result(FAIL, "reader", f"{dev} does not exist",
                          "enable the serial port (raspi-config) and check reader.path")
    try:
        import nfc

        clf = nfc.ContactlessFrontend()
        opened = clf.open(path)
    except (ImportError, OSError) as exc:
        return Result(FAIL, "reader", f"nfcpy {path}: {exc}", STOP_SERVICE)
    if not opened:
        return Result(FAIL, "reader", f"nfcpy found no reader at {path}",
                      "plug it in; the modprobe blacklist (systemd/) keeps the kernel off it")
    clf.close()
    return Result(OK, "reader", f"nfcpy reader at {path}")


def check_qr(cfg: Config) -> Result:
    q = cfg["qr"]
    if q["driver"] in ("sim", "none"):
        return Result(OK, "qr", "simulated" if q["driver"] == "sim" else "none configured")
    if q["driver"] == "camera":
        dev = q["device"]
        cams = [dev] if dev and not dev.isdigit() else sorted(glob.glob("/dev/video*"))
        if not cams or not os.path.exists(cams[0]):
            return Result(FAIL, "qr", f"no camera ({dev or '/dev/video*'})",
                          "connect the camera; check `v4l2-ctl --list-devices`")
        return Result(OK, "qr", f"camera {cams[0]}")
    dev = q["device"]
    if not os.path.exists(dev):
        return Result(FAIL, "qr", f"{q['driver']} scanner {dev} not found", "plug it in; check qr.device")
    if not os.access(dev, os.R_OK):
        return Result(FAIL, "qr", f"{dev} not readable by this user",
                      "the service user needs the input/dialout group (make install adds it)")
    return Result(OK, "qr", f"{q['driver']} scanner {dev}")


def check_display(cfg: Config) -> Result:
    d = cfg["display"]
    if d["driver"] == "dummy" or d["driver"].startswith("emulator"):
        return Result(OK, "display", f"simulated ({d['driver']})")
    if d["driver"] == "ssd1351" or d["interface"] == "spi":
        dev = f"/dev/spidev{d['spi_port']}.{d['spi_device']}"
        if not os.path.exists(dev):
            return Result(FAIL, "display", f"{dev} missing", "enable SPI (raspi-config) and reboot")
        return Result(OK, "display", f"{d['driver']} on {dev} (SPI panels cannot be asked; look at it)")
    return _i2c(d)


def _i2c(d: dict) -> Result:
    dev = f"/dev/i2c-{d['i2c_port']}"
    if not os.path.exists(dev):
        return Result(FAIL, "display", f"{dev} missing", "enable I2C (raspi-config) and reboot")
    try:
        from smbus2 import SMBus

        with SMBus(d["i2c_port"]) as bus:
            bus.read_byte(d["i2c_address"])
    except PermissionError:
        return Result(FAIL, "display", f"{dev}: permission denied", "the service user needs the i2c group")
    except OSError as exc:
        return Result(FAIL, "display", f"no answer at {d['i2c_address']:#x} on {dev}: {exc.strerror}",
                      "check wiring and display.i2c_address (`i2cdetect -y 1`)")
    return Result(OK, "display", f"{d['driver']} answers at {d['i2c_address']:#x} on {dev}")


def check_gpio(cfg: Config) -> Result:
    from kiosk.provision import BadAnswer, _check_pins

    try:
        _check_pins(cfg)
    except BadAnswer as exc:
        return Result(FAIL, "gpio", str(exc), "give each function its own pin in [gpio]")
    g = cfg["gpio"]
    pins = [v for k, v in g.items() if k != "driver"]
    if g["driver"] == "mock":
        return Result(OK, "gpio", f"mock pins {pins} (no hardware)")
    return _claim_pins(pins)


def _claim_pins(pins: list[int]) -> Result:
    try:
        from gpiozero import DigitalInputDevice
        from gpiozero.exc import GPIOZeroError
    except ImportError as exc:
        return Result(FAIL, "gpio", f"gpiozero: {exc}", "reinstall the kiosk (make install)")
    busy = []
    for pin in pins:
        try:
            DigitalInputDevice(pin).close()
        except (GPIOZeroError, OSError) as exc:
            busy.append(f"{pin} ({exc})")
    if busy:
        return Result(FAIL if len(busy) == len(pins) else WARN, "gpio", "pins in use: " + ", ".join(busy),
                      STOP_SERVICE.replace("the device", "the pins"))
    return Result(OK, "gpio", f"pins {pins} free")
