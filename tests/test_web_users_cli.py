"""`ledger users add/list/disable` and `ledger web`'s start-up checks, through the real command
line (subprocesses of the venv's `ledger`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from ledger import audit
from ledger.store import LedgerStore

LEDGER = str(Path(sys.executable).parent / "ledger")


def ledger(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([LEDGER, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def test_add_list_disable_each_audited(ledger_db):
    added = ledger("users", "add", "ana", "--role", "owner", "--password-stdin", "--db",
                   ledger_db, stdin="a long passphrase\n")
    assert added.returncode == 0, added.stderr
    assert ledger("users", "disable", "ana", "--db", ledger_db).returncode == 0
    listed = ledger("users", "list", "--db", ledger_db).stdout
    assert listed.startswith("ana\towner\tdisabled\t")
    store = LedgerStore(ledger_db)
    logged = [(e.action, e.target, e.via) for e in audit.entries(store.db)]
    assert logged == [("user.disable", "user:ana", "cli"), ("user.add", "user:ana", "cli")]
    assert all(e.actor.startswith("cli:") for e in audit.entries(store.db))
    store.close()


def test_bad_input_is_refused_with_a_message(ledger_db):
    short = ledger("users", "add", "ana", "--role", "owner", "--password-stdin", "--db",
                   ledger_db, stdin="short\n")
    assert short.returncode == 1 and "a password is 10 to" in short.stderr
    role = ledger("users", "add", "ana", "--role", "root", "--db", ledger_db)
    assert role.returncode == 2 and "invalid choice: 'root'" in role.stderr
    name = ledger("users", "add", " ana", "--role", "staff", "--password-stdin", "--db",
                  ledger_db, stdin="a long passphrase\n")
    assert name.returncode == 2 and "user name is 1 to 64" in name.stderr
    ledger("users", "add", "ana", "--role", "staff", "--password-stdin", "--db", ledger_db,
           stdin="a long passphrase\n")
    again = ledger("users", "add", "ana", "--role", "staff", "--password-stdin", "--db",
                   ledger_db, stdin="a long passphrase\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    missing = ledger("users", "disable", "nobody", "--db", ledger_db)
    assert missing.returncode == 1 and "no user named 'nobody'" in missing.stderr


def test_web_makes_its_secret_0600_serves_and_stops_on_sigterm(tmp_path):
    db, secret = str(tmp_path / "ledger.db"), tmp_path / "web.secret"
    proc = subprocess.Popen([LEDGER, "web", "--db", db, "--port", "0", "--secret-file",
                             str(secret)], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "ledger web ready on http://127.0.0.1:" in line, line
        url = line.rsplit(" ", 1)[1].strip()
        answer = httpx.get(url + "/login")
        assert answer.status_code == 200 and "strict-transport-security" in answer.headers
        assert secret.stat().st_mode & 0o777 == 0o600
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_web_refuses_a_secret_others_can_read(tmp_path):
    secret = tmp_path / "web.secret"
    secret.write_text("x" * 64)
    os.chmod(secret, 0o644)
    out = ledger("web", "--db", str(tmp_path / "l.db"), "--secret-file", str(secret))
    assert out.returncode == 2 and f"run `chmod 600 {secret}`" in out.stderr
