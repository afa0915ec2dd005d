"""`ledger serve`: ops and lookups from the broker, applied to the store, answered by MQTT.

Ops are applied on paho's network thread, between passes of its loop (MqttLink ``on_loop``):
what arrived since the last pass is one batch, one transaction (group commit, one fsync for
many ops), one savepoint per op so a failing op undoes only itself, and the acks are published
only after the commit, so an ack always stands for something on disk. One thread doing both
costs a third less CPU per op than handing ops to a writer thread, which made the two threads
trade Python's GIL back and forth (docs/benchmarks.md, ledger section). While a batch is
applied nothing is read: the broker holds the next ops. A second thread answers lookups from
its own read connection, so a replay burst does not hold up a customer at the counter.

Both subscriptions are shared (``$share/ledger/...``): several `ledger serve` processes split
the load on one broker, and a repeated op_id is harmless wherever it lands.

Every op and lookup is checked against ``trust`` (ledger.trust): the token's proof with the
ledger's own keys, and what the kiosk its topic names may do under the kiosk policy.

Each op is priced with the program version it names while that version is within its grace
period (ledger.programs). With a program signing key, the service publishes the active program
retained and signed on ``loyalty/v1/program`` at start and whenever a new version is loaded.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger import acks as ack_bodies
from ledger import reserve
from ledger.ack_out import publish_acks
from ledger.apply import apply_in_savepoint, lookup
from ledger.batch import apply_batch
from ledger.programs import ProgramBook
from ledger.store import LedgerStore
from ledger.trust import Trust
from mqtt import batches, messages, topics
from mqtt.client import Incoming, MqttLink
from program.engine import Program
from program.signing import signed_message

log = logging.getLogger(__name__)

MAX_BATCH = 256
PROGRAM_POLL_S = 2.0  # how soon an idle ledger notices a newly loaded program
DB_RETRY_S = 1.0  # pause before reconnecting after a database error


@dataclass(frozen=True)
class OpIn:
    store: str
    kiosk: str
    op: dict
    batched: bool = False  # came in an op_batch: answered in an ack_batch
    refused: str = ""  # broke the op schema inside a batch: rejected with this reason


@dataclass(frozen=True)
class LookupIn:
    request: dict
    response_topic: str
    correlation: bytes | None
    asker: tuple[str, str]  # the kiosk (store, kiosk) whose topic the request names


@dataclass(frozen=True)
class ReserveIn:
    request: dict
    correlation: bytes | None
    asker: tuple[str, str]  # the kiosk whose topic the request names: its reply topic


class LedgerService:
    def __init__(self, db_path: str, host: str, port: int, worker: str = "main",
                 program: Program | None = None, username: str = "", password: str = "",
                 program_key=None, batches: bool = True, trust: Trust | None = None,
                 account_link: Callable[[str], str] | None = None) -> None:
        self.db_path = db_path
        self.account_link = account_link  # member id -> signed page link; None: no web address
        self.batches = batches  # contract v1.2: read op batches, announce it (False: as v1.0)
        self.trust = trust or Trust()
        self.fixed_program = program  # tests: one program for every op, ignoring the store
        self.program_key = program_key  # Ed25519 private key, or None: publish nothing
        self.book = ProgramBook()
        self.published_version: int | None = None
        self.ops: list[OpIn] = []  # received, not yet applied (network thread only)
        self.lookups: queue.Queue = queue.Queue()
        self.reserves: list[ReserveIn] = []  # applied like ops, on the network thread
        self.reserve_s = reserve.reservations.HOLD_S  # a reservation's life
        self.applied_total = 0
        self.batches_total = 0  # transactions; applied_total / batches_total is the mean batch
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._store: LedgerStore | None = None  # the network thread's writing connection
        self._next_db_try = 0.0  # monotonic time before which a broken database is left alone
        self._next_program_check = 0.0
        self.link = MqttLink(host=host, port=port, client_id=f"ledger-{worker}",
                             username=username, password=password, on_message=self._on_message,
                             reconnect_min=0.2, reconnect_max=5.0, max_inflight=0,
                             on_connect=self._on_connect, on_loop=self._apply_pending)
        self.link.subscribe(topics.shared(topics.ALL_OPS), 1)
        self.link.subscribe(topics.shared(topics.ALL_LOOKUPS), 1)
        self.link.subscribe(topics.shared(topics.LOOKUP), 1)
        self.link.subscribe(topics.shared(topics.ALL_RESERVES), 1)

    # -- paho's thread: validate, queue --------------------------------------------------
    def _on_message(self, msg: Incoming) -> None:
        try:
            self._classify(msg)
        except messages.BadMessage as exc:
            log.warning("bad message on %s: %s", msg.topic, exc)

    def _classify(self, msg: Incoming) -> None:
        if msg.topic == topics.LOOKUP:
            self._legacy_lookup(msg)
            return
        parts = topics.parse_kiosk_topic(msg.topic)
        if parts is None or parts[2] not in ("ops", "lookup", "reserve"):
            raise messages.BadMessage(f"not a topic the ledger reads: {msg.topic!r}")
        store, kiosk, leaf = parts
        if leaf == "ops":
            got = batches.decode_ops(msg.payload, self.batches)
            self.ops.extend(OpIn(store, kiosk, op, got.batched) for op in got.ops)
            for op_id, reason in got.refused:
                log.warning("op %s from %s/%s rejected: %s", op_id, store, kiosk, reason)
                self.ops.append(OpIn(store, kiosk, {"op_id": op_id}, True, reason))
            return
        if leaf == "reserve":
            self._reserve_in(msg, store, kiosk)
            return
        # The ACL lets only this kiosk write its lookup topic: answer on its own reply topic.
        reply_topic = topics.lookup_reply(store, kiosk)
        if msg.response_topic and msg.response_topic != reply_topic:
            raise messages.BadMessage(f"lookup_request from {store}/{kiosk}: response topic "
                                      f"{msg.response_topic!r} is not its own {reply_topic!r}")
        request = messages.decode("lookup_request", msg.payload)
        self.lookups.put(LookupIn(request, reply_topic, msg.correlation, (store, kiosk)))

    def _reserve_in(self, msg: Incoming, store: str, kiosk: str) -> None:
        """A reserve request (v1.1): answered only on this kiosk's own reserve-reply topic."""
        reply_topic = topics.reserve_reply(store, kiosk)
        if msg.response_topic and msg.response_topic != reply_topic:
            raise messages.BadMessage(f"reserve_request from {store}/{kiosk}: response topic "
                                      f"{msg.response_topic!r} is not its own {reply_topic!r}")
        request = messages.decode("reserve_request", msg.payload)
        self.reserves.append(ReserveIn(request, msg.correlation, (store, kiosk)))

    def _legacy_lookup(self, msg: Incoming) -> None:
        """A lookup on the shared topic: who sent it is unknown, so the reply goes only to a
        kiosk's lookup-reply topic, never into its acks, status or config."""
        request = messages.decode("lookup_request", msg.payload)
        parts = topics.parse_kiosk_topic(msg.response_topic or "")
        if parts is None or parts[2] != "lookup-reply":
            raise messages.BadMessage(f"lookup_request: no valid response topic to answer on "
                                      f"({msg.response_topic!r} is not a kiosk's lookup-reply)")
        # Only that kiosk reads the reply, so it is answered as that kiosk would be.
        self.lookups.put(LookupIn(request, msg.response_topic, msg.correlation, parts[:2]))

    # -- life cycle ------------------------------------------------------------------------
    @property
    def program(self) -> Program:
        return self.fixed_program or self.book.active

    def start(self, timeout: float = 15.0) -> bool:
        """Start the threads and connect; True once connected."""
        messages.prepare("op", "ack", "lookup_request", "lookup_reply", "op_batch",
                         "reserve_request", "reserve_reply")
        # Opening checks the schema (SQLite: brings it up to date) before any thread runs.
        self._refresh_programs(LedgerStore(self.db_path), close=True)
        thread = threading.Thread(target=self._lookup_loop, name="ledger-lookup", daemon=True)
        thread.start()
        self._threads.append(thread)
        self.link.start()
        return self.link.wait_connected(timeout)

    def stop(self) -> None:
        """Stop; ops received and not yet applied are not acked (their kiosks send them again)."""
        self._stop.set()
        self.lookups.put(None)
        for thread in self._threads:
            thread.join(10)
        self.link.stop()
        self._store = _close(self._store)

    # -- network thread, between loop passes: apply -------------------------------------------
    def _apply_pending(self) -> None:
        """Apply what arrived since the last pass, in batches; when idle, look for a new
        program now and then."""
        now = time.monotonic()
        if now < self._next_db_try or self._stop.is_set():
            return
        if not self.ops and not self.reserves and now < self._next_program_check:
            return
        try:
            self._store = self._store or LedgerStore(self.db_path)
            if not self.ops:
                self._next_program_check = now + PROGRAM_POLL_S
                self._refresh_programs(self._store)  # quiet: still pick up a `program load`
            while self.ops:
                batch, self.ops = self.ops[:MAX_BATCH], self.ops[MAX_BATCH:]
                self._apply_batch(self._store, batch)
            self._answer_reserves(self._store)
        except Exception as exc:  # noqa: BLE001 - the database went away: reconnect later
            # What was not committed is not acked; each kiosk resends its ops.
            log.error("database error (%s); ops not acked, reconnecting in %.0f s: %s",
                      type(exc).__name__, DB_RETRY_S, str(exc).strip()[:300])
            self.ops, self.reserves = [], []  # an unanswered kiosk tells its customer to retry
            self._store = _close(self._store)
            self._next_db_try = time.monotonic() + DB_RETRY_S

    def _apply_batch(self, store: LedgerStore, batch: list[OpIn]) -> None:
        self._refresh_programs(store)
        todo = [item for item in batch if not item.refused]
        items = [(item.op, (item.store, item.kiosk, item.op["kiosk_seq"])) for item in todo]
        try:
            with store.transaction():
                results = apply_batch(store, self._program_for, items, self.trust)
        except Exception as exc:  # noqa: BLE001 - e.g. another worker wrote one of these op_ids
            log.info("batch of %d undone (%s: %s); applying its ops one by one", len(todo),
                     type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
            with store.transaction(pipeline=True):
                results = [self._apply_one(store, item) for item in todo]
        applied = iter(results)  # one per op of ``todo``, in order
        acks = [(item, ack_bodies.rejected(item.op["op_id"], item.refused) if item.refused
                 else next(applied)) for item in batch]
        acks = [(item, result) for item, result in acks if result is not None]
        self.applied_total += len(acks)
        self.batches_total += 1
        # After COMMIT: an ack always stands for a durable result.
        publish_acks(self.link.publish,
                     ((item.store, item.kiosk, item.batched, result) for item, result in acks))

    def _answer_reserves(self, store: LedgerStore) -> None:
        """Each reserve request in its own transaction, answered after its commit."""
        while self.reserves:
            item = self.reserves.pop(0)
            with store.transaction():
                body = reserve.answer(store, self.program, item.request, item.asker,
                                      self.trust, hold_s=self.reserve_s)
            if body is not None:
                self.link.publish(topics.reserve_reply(*item.asker),
                                  messages.encode("reserve_reply", body), 1,
                                  correlation=item.correlation, response_topic=None)

    def _program_for(self, op: dict) -> Program:
        return self.fixed_program or self.book.for_op(op)

    def _apply_one(self, store: LedgerStore, item: OpIn) -> dict | None:
        origin = (item.store, item.kiosk, item.op["kiosk_seq"])
        try:
            return apply_in_savepoint(store, self._program_for(item.op), item.op, origin,
                                      trust=self.trust)
        except Exception:  # noqa: BLE001 - one bad op must not sink the batch
            log.exception("op %s from %s/%s failed; not acked, the kiosk will resend",
                          item.op["op_id"], item.store, item.kiosk)
            return None

    # -- programs ------------------------------------------------------------------------------
    def _refresh_programs(self, store: LedgerStore, close: bool = False) -> None:
        """Pick up a version loaded by `ledger program load` since the last batch."""
        try:
            if store.latest_program_version() != self.book.latest_stored:
                self.book = ProgramBook.load(store)
                log.info("program version %s active", self.book.active.version)
                self._publish_program()
        finally:
            if close:
                store.close()

    def _on_connect(self, _session_present: bool) -> None:
        self.published_version = None  # a broker without persistence forgets retained messages
        self._publish_program()
        if self.batches:  # retained: a kiosk that connects later learns it at once
            self.link.publish(topics.CAPABILITIES, batches.capabilities(), 1, retain=True)

    def _publish_program(self) -> None:
        version = self.book.version
        if self.program_key is None or version is None or version == self.published_version:
            return
        if not self.link.connected.is_set():
            return  # _on_connect publishes it
        payload = signed_message(self.book.bodies[version], self.program_key)
        if self.link.publish(topics.PROGRAM, payload, 1, retain=True):
            self.published_version = version
            log.info("published program version %s (retained, signed)", version)

    # -- lookup thread ---------------------------------------------------------------------------
    def _lookup_loop(self) -> None:
        store = None
        try:
            while not self._stop.is_set():
                for item in _take(self.lookups):
                    try:
                        store = store or LedgerStore(self.db_path, readonly=True)
                        payload = lookup_reply(store, self.program, item.request,
                                               item.asker, self.trust, self.account_link)
                    except Exception:  # noqa: BLE001 - the kiosk falls back to its cache
                        log.exception("lookup failed; reconnecting to the database")
                        store = _close(store)
                        continue
                    self.link.publish(item.response_topic, payload, 1,
                                      correlation=item.correlation, response_topic=None)
        finally:
            _close(store)


def lookup_reply(store: LedgerStore, program: Program, request: dict,
                 asker: tuple[str, str] | None = None, trust: Trust | None = None,
                 account_link: Callable[[str], str] | None = None) -> bytes:
    """The reply to one lookup, as published (``asker``: the kiosk asking; None: `ledger
    lookup`, an operator, which prints the same bytes). A kiosk that asks for it (contract
    v1.3 ``ask_link``) gets the found member's ``account_link`` when ``account_link`` makes one."""
    body = lookup(store, program, request, asker, trust or Trust())
    if account_link and request.get("ask_link") and body["found"] and asker is not None:
        body["account_link"] = account_link(body["member"]["id"])
    return messages.encode("lookup_reply", body)


def _close(store: LedgerStore | None) -> None:
    """Close a store that may be broken already; returns None for ``store = _close(store)``."""
    if store is not None:
        try:
            store.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            log.debug("closing the database failed", exc_info=True)


def _take(q: queue.Queue, limit: int = MAX_BATCH, timeout: float | None = None) -> list:
    """Block for one item (up to ``timeout``), then take what else is already waiting (None
    means stop; [] on stop or timeout)."""
    try:
        first = q.get(timeout=timeout)
    except queue.Empty:
        return []
    if first is None:
        return []
    batch = [first]
    while len(batch) < limit:
        try:
            item = q.get_nowait()
        except queue.Empty:
            break
        if item is None:
            q.put(None)
            break
        batch.append(item)
    return batch
