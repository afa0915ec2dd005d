"""Two workers applying ops for the same members at the same time (each with its own database
connection, as two `ledger serve` processes have): every ack reports a balance that includes
everything committed before it, so for one member the acks' balances are exactly the running
totals, each once; and the journal adds up. On PostgreSQL this needs the member rows locked
(ledger.store.balances_and_tiers and apply's lock_member); SQLite's write lock does it anyway."""

import threading
import uuid

from ledger.batch import apply_batch
from ledger.store import LedgerStore
from program.engine import DefaultProgram

CARDS = ["04CC0001", "04CC0002"]
START = 1000
ROUNDS = 40  # batches per worker
BATCH = 6


def sale(card: str, redeem: bool = False) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card}, "basket_id": "b", "currency": "EUR",
            "total_minor": 1250, "earn": 12, "created_at": "2026-01-01T00:00:00Z",
            "program_version": 1,
            "redeem": [{"reward_id": "coffee", "points": 100}] if redeem else []}


def worker(store: LedgerStore, name: str, results: list, errors: list,
           start: threading.Barrier) -> None:
    program = DefaultProgram()
    try:
        start.wait()
        for r in range(ROUNDS):
            # Mostly plain sales (the fast path); every fifth batch has a redemption too,
            # which goes the careful way (apply_in_savepoint) in the same transaction.
            ops = [sale(CARDS[i % 2], redeem=(r % 5 == 4 and i == 0)) for i in range(BATCH)]
            with store.transaction():
                out = apply_batch(store, lambda _op: program,
                                  [(op, ("s", name, r * BATCH + i)) for i, op in enumerate(ops)])
            results.extend(zip(ops, out, strict=True))
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        store.close()


def test_acks_report_running_balances_with_two_concurrent_workers(ledger_db):
    setup = LedgerStore(ledger_db)
    member_of = {card: setup.add_member(f"M{i}", [card], opening_balance=START)
                 for i, card in enumerate(CARDS)}
    setup.close()

    results: list = []
    errors: list = []
    start = threading.Barrier(2)
    # Opened here, one after the other: yoyo's SQLite schema check uses a shared cache, which
    # two threads of one process cannot use at once (two `ledger serve` processes can).
    stores = [LedgerStore(ledger_db) for _ in range(2)]
    threads = [threading.Thread(target=worker, args=(stores[i], f"w{i}", results, errors, start))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == 2 * ROUNDS * BATCH

    store = LedgerStore(ledger_db)
    try:
        for card, member_id in member_of.items():
            mine = [res for op, res in results if op["token"]["value"] == card]
            assert all(res["status"] == "applied" for res in mine)
            # Walk the member's journal in the order it was written (the workers took turns,
            # holding the member): after each op the running total must be what its ack said.
            # A worker that read a balance before another's commit reports one that is short.
            ack = {res["op_id"]: res for res in mine}
            rows = store.db.execute("SELECT op_id, points FROM journal WHERE member_id = ?"
                                    " ORDER BY entry_id", (member_id,)).fetchall()
            balance, order = 0, []
            for op_id, points in rows:
                if op_id in ack and (not order or order[-1][0] != op_id):
                    order.append([op_id, 0])
                if op_id in ack:
                    order[-1][1] += points
                else:
                    balance += points  # the opening balance's entry
            assert sorted(op_id for op_id, _ in order) == sorted(ack)
            for op_id, points in order:
                balance += points
                assert ack[op_id]["balance"] == balance, (card, ack[op_id], balance)
            assert store.balance(member_id) == balance
    finally:
        store.close()
