"""kiosk.acks: acked ops leave the outbox at the batch's commit; rejected ones are kept."""

import uuid

import pytest

from kiosk.acks import Acks
from kiosk.balances import Balances
from kiosk.outbox import Outbox
from kiosk.replay import Replayer


def op(earn=5, redeem=()):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kind": "sale", "created_at": "x",
            "program_version": 1, "earn": earn, "redeem": list(redeem)}


@pytest.fixture
def parts(tmp_path):
    outbox = Outbox(tmp_path / "o.db", 100)
    sent = []
    replayer = Replayer(outbox, lambda m: sent.append(m) or True, window=8, retry_s=5)
    balances = Balances(outbox.pending_points())
    yield outbox, replayer, balances, Acks(outbox, replayer, balances)
    outbox.close()


def queue(outbox, replayer, balances, body, key="uid:04AA", delta=5):
    outbox.settle(None, "paid", body, key, delta)
    balances.queued(key, delta)
    replayer.pump(0.0, True)


def test_applied_ops_leave_the_outbox_at_commit(parts):
    outbox, replayer, balances, acks = parts
    body = op()
    queue(outbox, replayer, balances, body)
    acks.receive({"op_id": body["op_id"], "status": "applied", "member_id": "m-a", "balance": 12})
    acks.receive({"op_id": body["op_id"], "status": "duplicate"})  # same batch: once
    assert outbox.depth() == 1, "deleted with the batch, not one by one"
    assert balances.pending_for("uid:04AA") == 0 and balances.cached("uid:04AA").balance == 12
    acks.commit()
    assert outbox.depth() == 0 and replayer.inflight == {}


def test_rejected_op_is_kept_for_reports(parts):
    outbox, replayer, balances, acks = parts
    body = op()
    queue(outbox, replayer, balances, body)
    acks.receive({"op_id": body["op_id"], "status": "rejected", "reason": "card blocked"})
    assert outbox.depth() == 0 and replayer.inflight == {}
    assert [r["reason"] for r in outbox.rejected()] == ["card blocked"]
    assert balances.pending_for("uid:04AA") == 0


def test_partly_applied_op_notes_the_refusal(parts):
    outbox, replayer, balances, acks = parts
    body = op(redeem=[{"reward_id": "coffee", "points": 100}])
    queue(outbox, replayer, balances, body, delta=-95)
    acks.receive({"op_id": body["op_id"], "status": "applied", "reason": "coffee: balance too low"})
    acks.commit()
    assert outbox.depth() == 0 and [r["reason"] for r in outbox.rejected()] == [
        "coffee: balance too low"]


def test_an_ack_for_an_op_no_longer_queued_is_ignored(parts):
    outbox, replayer, balances, acks = parts
    acks.receive({"op_id": str(uuid.uuid4()), "status": "applied", "member_id": "m", "balance": 1})
    acks.commit()
    assert balances.pending == {} and balances.cache == {}
