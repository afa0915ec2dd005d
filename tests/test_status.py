"""kiosk.status: the retained status message and when it is republished."""

import json

from kiosk import __version__
from kiosk.outbox import Outbox, OutboxStats
from kiosk.ports import Ports
from kiosk.publisher import Publisher
from kiosk.status import STATUS_EVERY_S, KioskStatus, queue_warning, status_message
from mqtt import messages


def test_queue_warning_at_the_configured_ratio():
    assert not queue_warning(79, 100, 0.8)
    assert queue_warning(80, 100, 0.8)


def test_status_message_is_valid():
    body = messages.validate("status", status_message(
        state="online", stats=OutboxStats(3, 12.5, 0), queue_limit=100, warning=False,
        uptime_s=61.26, readers={"nfc": "ok"}, display="ok", clock_synced=True,
        at="2026-01-01T00:00:00.000+00:00"))
    assert body["version"] == __version__ and body["uptime_s"] == 61.3
    assert (body["queue_depth"], body["oldest_pending_s"], body["queue_limit"]) == (3, 12.5, 100)


def test_kiosk_status_publishes_when_due(tmp_path):
    now = [10.0]
    sent = []
    ports = Ports(publish=lambda topic, payload, *a: sent.append((topic, json.loads(payload), a))
                  or True, show=lambda view: None, monotonic=lambda: now[0],
                  now_iso=lambda: "2026-01-01T00:00:00.000+00:00")
    outbox = Outbox(tmp_path / "o.db", 10)
    limits = {"max_ops": 10, "warn_ratio": 0.5}
    status = KioskStatus(outbox, ports, Publisher(ports.publish, "s-1", "l-1", "k-1"), limits)
    status.publish_if_due(now[0])
    now[0] += STATUS_EVERY_S - 0.1
    status.publish_if_due(now[0])
    assert len(sent) == 1, "not again before STATUS_EVERY_S"
    status.readers["qr"] = "unplugged"
    status.soon()
    status.publish_if_due(now[0])
    topic, body, (qos, retain, *_) = sent[-1]
    assert topic == "loyalty/v1/stores/s-1/kiosks/k-1/status" and retain
    assert body["readers"] == {"qr": "unplugged"} and body["uptime_s"] == 29.9
    limits["max_ops"] = 20  # a config reloaded in place is read at the next message
    assert status.message()["queue_limit"] == 20
    outbox.close()
