"""The back office under load: `ledger web` as a real process on a private PostgreSQL holding
100,000 members (names, emails and phones as bench_member_search makes them; tiers, baskets and
journal entries from bench_reports' generators), and locust headless on loopback with 50 owners
who open the dashboard (the page and its chart images) and search members, each waiting
0.5-1.5 s between clicks. The anonymous login page is the same run's baseline.

Percentiles are locust's (it rounds a time above 100 ms to 10 ms). The first dashboard view of a
period builds its figures (ledger.report.build, timed alone here as "cold build"); later views
reuse them until the ledger's data version changes (ledger/web/figures.py).

    .venv/bin/python -m bench.bench_web --members 100000 --seconds 60
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

from bench import bench_member_search, bench_reports
from bench.common import machine
from ledger import db as dbm
from ledger import report
from ledger.audit import cli_actor
from ledger.report_scope import Period, Scope
from ledger.store import LedgerStore
from ledger.web import accounts
from simulation.local_broker import free_port

ROOT = Path(__file__).resolve().parent.parent
OWNER = ("olga", "owner-password-1")
DASHBOARDS = ("from=2026-06-01&to=2026-06-30", "from=2026-06-01&to=2026-06-30&store=store-3",
              "from=2026-01-01&to=2026-06-30", "from=2026-06-01&to=2026-06-30&store=store-7")
CHARTS = ("baskets", "points", "tiers", "kiosks")  # no segment refresh here: no segment chart
SEARCHES = ("ovelac", "ad", "0004242@exa", "Hopper", "nobody at all")
KINDS = ("dashboard", "chart", "member search", "login page (baseline)")


def members(n: int):
    """bench_reports' members (ids, tiers, joining times) with bench_member_search's names."""
    rnd = random.Random(7)
    for chunk in bench_reports.members(n, random.Random(1)):
        yield [(member_id, f"{rnd.choice(bench_member_search.FIRST)}"
                f" {rnd.choice(bench_member_search.LAST)}", *rest)
               for member_id, _, *rest in chunk]


def fill(store: LedgerStore, n: int, baskets: int, journal: int) -> None:
    store.save_program(1, bench_reports.PROGRAM)
    tables = (("members", ("member_id", "name", "tier", "created_at", "tier_since"), members(n)),
              ("baskets", bench_reports.BASKET_COLUMNS,
               bench_reports.baskets(baskets, n, random.Random(2))),
              ("journal", bench_reports.JOURNAL,
               bench_reports.journal(journal, n, random.Random(3))))
    for table, columns, chunks in tables:
        for rows in chunks:
            if rows:
                with store.transaction():
                    store.insert_rows(table, columns, rows)
    profiles = [(f"m-{i:07d}", f"m-{i:07d}@example.org",
                 f"+4930{5550000 + i:07d}" if i % 2 else None, "2026-01-01T00:00:00.000Z")
                for i in range(n)]
    with store.transaction():
        store.insert_rows("member_profiles", ("member_id", "email", "phone", "updated_at"),
                          profiles)
        accounts.add(store, *OWNER, "owner", cli_actor(), "cli")
    store.db.execute("ANALYZE")


def cold_build(store: LedgerStore) -> float:
    """Seconds for the first dashboard period's figures without the cache."""
    first, last = (dt.date.fromisoformat(d) for d in re.findall(r"\d{4}-\d\d-\d\d",
                                                                DASHBOARDS[0]))
    t0 = time.perf_counter()
    report.build(store, Period(first, last + dt.timedelta(days=1)), Scope(),
                 report.settings(store))
    return time.perf_counter() - t0


def start_web(url: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = tmp / "web.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", "web", "--db", url, "--port",
                             str(port), "--secret-file", str(tmp / "web.secret"),
                             "--insecure-cookies"], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if b"ledger web ready" in log.read_bytes():
            return proc, f"http://127.0.0.1:{port}"
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"ledger web did not start: {log.read_text()[-1500:]}")


def login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    answer = client.post("/login", data={"name": OWNER[0], "password": OWNER[1],
                                         "csrf_token": token.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"login failed: {answer.status_code} {answer.text[:300]}")
    return client


def prepare(base: str, users: int) -> tuple[list[str], bool]:
    """A session per user, logged in before the load: a login hashes the password with Argon2id
    (0.6 s of CPU here), once per user and 12 hours, which is not the steady state measured.
    Then each dashboard opened once, as the first owner to look does (its figures are built
    then; the cold build is timed apart). And whether this back office has the member search."""
    sessions = []
    for _ in range(users):
        with closing(login(base)) as client:
            sessions.append(client.cookies["ledger_session"])
    with closing(login(base)) as client:
        for query in DASHBOARDS:
            client.get(f"/?{query}").raise_for_status()
        return sessions, client.get("/members", params={"q": "ad"}).status_code == 200


def run_locust(base: str, tmp: Path, args, sessions: list[str], search: bool) -> dict[str, dict]:
    users, seconds = args.users, args.seconds
    env = {**os.environ, "BENCH_WEB_THINK": args.think, "PYTHONPATH": str(ROOT),
           "BENCH_WEB_SESSIONS": " ".join(sessions), "BENCH_WEB_DASHBOARDS": "|".join(DASHBOARDS),
           "BENCH_WEB_CHARTS": ",".join(CHARTS),
           "BENCH_WEB_SEARCHES": "|".join(SEARCHES) if search else ""}
    prefix = tmp / "locust"
    subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench/web_users.py"),
                    "--headless", "--reset-stats", "-u", str(users), "-r", "10", "-t",
                    f"{seconds}s", "--host", base, "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING"], env=env, cwd=ROOT, check=False,
                   capture_output=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


def table(stats: dict[str, dict], seconds: int) -> list[str]:
    base = stats.get("login page (baseline)")
    rows = ["| request | requests | failures | req/s | p50 ms | p95 ms | p99 ms | p95 / baseline |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in KINDS:
        s = stats.get(kind)
        if s is None:
            continue
        ratio = (f"{float(s['95%']) / float(base['95%']):.1f}"
                 if base and float(base["95%"]) else "")
        rows.append(f"| {kind} | {s['Request Count']} | {s['Failure Count']} |"
                    f" {float(s['Requests/s']):.1f} | {s['50%']} | {s['95%']} |"
                    f" {s['99%']} | {ratio} |")
    total = [stats[k] for k in KINDS if k in stats]
    rows.append(f"| all of them | {sum(int(s['Request Count']) for s in total)} | |"
                f" {sum(float(s['Requests/s']) for s in total):.1f} | | | | |")
    return rows


def main(argv: list[str] | None = None) -> int:
    from simulation.local_postgres import LocalPostgres

    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--baskets", type=int, default=200_000)
    ap.add_argument("--journal", type=int, default=500_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--think", default="0.5,1.5", help="seconds between a user's clicks: MIN,MAX")
    args = ap.parse_args(argv)
    cluster = LocalPostgres(fsync=False).start()
    try:
        url = cluster.database()
        dbm.upgrade(url)
        store = LedgerStore(url)
        fill(store, args.members, args.baskets, args.journal)
        cold = cold_build(store)
        store.close()
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_web(url, Path(tmp))
            try:
                sessions, search = prepare(base, args.users)
                stats = run_locust(base, Path(tmp), args, sessions, search)
            finally:
                proc.terminate()
                proc.wait(30)
    finally:
        cluster.stop()
    given = " ".join(sys.argv[1:] if argv is None else argv)
    command = f"`.venv/bin/python -m bench.bench_web {given}`".replace(" `", "`")
    if not given:
        command += " (defaults: `--members 100000 --seconds 60 --users 50`)"
    print("## Back office under load\n")
    print(f"{command} on {machine()}: PostgreSQL 15, {args.members:,} members with"
          f" profiles, {args.baskets:,} baskets and {args.journal:,} journal entries over two"
          " years; `ledger web` as its own process; locust headless on loopback,"
          f" {args.users} owners logged in, each waiting {args.think.replace(',', '-')} s"
          f" between clicks: a dashboard view ({len(DASHBOARDS)} periods and stores; the page,"
          f" then its {len(CHARTS)} chart images), a member search (GET /members?q=,"
          f" {len(SEARCHES)} texts), the anonymous login page (the baseline), 3:3:1, for"
          f" {args.seconds} s. A cold build of a month's figures alone (ledger.report.build,"
          f" no cache): {cold:.2f} s.\n")
    if not search:
        print("This back office has no member search (GET /members answered otherwise):"
              " no search row.\n")
    print("\n".join(table(stats, args.seconds)))
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
