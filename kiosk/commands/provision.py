"""`kiosk provision`: write /etc/kiosk/kiosk.toml from flags, prompts or a signed code."""

from __future__ import annotations

import sys

TRUST_FILE = "/etc/kiosk/provision-keys"
PROMPTS = [("store", "Store id"), ("lane", "POS lane id"), ("id", "Kiosk id"),
           ("host", "Broker host")]


def register(subs) -> None:
    p = subs.add_parser("provision", help="check the answers and write the kiosk's config")
    p.add_argument("--output", default="/etc/kiosk/kiosk.toml", help="config file to write")
    p.add_argument("--force", action="store_true", help="replace an existing config")
    p.add_argument("--code", help="a signed provisioning code (`ledger provision-code`); '-' reads"
                   " one line from stdin, as a HID scanner types it")
    p.add_argument("--scan", action="store_true",
                   help="read the code with the camera (--qr-device: empty for the Pi camera,"
                   " /dev/videoN, or a video file)")
    p.add_argument("--scan-timeout", type=float, default=120.0, help="give up scanning after this, s")
    p.add_argument("--trust-key", action="append", default=[],
                   help=f"trusted provisioning public key (base64url; write --trust-key=KEY, a key may"
                   f" begin with '-'); default: {TRUST_FILE}")
    p.add_argument("--store")
    p.add_argument("--lane")
    p.add_argument("--id", help="this kiosk's id")
    p.add_argument("--broker", help="HOST or HOST:PORT")
    p.add_argument("--tls", action="store_true", default=None, help="connect with TLS")
    p.add_argument("--ca-file", help="the broker's CA certificate (PEM, absolute path)")
    p.add_argument("--cert-file", help="client certificate (PEM)")
    p.add_argument("--key-file", help="client key (PEM)")
    p.add_argument("--username")
    p.add_argument("--password-file", help="file holding the MQTT password (not on the command line)")
    p.add_argument("--allow-plain", action="store_true",
                   help="allow a password over plain MQTT to another host")
    p.add_argument("--reader", choices=("sim", "nfcpy", "pcsc", "none"))
    p.add_argument("--reader-path", help="nfcpy path or PC/SC reader name")
    p.add_argument("--qr", choices=("sim", "camera", "hid", "serial", "none"))
    p.add_argument("--qr-device")
    p.add_argument("--qr-key", action="append", default=None, help="member QR public key (repeat; write --qr-key=KEY)")
    p.add_argument("--display", help="display driver (ssd1306, sh1106, ssd1351, dummy, ...)")
    p.add_argument("--gpio", choices=("mock", "real"))
    p.add_argument("--pin", action="append", default=[], metavar="NAME=BCM",
                   help="GPIO pin, e.g. button_next=5 led_red=27 (repeat)")
    p.add_argument("--language")
    p.add_argument("--outbox", help="outbox SQLite file (default /var/lib/kiosk/outbox.db)")
    p.add_argument("--no-input", action="store_true", help="never prompt; missing answers fail")
    p.set_defaults(func=_run)


def _trusted(args) -> list[str]:
    if args.trust_key:
        return args.trust_key
    try:
        with open(TRUST_FILE, encoding="ascii") as f:
            return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    except OSError:
        return []


def scan(device: str, timeout: float) -> str:
    """The first provisioning code the camera sees (other codes in view are skipped)."""
    import time

    from drivers.qr_camera import open_source
    from drivers.qr_decode import decode
    from kiosk.provision import BadAnswer

    try:
        source = open_source(device, "1280x720")
    except OSError as exc:
        raise BadAnswer(f"scan: {exc}") from None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for text in decode(source.read()):
                if isinstance(text, str) and text.startswith("lkp1."):
                    return text
    except OSError as exc:
        raise BadAnswer(f"scan: no provisioning code seen ({exc})") from None
    finally:
        source.close()
    raise BadAnswer(f"scan: no provisioning code seen in {timeout:.0f} s")


def _from_code(args, a) -> None:
    from codes.provisioning import verify

    if args.scan:
        print("show the provisioning code to the camera", file=sys.stderr)
        text = scan(args.qr_device or "", args.scan_timeout)
    else:
        text = sys.stdin.readline() if args.code == "-" else args.code
    got = verify(text, _trusted(args))
    for key, value in got.items():
        setattr(a, key, list(value) if key == "qr_keys" else value)


def _from_flags(args, a) -> None:
    from kiosk.provision import BadAnswer

    for name in ("store", "lane", "id", "tls", "ca_file", "cert_file", "key_file", "username",
                 "reader", "reader_path", "qr", "display", "gpio", "language", "outbox"):
        value = getattr(args, name)
        if value is not None:
            setattr(a, name, value)
    if args.qr_device is not None:
        if _is_kiosk_qr_device(args, a):
            a.qr_device = args.qr_device
        else:
            print(f"--qr-device {args.qr_device}: the code was scanned from it; it is not the"
                  " kiosk's QR device, so the config keeps the code's (or none)", file=sys.stderr)
    if args.qr_key is not None:
        a.qr_keys = args.qr_key
    a.allow_plain = args.allow_plain
    if args.broker:
        _set_broker(a, args.broker)
    if args.password_file:
        try:
            a.password = open(args.password_file, encoding="utf-8").read().strip()
        except OSError as exc:
            raise BadAnswer(f"password file {args.password_file}: {exc.strerror}") from None
    for item in args.pin:
        name, _, num = item.partition("=")
        if not num.isdigit():
            raise BadAnswer(f"--pin {item!r}: expected NAME=BCM, e.g. button_next=5")
        a.pins[name] = int(num)


def _is_kiosk_qr_device(args, a) -> bool:
    """With --scan, --qr-device names what the code is read from: an image or video file never
    becomes the kiosk's camera; a camera device node does when the kiosk reads with a camera."""
    import os
    import stat

    if not args.scan:
        return True
    try:
        is_device = stat.S_ISCHR(os.stat(args.qr_device).st_mode)
    except OSError:
        is_device = False
    return is_device and a.qr == "camera"


def _set_broker(a, text: str) -> None:
    from kiosk.provision import BadAnswer

    if "://" in text:
        raise BadAnswer(f"broker host: {text!r}: give HOST or HOST:PORT, without a scheme")
    host, sep, port = text.rpartition(":") if text.count(":") == 1 else ("", "", "")
    if not sep:
        host = text
    elif not port.isdigit():
        raise BadAnswer(f"broker {text!r}: port {port!r} is not a number")
    a.host = host
    if sep:
        a.port = int(port)


def prompt(a) -> None:
    """Ask for what is still missing, re-asking until the answer passes its own check."""
    from codes.provision_answers import BadAnswer, check_host, need_id

    for name, label in PROMPTS:
        while not getattr(a, name):
            value = input(f"{label}: ").strip()
            try:
                if name == "host":
                    _set_broker(a, value)
                    check_host(a)
                else:
                    need_id(name, value)
                    setattr(a, name, value)
            except BadAnswer as exc:
                if name == "host":
                    a.host, a.port = "", None
                print(f"  refused: {exc}")


def _run(args) -> int:
    from codes.provisioning import CodeRefused
    from kiosk.provision import Answers, BadAnswer, write

    a = Answers()
    try:
        if args.code or args.scan:
            _from_code(args, a)
        _from_flags(args, a)  # flags override what a code carries (e.g. --output paths)
        if not args.no_input and sys.stdin.isatty():
            prompt(a)
        cfg = write(a, args.output, force=args.force)
    except CodeRefused as exc:
        print(f"provisioning code refused: {exc}", file=sys.stderr)
        return 3
    except BadAnswer as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    k = cfg["kiosk"]
    print(f"wrote {args.output} for {k['store']}/{k['lane']}/{k['id']};"
          f" next: kiosk doctor --config {args.output}")
    return 0
