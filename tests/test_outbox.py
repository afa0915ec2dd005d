"""The outbox: an op and its basket's settlement are one transaction; acks remove; order kept."""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from kiosk.outbox import Outbox, OutboxFull


def op(**kw):
    body = {"v": 1, "op_id": str(uuid.uuid4()), "kind": "sale", "created_at": "x",
            "program_version": 1, "earn": 5, "redeem": []}
    body.update(kw)
    return body


def test_settle_once_per_basket(tmp_path):
    box = Outbox(tmp_path / "o.db")
    first = box.settle("b-1", "paid", op(), "card:1", 5)
    again = box.settle("b-1", "paid", op(), "card:1", 5)
    assert first == 1 and again is None
    assert box.depth() == 1 and box.is_settled("b-1")


def test_replay_order_and_ack(tmp_path):
    box = Outbox(tmp_path / "o.db")
    ops = [op() for _ in range(5)]
    for i, o in enumerate(ops):
        box.settle(f"b-{i}", "paid", o, "card:1", 5)
    assert [p.op_id for p in box.pending()] == [o["op_id"] for o in ops]
    assert [p.message()["kiosk_seq"] for p in box.pending()] == [1, 2, 3, 4, 5]
    assert box.ack([ops[0]["op_id"], ops[2]["op_id"], "not-there"]) == 2
    assert [p.kiosk_seq for p in box.pending()] == [2, 4, 5]
    assert box.pending_points() == {"card:1": 15}


def test_sequence_never_reused_after_ack(tmp_path):
    box = Outbox(tmp_path / "o.db")
    a = op()
    box.settle("b-1", "paid", a, "k", 1)
    box.ack([a["op_id"]])
    box.close()
    box = Outbox(tmp_path / "o.db")
    assert box.settle("b-2", "paid", op(), "k", 1) == 2


def test_rejected_ops_are_kept_for_reports(tmp_path):
    box = Outbox(tmp_path / "o.db")
    a = op()
    box.settle("b-1", "paid", a, "k", 1)
    assert box.reject(a["op_id"], "unknown card")
    assert box.depth() == 0
    assert box.rejected()[0]["reason"] == "unknown card"


def test_full_outbox_refuses_and_keeps_the_basket_open(tmp_path):
    box = Outbox(tmp_path / "o.db", max_ops=2)
    box.settle("b-1", "paid", op(), "k", 1)
    box.settle("b-2", "paid", op(), "k", 1)
    with pytest.raises(OutboxFull):
        box.settle("b-3", "paid", op(), "k", 1)
    assert not box.is_settled("b-3")  # rolled back together with the op
    assert box.depth() == 2


def test_attachment_survives_reopen_and_goes_with_settlement(tmp_path):
    box = Outbox(tmp_path / "o.db")
    box.save_attachment("b-1", {"value": "04AA"})
    box.close()
    box = Outbox(tmp_path / "o.db")
    assert box.load_attachment("b-1") == {"value": "04AA"}
    box.settle("b-1", "paid", op(), "k", 1)
    assert box.load_attachment("b-1") is None


def test_kill_9_after_commit_loses_nothing(tmp_path):
    """A child commits ops then SIGKILLs itself; every committed op is there afterwards."""
    path = tmp_path / "o.db"
    script = textwrap.dedent(f"""
        import os, signal, sys, uuid
        sys.path.insert(0, {os.getcwd()!r})
        from kiosk.outbox import Outbox
        box = Outbox({str(path)!r})
        for i in range(50):
            box.settle(f"b-{{i}}", "paid", {{"op_id": str(uuid.uuid4()), "kind": "sale",
                       "created_at": "x", "program_version": 1}}, "k", 1)
            print(i, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode == -9
    told = len(res.stdout.split())
    box = Outbox(path)
    assert box.depth() == told == 50
    assert json.loads(json.dumps([p.kiosk_seq for p in box.pending()])) == list(range(1, 51))


def test_partly_refused_op_is_kept_for_reports_and_leaves_the_queue(tmp_path):
    box = Outbox(tmp_path / "o.db")
    a = op()
    box.settle("b-1", "paid", a, "k", 1)
    box.note_refusal(a["op_id"], "refused: coffee needs 100 points, balance 40")
    box.ack([a["op_id"]])
    assert box.depth() == 0
    assert box.rejected()[0]["reason"].startswith("refused: coffee")
