"""Queued ops are checked against the op schema once, when queued (kiosk/outbox.py stamps the
schema's digest), not again on every send; an op queued by a version whose schema differs, or
before the stamp existed, is checked when sent and set aside if the contract refuses it."""

import json
import sqlite3
import uuid

import pytest

from kiosk.outbox import Outbox
from kiosk.replay import Replayer
from mqtt import messages

OLD_OPS_TABLE = """CREATE TABLE ops (
    kiosk_seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT NOT NULL UNIQUE, basket_id TEXT,
    member_key TEXT NOT NULL, points_delta INTEGER NOT NULL, payload TEXT NOT NULL,
    created_wall REAL NOT NULL, created_at TEXT NOT NULL)"""


def op(**kw) -> dict:
    body = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kind": "enrol",
        "created_at": "x",
        "program_version": 1,
        "token": {"kind": "uid", "value": "04AABBCCDD"},
    }
    return body | kw


def too_long(body: dict) -> dict:
    """Refused by the contract: a token longer than 512 characters."""
    return body | {"token": {"kind": "qr", "value": "M" * 600}}


def drain(outbox: Outbox) -> list[dict]:
    sent = []
    Replayer(outbox, lambda m: sent.append(messages.encode("op", m)) or True).pump(0.0, True)
    return [json.loads(s) for s in sent]


def test_an_op_queued_now_is_sent_unchanged_without_a_second_check(tmp_path):
    box = Outbox(tmp_path / "o.db")
    good = op()
    box.add_many([(good, "k", 0)])
    pending = box.pending()[0]
    assert pending.checked
    message = pending.message()
    assert isinstance(message, messages.Checked)
    # the bytes sent are those the full check would send
    assert messages.encode("op", message) == messages.encode("op", dict(message))
    assert drain(box) == [good | {"kiosk_seq": 1}]


def test_a_check_for_one_schema_does_not_pass_another():
    message = messages.Checked("op", too_long(op()) | {"kiosk_seq": 1})
    with pytest.raises(messages.BadMessage, match="notice"):
        messages.encode("notice", message)


def test_an_op_the_contract_refuses_is_not_stamped_and_is_set_aside_when_sent(tmp_path):
    box = Outbox(tmp_path / "o.db")
    bad, good = too_long(op()), op()
    box.add_many([(bad, "k", 0), (good, "k", 0)])
    assert [p.checked for p in box.pending()] == [False, True]
    assert [m["op_id"] for m in drain(box)] == [good["op_id"]]
    assert [r["op_id"] for r in box.rejected()] == [bad["op_id"]]


def test_an_op_stamped_under_another_schema_is_checked_again(tmp_path):
    """As if a kiosk update changed the op schema: the stamp no longer matches."""
    box = Outbox(tmp_path / "o.db")
    box.add_many([(op(), "k", 0), (op(), "k", 0)])
    first = box.pending()[0]
    box.db.execute(
        "UPDATE ops SET checked='0123456789abcdef', payload=? WHERE kiosk_seq=1",
        (json.dumps(too_long(first.body)),),
    )
    assert [p.checked for p in box.pending()] == [False, True]
    assert len(drain(box)) == 1 and box.rejected()[0]["op_id"] == first.op_id


def test_an_outbox_from_before_the_stamp_opens_and_its_ops_are_checked_on_sending(tmp_path):
    path = tmp_path / "o.db"
    bad, good = too_long(op()), op()
    db = sqlite3.connect(path)
    db.execute(OLD_OPS_TABLE)
    for body in (bad, good):
        db.execute(
            "INSERT INTO ops(op_id, basket_id, member_key, points_delta, payload,"
            " created_wall, created_at) VALUES (?,?,?,?,?,?,?)",
            (body["op_id"], None, "k", 0, json.dumps(body), 0.0, "x"),
        )
    db.commit()
    db.close()
    box = Outbox(path)
    assert box.depth() == 2 and not any(p.checked for p in box.pending())
    assert [m["op_id"] for m in drain(box)] == [good["op_id"]]
    assert [r["op_id"] for r in box.rejected()] == [bad["op_id"]]
