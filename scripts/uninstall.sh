#!/usr/bin/env bash
# `sudo make uninstall`: stop and remove the service, its files and the virtualenv.
# Keeps /etc/kiosk and /var/lib/kiosk (the outbox: ops not yet sent to the ledger) unless
# PURGE=1; PURGE=1 refuses while the outbox still holds ops, unless FORCE=1 too.
set -euo pipefail
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/kiosk}
ROOT=$DESTDIR

if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
    echo "uninstall: run as root (sudo make uninstall)" >&2
    exit 1
fi
outbox=$ROOT/var/lib/kiosk/outbox.db
if [[ ${PURGE:-0} == 1 && ${FORCE:-0} != 1 && -f $outbox ]]; then
    waiting=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM ops").fetchone()[0])' "$outbox" 2>/dev/null || echo "?")
    if [[ $waiting != 0 ]]; then
        echo "uninstall: the outbox holds $waiting ops not yet applied by the ledger;" >&2
        echo "           export them (kiosk queue export) or add FORCE=1 to delete them" >&2
        exit 1
    fi
fi
if [[ -z $DESTDIR && -d /run/systemd/system ]]; then
    systemctl disable --now kiosk.service 2>/dev/null || true
fi
rm -f "$ROOT/etc/systemd/system/kiosk.service" "$ROOT/etc/udev/rules.d/60-kiosk.rules" \
    "$ROOT/etc/modprobe.d/kiosk-nfc-blacklist.conf"
rm -rf "$ROOT$PREFIX/venv"
rmdir "$ROOT$PREFIX" 2>/dev/null || true
if [[ -z $DESTDIR && -d /run/systemd/system ]]; then
    systemctl daemon-reload
fi
if [[ ${PURGE:-0} == 1 ]]; then
    rm -rf "$ROOT/etc/kiosk" "$ROOT/var/lib/kiosk"
    [[ -z $DESTDIR ]] && { userdel kiosk 2>/dev/null || true; }
    echo "uninstall: removed, with config and state"
else
    echo "uninstall: removed; kept $ROOT/etc/kiosk and $ROOT/var/lib/kiosk (PURGE=1 removes them)"
fi
