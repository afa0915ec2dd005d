#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian 12 / Raspberry Pi OS:
# the apt packages in scripts/apt-packages.txt (through sudo when not root), a
# virtualenv at .venv, and this project in it (editable, with its extras).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
EXTRAS=${EXTRAS:-kiosk,ledger,sim,nfc,pcsc,qr,test}

# Installed, or provided by an installed package (NodeSource's nodejs provides npm: asking apt
# for Debian's npm then would replace that nodejs).
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
    # grep reads to the end (no -q): an early exit would SIGPIPE dpkg-query and, under
    # pipefail, fail the pipeline even on a match.
    dpkg-query -W -f='${Status} ${Provides}\n' 2>/dev/null |
        grep -E "^install ok installed .*(^| |,)$1( |,|\(|$)" >/dev/null
}

need_apt=()
while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    installed "$pkg" || need_apt+=("$pkg")
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
        if ((i == 10)); then
            echo "bootstrap: could not install ${need_apt[*]} with apt-get (see above)" >&2
            exit 1
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

# The AsyncAPI parser tests/test_contract.py runs, pinned by tools/asyncapi/package-lock.json.
# --ignore-scripts: nothing it needs runs at install (one dependency's only script is telemetry).
lock=tools/asyncapi/package-lock.json
if [[ ! -f tools/asyncapi/node_modules/.package-lock.json || $lock -nt tools/asyncapi/node_modules/.package-lock.json ]]; then
    echo "bootstrap: installing tools/asyncapi (npm ci)"
    (cd tools/asyncapi && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
