"""`ledger webhooks` as an operator runs it, on SQLite and PostgreSQL: add (the secret once),
list, rotate, disable, enable, deliveries, retry, each audited; bad input refused with what was
wrong; and `ledger webhooks run` killed with SIGKILL while a receiver holds a delivery: after the
restart everything is delivered, the interrupted one again under the same webhook-id."""

import json
import signal
import subprocess
import sys
import time

import pytest

from ledger import audit, events, webhook_queue
from ledger.store import LedgerStore
from tests.webhook_receiver import Receiver


def ledger(db, *args, check=True):
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "webhooks", *args, "--db", db],
                         capture_output=True, text=True, timeout=60)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def add(db, url, *extra):
    out = ledger(db, "add", url, *extra).stdout.splitlines()
    return out[0].split()[0], out[1].removeprefix("secret: ")


def test_the_commands_an_operator_runs(ledger_db):
    with Receiver() as receiver:
        endpoint, secret = add(ledger_db, receiver.url, "--events", "member.created")
        assert secret.startswith("whsec_")
        listed = ledger(ledger_db, "list").stdout
        assert endpoint in listed and "events=member.created" in listed and "whsec_" not in listed
        rotated = ledger(ledger_db, "rotate", endpoint).stdout
        assert rotated.startswith("new secret: whsec_") and secret not in rotated
        ledger(ledger_db, "disable", endpoint, "--reason", "receiver moving")
        assert "disabled (receiver moving)" in ledger(ledger_db, "list").stdout
        store = LedgerStore(ledger_db)
        store.add_member("A")
        ledger(ledger_db, "run", "--once")
        assert receiver.requests == []  # disabled: held
        ledger(ledger_db, "enable", endpoint)
        receiver.script = [500]
        ledger(ledger_db, "run", "--once")
        failed = ledger(ledger_db, "deliveries", "--state", "pending").stdout
        assert "member.created" in failed and "500 HTTP 500" in failed
        delivery = failed.split()[0]
        ledger(ledger_db, "retry", delivery)
        ledger(ledger_db, "run", "--once")
        assert "delivered" in ledger(ledger_db, "deliveries", "--endpoint", endpoint).stdout
        assert len(receiver.requests) == 2
        assert [e.action for e in audit.entries(store.db, target=endpoint)] == [
            "webhook.retry", "webhook.enable", "webhook.disable", "webhook.rotate", "webhook.add"]
        assert all(e.via == "cli" and e.actor.startswith("cli:")
                   for e in audit.entries(store.db, target=endpoint))
        store.close()


@pytest.mark.parametrize("args, why", [
    (("add", "ftp://example.org/x"), "only http:// and https://"),
    (("add", "http://example.org/", "--events", "points.earnd"), "unknown event type"),
    (("rotate", "ep_nope"), "ep_ and 16 hex"),
    (("enable", "ep_0123456789abcdef"), "no webhook endpoint"),
    (("retry", "12"), "no webhook delivery 12"),
    (("retry", "-3"), "must be a positive number"),
    (("deliveries", "--state", "lost"), "invalid choice"),
    (("run", "--timeout", "0"), "seconds from 0.1 to 300"),
])
def test_bad_input_is_refused_with_what_was_wrong(tmp_path, args, why):
    out = ledger(str(tmp_path / "l.db"), *args, check=False)
    assert out.returncode in (1, 2) and why in out.stderr and "Traceback" not in out.stderr


def test_the_runner_killed_mid_delivery_redelivers_after_restart(ledger_db, tmp_path):
    store = LedgerStore(ledger_db)
    with Receiver() as receiver:
        endpoint, secret = add(ledger_db, receiver.url)
        for i in range(5):
            store.add_member(f"M{i}")
        receiver.script = ["hold"]  # the first delivery hangs at the receiver
        cmd = [sys.executable, "-m", "ledger.cli", "webhooks", "run", "--db", ledger_db,
               "--timeout", "1", "--workers", "25", "--poll", "0.2"]
        log = open(tmp_path / "runner.log", "ab")
        runner = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert receiver.wait_for(1)
            runner.send_signal(signal.SIGKILL)  # mid-delivery: sent, no answer recorded
            runner.wait(10)
            receiver.release.set()
            time.sleep(0.5)
            [held] = webhook_queue.deliveries(store, state="pending", limit=10)[-1:]
            runner = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            # The interrupted delivery is due again once its claim is over: 1 s x 2 posts + 5 s.
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and webhook_queue.deliveries(store, state="pending"):
                time.sleep(0.2)
        finally:
            runner.terminate()
            runner.wait(10)
        got = [(r.headers["webhook-id"], r.verified(secret)["type"]) for r in receiver.requests]
    ids = [e.event_id for e in events.since(store.db)]
    assert sorted({i for i, _ in got}) == sorted(ids)  # nothing lost
    first = got[0][0]
    assert [i for i, _ in got].count(first) == 2  # the interrupted one, again, same id
    assert held.event_id == first or held.event_id in ids
    assert [d.state for d in webhook_queue.deliveries(store)] == ["delivered"] * 5
    store.close()
    assert json.dumps(got)  # plain data
