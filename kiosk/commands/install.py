"""`kiosk install`: place the service (user, directories, unit, udev rules, modprobe blacklist).

`sudo make install` runs it after creating the virtualenv; after a plain `pip install` run it
yourself as root. ``--root DIR`` stages the files under DIR without creating the user or
calling systemctl (what the tests do).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

UNIT_EXEC = "/opt/kiosk/venv/bin/kiosk"
GROUPS = ("gpio", "i2c", "spi", "dialout", "input", "video", "plugdev")
FILES = {"kiosk.service": "etc/systemd/system", "60-kiosk.rules": "etc/udev/rules.d",
         "kiosk-nfc-blacklist.conf": "etc/modprobe.d"}


def register(subs) -> None:
    p = subs.add_parser("install", help="install the service: user, /etc/kiosk, /var/lib/kiosk,"
                        " systemd unit, udev rules, modprobe blacklist; enable it")
    p.add_argument("--root", default="", help="stage under this directory (no user, no systemctl)")
    p.add_argument("--exec", default=str(Path(sys.prefix) / "bin" / "kiosk"),
                   help="the `kiosk` the unit runs (default: this virtualenv's)")
    p.add_argument("--no-enable", action="store_true", help="do not enable the unit")
    p.set_defaults(func=_run)


def source_dir() -> Path:
    """The packaged systemd files (pip install), or the repository's (editable install)."""
    for d in (Path(sys.prefix) / "share" / "loyalty-kiosk" / "systemd",
              Path(__file__).resolve().parents[2] / "systemd"):
        if (d / "kiosk.service").exists():
            return d
    raise FileNotFoundError("systemd files not found: reinstall the package")


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def ensure_user() -> None:
    if subprocess.run(["getent", "group", "kiosk"], capture_output=True).returncode:
        _sh("groupadd", "--system", "kiosk")
    if subprocess.run(["id", "kiosk"], capture_output=True).returncode:
        _sh("useradd", "--system", "--gid", "kiosk", "--home-dir", "/var/lib/kiosk",
            "--no-create-home", "--shell", "/usr/sbin/nologin", "kiosk")
    for group in GROUPS:
        if subprocess.run(["getent", "group", group], capture_output=True).returncode == 0:
            _sh("usermod", "-aG", group, "kiosk")


def place_files(root: Path, exe: str, staged: bool) -> None:
    from kiosk.config import example

    src = source_dir()
    (root / "etc/kiosk").mkdir(parents=True, exist_ok=True)
    (root / "etc/kiosk/kiosk.toml.example").write_text(example() + "\n", encoding="utf-8")
    state = root / "var/lib/kiosk"
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o750)
    if not staged:
        shutil.chown(state, "kiosk", "kiosk")
        shutil.chown(root / "etc/kiosk", group="kiosk")
    for name, where in FILES.items():
        dest = root / where / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = (src / name).read_text(encoding="utf-8")
        dest.write_text(text.replace(UNIT_EXEC, exe) if name == "kiosk.service" else text,
                        encoding="utf-8")
        dest.chmod(0o644)


def enable() -> None:
    _sh("systemctl", "daemon-reload")
    if shutil.which("udevadm"):
        _sh("udevadm", "control", "--reload")
        _sh("udevadm", "trigger")
    _sh("systemctl", "enable", "kiosk.service")


def _run(args) -> int:
    staged = bool(args.root)
    if not staged and os.geteuid() != 0:
        print("install: run as root (sudo), or --root DIR to stage the files", file=sys.stderr)
        return 2
    try:
        if not staged:
            ensure_user()
        place_files(Path(args.root or "/"), args.exec, staged)
        if not staged and not args.no_enable and os.path.isdir("/run/systemd/system"):
            enable()
            print("install: kiosk.service enabled")
        else:
            print("install: enable later with: systemctl daemon-reload && systemctl enable --now kiosk")
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"install: {exc}", file=sys.stderr)
        return 2
    print(f"next: sudo {args.exec} provision ...; sudo -u kiosk {args.exec} doctor;"
          " sudo systemctl start kiosk")
    return 0
