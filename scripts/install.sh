#!/usr/bin/env bash
# `sudo make install`: the kiosk as a service on Raspberry Pi OS / Debian 12.
#   system user `kiosk` (in the gpio, i2c, spi, dialout, input, video, plugdev groups present),
#   virtualenv at $PREFIX/venv (default /opt/kiosk), /etc/kiosk, /var/lib/kiosk (0750 kiosk),
#   the systemd unit, udev rules and the NFC modprobe blacklist; then the unit is enabled.
# DESTDIR=/some/dir installs into a staging tree instead (no user, no systemctl): that is what
# the tests do. PIP_ARGS passes options to pip; EXTRAS picks the optional drivers.
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

if [[ -z $DESTDIR ]]; then
    getent group kiosk >/dev/null || groupadd --system kiosk
    id kiosk >/dev/null 2>&1 || useradd --system --gid kiosk --home-dir /var/lib/kiosk \
        --no-create-home --shell /usr/sbin/nologin kiosk
    for g in gpio i2c spi dialout input video plugdev; do
        if getent group "$g" >/dev/null; then usermod -aG "$g" kiosk; fi
    done
fi

echo "install: virtualenv $VENV"
"$PY" -m venv "$VENV"
# shellcheck disable=SC2086 # PIP_ARGS is a list of options
"$VENV/bin/pip" install -q $PIP_ARGS ".[$EXTRAS]"

install -d -m 0755 "$ROOT/etc/kiosk" "$ROOT/etc/systemd/system" "$ROOT/etc/udev/rules.d" \
    "$ROOT/etc/modprobe.d"
"$VENV/bin/kiosk" config example > "$ROOT/etc/kiosk/kiosk.toml.example"
install -d -m 0750 "$ROOT/var/lib/kiosk"
[[ -z $DESTDIR ]] && chown kiosk:kiosk /var/lib/kiosk && chgrp kiosk /etc/kiosk

sed "s|/opt/kiosk/venv|$PREFIX/venv|g" systemd/kiosk.service > "$ROOT/etc/systemd/system/kiosk.service"
chmod 0644 "$ROOT/etc/systemd/system/kiosk.service"
install -m 0644 systemd/60-kiosk.rules "$ROOT/etc/udev/rules.d/60-kiosk.rules"
install -m 0644 systemd/kiosk-nfc-blacklist.conf "$ROOT/etc/modprobe.d/kiosk-nfc-blacklist.conf"

if [[ -z $DESTDIR && -d /run/systemd/system ]]; then
    systemctl daemon-reload
    command -v udevadm >/dev/null && udevadm control --reload && udevadm trigger
    systemctl enable kiosk.service
    echo "install: kiosk.service enabled; it starts once /etc/kiosk/kiosk.toml exists:"
else
    echo "install: systemd is not running here (or DESTDIR is set): enable later with"
    echo "         systemctl daemon-reload && systemctl enable --now kiosk"
fi
echo "  sudo $PREFIX/venv/bin/kiosk provision ...   then   sudo -u kiosk $PREFIX/venv/bin/kiosk doctor"
