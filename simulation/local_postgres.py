"""A private PostgreSQL cluster: initdb in a temporary directory, pg_ctl on a free port.

Used by the tests and bench/bench_ledger.py, so neither touches a server the machine may run on
5432. initdb and the server refuse to run as root: as root we run them as the ``postgres`` user
the Debian package creates (``runuser``), in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from simulation.local_broker import free_port


def pg_bin() -> Path | None:
    """Debian's server binaries (newest version), or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class LocalPostgres:
    """One cluster; ``database()`` makes a fresh empty database and returns its URL."""

    def __init__(self, fsync: bool = True) -> None:
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: run `make test` (it installs the "
                               "Debian package postgresql)")
        self.fsync = fsync
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
        self.data, self.sockets, self.log = self.dir / "data", self.dir / "run", self.dir / "log"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.started = False

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {out.stderr.strip() or out.stdout.strip()}")

    def start(self) -> LocalPostgres:
        self.sockets.mkdir()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for path in (self.dir, self.sockets):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        return self.start_server()

    def start_server(self) -> LocalPostgres:
        opts = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
                f" -c max_connections=50 -c fsync={'on' if self.fsync else 'off'}")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", opts, "start")
        self.started = True
        return self

    def crash(self) -> None:
        """Stop the server the hard way (immediate shutdown: recovery on the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.started = False

    def server_pid(self) -> int:
        """The postmaster's process id (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def database(self) -> str:
        import psycopg

        name = "ledger_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
