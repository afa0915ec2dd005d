"""A ledger process killed (SIGKILL) mid-apply leaves exactly one points event per applied op and
none for an op it did not apply; the ops sent again after the restart (as kiosks resend what was
not acked) are applied once, and the repeats emit nothing. On SQLite and PostgreSQL.

The child applies the ops the way `ledger serve` does, in group-commit batches (ledger.batch)
mixing plain sales, redemptions and enrolments, without MQTT in between: the kill must land
inside the apply, and MQTT would only make where it lands a matter of luck."""

import json
import signal
import subprocess
import sys
import time
import uuid

from ledger.store import LedgerStore
from tests.test_ledger_events_emitted import sale

N = 3000
BATCH = 32
CARDS = [f"04DD{i:04X}" for i in range(20)]

CHILD = f"""
import json, sys
from ledger.batch import apply_batch
from ledger.store import LedgerStore
from program.engine import DefaultProgram
store, program = LedgerStore(sys.argv[1]), DefaultProgram()
ops = json.load(open(sys.argv[2]))
for i in range(0, len(ops), {BATCH}):
    with store.transaction():
        apply_batch(store, lambda _op: program,
                    [(op, ("store-1", "kiosk-1", i + k)) for k, op in enumerate(ops[i:i + {BATCH}])])
print("done", flush=True)
"""


def make_ops() -> list[dict]:
    ops = []
    for i in range(N):
        if i % 50 == 7:  # a new card joining at the kiosk
            ops.append(sale("04EE" + uuid.uuid4().hex[:8].upper(), enrol=True))
        else:
            ops.append(sale(CARDS[i % len(CARDS)], redeem=["coffee"] if i % 9 == 0 else ()))
    return ops


def count(db: str, sql: str) -> int:
    store = LedgerStore(db, readonly=True)
    try:
        return store.db.execute(sql).fetchone()[0]
    except Exception:  # noqa: BLE001 - the schema may not be there yet at the very start
        return 0
    finally:
        store.close()


def check(db: str) -> dict:
    """Per applied op: how many events of each points type; and events for unknown ops."""
    store = LedgerStore(db, readonly=True)
    try:
        acks = {op_id: json.loads(result) for op_id, result in
                store.db.execute("SELECT op_id, result FROM ops").fetchall()}
        got: dict[tuple[str, str], int] = {}
        for type_, data in store.db.execute("SELECT type, data FROM events").fetchall():
            op_id = json.loads(data).get("op_id")
            if op_id is not None:
                got[(type_, op_id)] = got.get((type_, op_id), 0) + 1
    finally:
        store.close()
    for op_id, ack in acks.items():
        assert got.pop(("points.earned", op_id), 0) == (1 if ack.get("earned") else 0), ack
        assert got.pop(("points.redeemed", op_id), 0) == (1 if ack.get("redeemed") else 0), ack
        got.pop(("member.created", op_id), None)
    assert got == {}, f"events for ops that were not applied: {list(got)[:5]}"
    return acks


def test_kill_9_mid_apply_leaves_one_event_per_applied_op(ledger_db, tmp_path):
    setup = LedgerStore(ledger_db)
    for i, card in enumerate(CARDS):
        setup.add_member(f"M{i}", [card], opening_balance=500)
    setup.close()
    ops = make_ops()
    path = tmp_path / "ops.json"
    path.write_text(json.dumps(ops))
    cmd = [sys.executable, "-c", CHILD, ledger_db, str(path)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while count(ledger_db, "SELECT COUNT(*) FROM ops") < N // 5 and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read()
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    applied = check(ledger_db)
    assert N // 5 <= len(applied) < N, f"the kill did not land mid-apply ({len(applied)} ops)"

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "done" in again.stdout, again.stderr[-2000:]
    acks = check(ledger_db)
    assert sorted(acks) == sorted(op["op_id"] for op in ops)
    assert all(ack["status"] == "applied" for ack in acks.values())
    redeemed = sum(1 for ack in acks.values() if ack.get("redeemed"))
    assert redeemed > 0 and count(ledger_db, "SELECT COUNT(*) FROM events WHERE"
                                  " type = 'points.redeemed'") == redeemed
    assert count(ledger_db, "SELECT COUNT(*) FROM events WHERE type = 'member.created'") == \
        len(CARDS) + sum(1 for op in ops if op.get("enrol"))
