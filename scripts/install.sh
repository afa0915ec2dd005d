#!/usr/bin/env bash
# `sudo make install`: the kiosk as a service on Raspberry Pi OS / Debian 12.
#   (the venv here; the rest is `kiosk install`, kiosk/commands/install.py)
#   system user `kiosk` (in the gpio, i2c, spi, dialout, input, video, plugdev groups present),
#   virtualenv at $PREFIX/venv (default /opt/kiosk), /etc/kiosk, /var/lib/kiosk (0750 kiosk),
#   the systemd unit, udev rules and the NFC modprobe blacklist; then the unit is enabled.
# DESTDIR=/some/dir installs into a staging tree instead (no user, no systemctl): that is what
# the tests do. PIP_ARGS passes options to pip; EXTRAS picks the optional drivers (the
# `kiosk` extra, what every Pi needs, is always installed).
set -euo pipefail
cd "$(dirname "$0")/.."

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/kiosk}
PY=${PYTHON:-python3}
EXTRAS=${EXTRAS:-nfc,pcsc,qr,pi}
PIP_ARGS=${PIP_ARGS:-}
ROOT=$DESTDIR
VENV=$ROOT$PREFIX/venv

if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
    echo "install: run as root (sudo make install), or set DESTDIR to stage the files" >&2
    exit 1
fi

echo "install: virtualenv $VENV"
"$PY" -m venv "$VENV"
# shellcheck disable=SC2086 # PIP_ARGS is a list of options
"$VENV/bin/pip" install -q $PIP_ARGS ".[kiosk${EXTRAS:+,$EXTRAS}]"

# The user, directories, unit, udev rules and modprobe file: `kiosk install` (one implementation
# for this script and for a plain pip install).
args=(--exec "$PREFIX/venv/bin/kiosk")
[[ -n $DESTDIR ]] && args+=(--root "$DESTDIR")
"$VENV/bin/kiosk" install "${args[@]}"
