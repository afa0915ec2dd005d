"""The locust users of bench/bench_web.py: back-office owners on the dashboard and the member
search, and an anonymous login page as the same run's baseline. Each owner takes a session logged in beforehand. Settings come from the
environment the benchmark sets (BENCH_WEB_*); run it through bench_web, not alone.
"""

from __future__ import annotations

import itertools
import os
import random

from locust import HttpUser, between, task
from locust.clients import HttpSession

SESSIONS = os.environ.get("BENCH_WEB_SESSIONS", "").split()  # one logged-in cookie per user
DASHBOARDS = [q for q in os.environ.get("BENCH_WEB_DASHBOARDS", "").split("|") if q]
CHARTS = [c for c in os.environ.get("BENCH_WEB_CHARTS", "").split(",") if c]
SEARCHES = [q for q in os.environ.get("BENCH_WEB_SEARCHES", "").split("|") if q]
THINK = tuple(float(s) for s in os.environ.get("BENCH_WEB_THINK", "0.5,1.5").split(","))


NUMBER = itertools.count()


class Owner(HttpUser):
    wait_time = between(*THINK)  # a person reads the page before the next click

    def on_start(self) -> None:
        self.client.cookies.set("ledger_session", SESSIONS[next(NUMBER) % len(SESSIONS)])
        self.anonymous = HttpSession(self.host, self.environment.events.request, self)

    @task(3)
    def dashboard(self) -> None:
        """The page, then its chart images, as a browser loads them."""
        query = random.choice(DASHBOARDS)
        self.client.get(f"/?{query}", name="dashboard")
        for chart in CHARTS:
            self.client.get(f"/charts/{chart}.svg?{query}", name="chart")

    @task(3)
    def search(self) -> None:
        if SEARCHES:
            self.client.get("/members", params={"q": random.choice(SEARCHES)},
                            name="member search")

    @task(1)
    def baseline(self) -> None:
        self.anonymous.get("/login", name="login page (baseline)")
