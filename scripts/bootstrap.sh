#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian 12 / Raspberry Pi OS:
# the apt packages in scripts/apt-packages.txt (through sudo when not root), a
# virtualenv at .venv, and this project in it (editable, with its extras).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
EXTRAS=${EXTRAS:-kiosk,ledger,sim,nfc,pcsc,qr,test}

need_apt=()
while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done < scripts/apt-packages.txt

if ((${#need_apt[@]})); then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    echo "bootstrap: installing apt packages: ${need_apt[*]}"
    # Stop services from starting on install: the tests start private instances.
    export DEBIAN_FRONTEND=noninteractive
    for i in 1 2 3 4 5 6 7 8 9 10; do
        if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"; then
            break
        fi
        echo "bootstrap: apt busy or failed, retrying ($i)"; sleep 6
    done
fi

if [[ ! -x .venv/bin/python ]]; then
    echo "bootstrap: creating .venv"
    "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [[ ! -f $stamp || setup.cfg -nt $stamp ]]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e ".[$EXTRAS]"
    touch "$stamp"
fi
