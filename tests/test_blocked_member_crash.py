"""A blocked member's queued ops, replayed by a real kiosk into `ledger serve` on a real broker,
with the ledger killed (-9) mid-apply: every op is still applied or rejected exactly once. The
ops sold offline before the block earn, those after it are rejected ("member blocked") and kept
by the kiosk; the balance is the opening balance plus the earlier ops, on SQLite and PostgreSQL."""

import datetime as dt

from kiosk.outbox import Outbox
from ledger.store import LedgerStore
from simulation.scenario import LedgerProcess, wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config
from tests.test_ledger_service import CARD, op

N = 1200  # ops: the even ones sold before the block, the odd ones after it
BEFORE = "2026-01-05T09:00:00.000+00:00"


def prefill(path, after: str) -> None:
    box = Outbox(path)
    box.add_many([({**op(seq=i + 1, total=100), "created_at": BEFORE if i % 2 == 0 else after,
                    "clock_synced": True}, f"card:{CARD}", 1) for i in range(N)])
    box.close()


def rejected(path) -> list[dict]:
    box = Outbox(path)
    try:
        return box.rejected()
    finally:
        box.close()


def test_ledger_killed_mid_apply_of_a_blocked_members_ops_applies_each_once(broker, tmp_path,
                                                                           ledger_db):
    cfg = sim_config(broker.port, tmp_path, outbox={"inflight": 16, "retry_seconds": 2.0})
    led = LedgerProcess(ledger_db, broker, tmp_path / "ledger.log")
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada", "--balance", "7")
    led.cli("members", "block", "ada", "--reason", "card reported stolen")
    after = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    prefill(cfg["outbox"]["path"], after)
    led.start()
    reader = LedgerStore(ledger_db)
    kiosk = SimulatedKiosk(cfg).start()
    try:
        assert wait_for(lambda: reader.op_count() >= 100, 30)
        led.kill()  # kill -9 while ops are being applied and acked
        assert reader.op_count() < N, "the replay finished before the kill: the test proved nothing"
        led.start()
        assert wait_for(lambda: kiosk.outbox_depth() == 0, 120), kiosk.outbox_depth()
    finally:
        kiosk.stop()
        led.stop()
    statuses = reader.db.execute("SELECT status, COUNT(*) FROM ops GROUP BY status").fetchall()
    assert dict(statuses) == {"applied": N // 2, "rejected": N // 2}
    history = [e for e in reader.history("ada") if e["op_id"]]
    assert len(history) == N // 2 and len({e["op_id"] for e in history}) == N // 2
    assert reader.balance("ada") == 7 + N // 2
    kept = rejected(cfg["outbox"]["path"])
    assert len(kept) == N // 2 and {r["op"]["created_at"] for r in kept} == {after}
    assert all(r["reason"].startswith("member_blocked: member blocked") for r in kept)
    reader.close()
