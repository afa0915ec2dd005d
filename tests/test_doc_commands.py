"""Every `ledger ...` and `kiosk ...` command shown in README.md and docs/*.md runs.

The commands are read from the Markdown at test time (tests/doc_commands.py), one document at
a time, in the order written, against a fresh setup: a private Mosquitto, a SQLite ledger (and
a PostgreSQL database for a document that names one), a simulated kiosk's config at
/etc/kiosk/kiosk.toml under a temporary root, and the input files the documents assume (below).
A command passes when it exits 0; a service (``ledger serve``) when it says it is ready and
stops cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.doc_commands import REPO, DocLine, Setup, doc_commands, doc_files

BIN = Path(sys.executable).parent  # the venv's `ledger` and `kiosk` scripts

# Commands not run here, each with why. Only what needs root, systemd or hardware belongs here;
# the tests named run the same commands on temporary paths or simulated hardware.
SKIP = [
    (
        r"^sudo ",
        "runs as root on an installed kiosk (writes /etc/kiosk, reads /opt/kiosk);"
        " tests/test_provision.py and tests/test_doctor.py run `kiosk provision` and `kiosk"
        " doctor` with temporary paths and simulated hardware",
    ),
    (
        r"^kiosk readers$",
        "lists the card readers attached to this machine, and fails without"
        " one; tests/test_pcsc.py runs it against pcscd with a virtual reader",
    ),
    (
        r"^kiosk readers test\b",
        "waits for a card on a real reader; tests/test_pcsc.py and"
        " tests/test_readers_notice.py run it against virtual readers",
    ),
]

# Commands that run until stopped, and the log line that says they are up.
SERVICES = {("ledger", "serve"): "ledger ready", ("ledger", "web"): "ledger web ready"}

# Files the documents take as already there, and where they come from.
PROGRAM_FILES = {
    "shop.toml": "docs/examples/program.toml",  # docs/program.md: the example
    "shop.yaml": "docs/examples/program.yaml",
}
KIOSKS_TXT = "store-1/lane-1/kiosk-1\nstore-1/lane-2/kiosk-2\n"  # docs/operations.md's format


def _skip_reason(doc: DocLine) -> str | None:
    return next((why for pattern, why in SKIP if re.search(pattern, doc.text)), None)


@pytest.fixture
def setup(request, tmp_path, broker) -> Setup:
    root = tmp_path / "root"
    work = root / "work"
    work.mkdir(parents=True)
    s = Setup(
        root,
        work,
        str(work / "ledger.db"),
        broker.port,
        postgres=lambda: request.getfixturevalue("pg_cluster").database(),
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "KIOSK_"))}
    s.env = {
        **keep,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(root / "home"),
        "LEDGER_DB": s.sqlite,
        "LEDGER_WEB_PORT": "0",  # `ledger web` on any free port (8080 may be taken here)
        "LEDGER_FLEET_STATE": str(root / "var/lib/loyalty-ledger/fleet.json"),
    }
    for name, source in PROGRAM_FILES.items():
        shutil.copy(REPO / source, work / name)
    (work / "kiosks.txt").write_text(KIOSKS_TXT)
    _kiosk_config(s)
    return s


def _kiosk_config(s: Setup) -> None:
    """A simulated kiosk on the test broker, where the docs' `--config` paths point."""
    from kiosk.provision import to_toml
    from simulation.simulated_kiosk import sim_config

    path = Path(s.path("/etc/kiosk/kiosk.toml"))
    path.write_text(to_toml(sim_config(s.broker_port, s.path("/var/lib/kiosk"))))


def _ledger(s: Setup, *args: str) -> None:
    subprocess.run(
        [str(BIN / "ledger"), *args],
        cwd=s.work,
        env=s.env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _prepare(s: Setup, path: Path, docs: list[DocLine]) -> None:
    """What a reader of this document has before its first command."""
    if path.name != "README.md":  # the README makes its own member; the docs use the demo's
        from simulation.demo import CARDS

        for name, card, balance in CARDS:
            _ledger(
                s,
                "members",
                "add",
                "--name",
                name,
                "--id",
                name.lower(),
                "--card",
                card,
                "--balance",
                str(balance),
            )
    if any(w.startswith("broker/") for d in docs for w in d.words):
        # docs/provisioning.md uses the CA and accounts `ledger broker-config` makes
        _ledger(s, "broker-config", "--out", "broker", "--kiosks", "kiosks.txt")


def _run(s: Setup, doc: DocLine) -> str | None:
    """None when the command did what it should; else what went wrong."""
    line = s.shell_line(doc, BIN)
    program = doc.programs()[0][:2]
    if tuple(program) in SERVICES:
        return _run_service(s, line, SERVICES[tuple(program)])
    out = subprocess.run(
        ["bash", "-c", line], cwd=s.work, env=s.env, capture_output=True, text=True, timeout=120
    )
    if out.returncode != 0:
        return f"exit {out.returncode}\n{out.stdout[-1500:]}{out.stderr[-1500:]}"
    return None


def _run_service(s: Setup, line: str, ready: str, within: float = 30.0) -> str | None:
    log = s.root / "service.log"
    with open(log, "w") as f:
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {line}"],
            cwd=s.work,
            env=s.env,
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + within
        while ready not in log.read_text() and proc.poll() is None:
            if time.monotonic() > deadline:
                return f"not {ready!r} within {within:.0f} s\n{log.read_text()[-2000:]}"
            time.sleep(0.1)
        if proc.poll() is not None:
            return f"exit {proc.returncode} before it was ready\n{log.read_text()[-2000:]}"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        return None if code == 0 else f"exit {code} on SIGTERM\n{log.read_text()[-2000:]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# Documents whose shell blocks are a walk-through, one step needing the last (a kiosk left running,
# a basket open): their own test runs the blocks in order, in one shell.
WALKTHROUGHS = {
    "docs/pos-integration.md": "tests/test_pos_walkthrough.py (the sale, redemption and void) and"
    " tests/test_returns_e2e.py (the refund commands)",
}
DOCS = [p for p in doc_files()
        if doc_commands(p) and str(p.relative_to(REPO)) not in WALKTHROUGHS]


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(REPO)) for p in DOCS])
def test_every_command_in_the_docs_runs(path, setup):
    docs = doc_commands(path)
    _prepare(setup, path, docs)
    failed, skipped, ran = [], [], 0
    for doc in docs:
        if doc.export:
            name, value = doc.export
            setup.env[name] = setup.word(value)
            continue
        reason = _skip_reason(doc)
        if reason:
            skipped.append(f"{doc.where}: {doc.text}  [{reason}]")
            continue
        problem = _run(setup, doc)
        ran += 1
        if problem:
            failed.append(f"{doc.where}: {doc.text}\n  -> {problem}")
    print(f"{path.name}: {ran} commands run", *skipped, sep="\n  skipped ")
    assert not failed, "\n\n".join(failed)
    assert ran or skipped
