"""Signed webhooks to a real HTTP receiver on loopback, every delivery verified with the Standard
Webhooks reference library, on SQLite and PostgreSQL: delivered; 500 then 200 retried under the
same webhook-id; a timeout retried; 410 disables the endpoint (and enabling it again delivers what
happened meanwhile); both signatures verify during a key rotation, only the new one after it;
the event filter; giving up after the schedule; a retry by hand; bad URLs refused."""

import datetime as dt
import json
import time

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from ledger import audit, events, webhook_queue, webhooks
from ledger.store import LedgerStore
from ledger.webhook_runner import Runner
from tests.webhook_receiver import Receiver

NOW = dt.datetime.now(dt.UTC)  # a clock for scheduling only: the suite may run long after


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    yield s
    s.close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def runner(store, timeout=5.0):
    return Runner(store, timeout=timeout)


def states(store):
    return [(d.type, d.state, d.attempts) for d in reversed(webhook_queue.deliveries(store))]


def test_an_event_is_delivered_signed_and_verifies(store, receiver):
    endpoint, secret = webhooks.add(store, receiver.url + "/hooks", [], "ana")
    member = store.add_member("Ada", ["04AB"], opening_balance=20)
    assert runner(store).step() == 2  # one event queued, one delivery made
    [got] = receiver.requests
    payload = got.verified(secret)
    [event] = events.since(store.db)
    assert got.path == "/hooks" and got.headers["webhook-id"] == event.event_id
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 120  # this attempt's
    assert payload["type"] == "member.created" and payload["timestamp"] == event.at
    assert payload["data"] == {"event_id": event.event_id, "member_id": member, "source": "cli",
                               "store": None, "tier": "member", "balance": 20, "cards": 1}
    assert b"Ada" not in got.body
    assert states(store) == [("member.created", "delivered", 1)]
    assert runner(store).step() == 0 and len(receiver.requests) == 1  # delivered once
    with pytest.raises(WebhookVerificationError):
        got.verified(webhooks.new_secret())  # another endpoint's secret does not verify


def test_a_500_is_retried_with_the_same_id_after_the_first_wait(store, receiver):
    _, secret = webhooks.add(store, receiver.url, [], "ana")
    store.add_member("Ada", opening_balance=5)
    receiver.script = [500]
    r = runner(store)
    r.step(NOW)
    [d] = webhook_queue.deliveries(store)
    assert (d.state, d.attempts, d.last_status, d.last_error) == (
        "pending", 1, 500, "HTTP 500 Internal Server Error")
    wait = dt.datetime.fromisoformat(d.next_attempt_at.replace("Z", "+00:00")) - NOW
    assert dt.timedelta(seconds=4.4) <= wait <= dt.timedelta(seconds=5.6)  # 5 s, 10 % jitter
    assert r.step(NOW + dt.timedelta(seconds=2)) == 0  # not due yet
    assert r.step(NOW + dt.timedelta(seconds=6)) == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body and second.verified(secret)
    assert states(store) == [("member.created", "delivered", 2)]


def test_a_timeout_is_retried(store, receiver):
    webhooks.add(store, receiver.url, [], "ana")
    store.add_member("Ada")
    receiver.script = ["hold"]
    r = runner(store, timeout=0.5)
    r.step(NOW)
    [d] = webhook_queue.deliveries(store)
    assert d.state == "pending" and d.last_status is None and "Timeout" in d.last_error
    receiver.release.set()
    r.step(NOW + dt.timedelta(seconds=6))
    assert states(store) == [("member.created", "delivered", 2)]


def test_410_disables_the_endpoint_and_enabling_delivers_what_happened_meanwhile(store, receiver):
    endpoint, secret = webhooks.add(store, receiver.url, [], "ana")
    a = store.add_member("A")
    receiver.script = [410]
    r = runner(store)
    r.step(NOW)
    now = webhooks.endpoint(store, endpoint.endpoint_id)
    assert not now.enabled and now.disabled_reason.startswith("410 Gone at ")
    assert states(store) == [("member.created", "failed", 1)]
    store.adjust(a, 5, "goodwill", "ana")
    assert r.step(NOW + dt.timedelta(hours=1)) == 0 and len(receiver.requests) == 1
    webhooks.set_enabled(store, endpoint.endpoint_id, True, "", "ana")
    r.step(NOW + dt.timedelta(hours=1))
    assert [q.verified(secret)["type"] for q in receiver.requests] == ["member.created",
                                                                        "points.adjusted"]
    assert [e.action for e in audit.entries(store.db, target=endpoint.endpoint_id)] == [
        "webhook.enable", "webhook.add"]


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new(store, receiver):
    endpoint, old = webhooks.add(store, receiver.url, [], "ana")
    new = webhooks.rotate(store, endpoint.endpoint_id, "ana")
    store.add_member("A")
    runner(store).step()
    [got] = receiver.requests
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verified(old) == got.verified(new)
    # A rotation 25 hours ago: its old secret is past the overlap, so only the new one signs.
    newest = webhooks.rotate(store, endpoint.endpoint_id, "ana",
                             now=NOW - dt.timedelta(hours=25))
    store.add_member("B")
    runner(store).step()
    later = receiver.requests[-1]
    assert later.verified(newest)
    for gone in (old, new):
        with pytest.raises(WebhookVerificationError):
            later.verified(gone)


def test_an_endpoint_receives_only_the_types_it_asked_for(store, receiver):
    webhooks.add(store, receiver.url + "/points", ["points.adjusted"], "ana")
    webhooks.add(store, receiver.url + "/all", [], "ana")
    a = store.add_member("A")
    store.adjust(a, 7, "goodwill", "ana")
    runner(store).step()
    got = sorted((q.path, json.loads(q.body)["type"]) for q in receiver.requests)
    assert got == [("/all", "member.created"), ("/all", "points.adjusted"),
                   ("/points", "points.adjusted")]


def test_an_endpoint_gets_the_events_after_it_was_added_even_with_no_runner_up(store, receiver):
    store.add_member("before")
    webhooks.add(store, receiver.url, [], "ana")
    for name in ("one", "two", "three"):
        store.add_member(name)  # no runner: the cursor keeps them
    runner(store).step()
    assert [json.loads(q.body)["type"] for q in receiver.requests] == ["member.created"] * 3


def test_a_delivery_is_given_up_after_three_days_and_a_retry_by_hand_sends_it(store, receiver):
    webhooks.add(store, receiver.url, [], "ana")
    store.add_member("A")
    receiver.script = [503] * 20
    r, at = runner(store), NOW
    for _ in range(20):
        r.step(at)
        [d] = webhook_queue.deliveries(store)
        if d.state != "pending":
            break
        at = dt.datetime.fromisoformat(d.next_attempt_at.replace("Z", "+00:00"))
    assert d.state == "failed" and d.last_status == 503
    assert dt.timedelta(days=2) < at - NOW <= webhook_queue.GIVE_UP_AFTER
    assert 8 <= d.attempts <= 12  # 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h
    receiver.script = []
    webhook_queue.retry(store, d.delivery_id, at, "ana")
    r.step(at)
    assert states(store) == [("member.created", "delivered", d.attempts + 1)]


@pytest.mark.parametrize("url, why", [
    ("ftp://example.org/x", "only http:// and https://"),
    ("file:///etc/passwd", "only http:// and https://"),
    ("javascript:alert(1)", "only http:// and https://"),
    ("example.org/hook", "only http:// and https://"),
    ("http:///path", "names no host"),
    ("https://user:pw@example.org/", "no user or password"),
    ("http://example.org:99999/", "is not a URL"),
    ("http://exa mple.org/", "without spaces"),
    ("", "1-2000 printable"),
])
def test_bad_urls_are_refused_with_what_is_wrong(url, why):
    with pytest.raises(ValueError, match=why):
        webhooks.check_url(url)


def test_unknown_event_types_are_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="points.earned"):
        webhooks.check_types(["points.earnd"])


def test_on_postgresql_the_cursor_never_passes_an_event_still_being_committed(pg_cluster):
    """Two transactions emit; the one that took the lower seq commits last. A runner looking in
    between must not move its cursor past that seq (or the event would never be delivered):
    it waits a moment for the transaction in flight, then gives up until its next poll."""
    import threading
    import time

    from ledger import db as dbm

    url = pg_cluster.database()
    dbm.upgrade(url)
    store, slow, fast = LedgerStore(url), LedgerStore(url), LedgerStore(url)
    endpoint, _ = webhooks.add(store, "http://127.0.0.1:9/", [], "ana")
    slow.db.execute("BEGIN")
    events.emit(slow.db, "points.adjusted", "m-slow", {"points": 1, "balance": 1})  # lower seq
    with fast.transaction() as db:
        events.emit(db, "points.adjusted", "m-fast", {"points": 2, "balance": 2})
    assert webhook_queue.enqueue(store, NOW) == 0  # the runner does not look past it ...
    assert webhooks.endpoint(store, endpoint.endpoint_id).after_seq == 0
    done = threading.Event()
    worker = threading.Thread(target=lambda: (webhook_queue.enqueue(store, NOW), done.set()))
    worker.start()
    time.sleep(0.05)  # the runner is waiting for the lock when the slow one commits
    slow.db.execute("COMMIT")
    worker.join(10)
    assert done.is_set()
    webhook_queue.enqueue(store, NOW)  # in case the wait above timed out on a loaded machine
    queued = {d.event_id for d in webhook_queue.deliveries(store, endpoint.endpoint_id)}
    assert queued == {e.event_id for e in events.since(store.db)}  # ... so both are queued
    for s in (store, slow, fast):
        s.close()
