"""Records one real message of each kind in contract v1, as the programs build them, for the
examples of the AsyncAPI documents (mqtt/examples.json, read by mqtt.asyncapi).

A sale with a redemption runs on the scenario world (store broker bridged to the central broker,
`ledger serve` with a program key, a simulated kiosk, the POS simulator) while a client on the
store broker keeps what crosses it. The signed config update is made by codes.config_update, as
`ledger config-update` makes it.

    .venv/bin/python -m simulation.contract_examples > mqtt/examples.json
    .venv/bin/python -m mqtt.asyncapi --write docs
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path

from mqtt import topics
from mqtt.client import MqttLink
from simulation.scenario import Runner, ScenarioFailed, World, wait_for

PROGRAM = Path(__file__).parent.parent / "docs" / "examples" / "program.toml"
SALE = """
member Ada card=04A1B2C3D4E5F6 balance=240
open coffee:2:350:drinks cake:1:420:food
tap 04A1B2C3D4E5F6
expect screen "240 pts"
hold select
expect screen "Your account"
press cancel
expect screen "240 pts"
press next
press select
expect screen "Reward applied"
total
pay
expect screen "Points added"
expect outbox 0
network down
open tea:1:300:drinks
tap 04A1B2C3D4E5F6
expect screen Ada
pay
open cake:2:420:food
tap 04A1B2C3D4E5F6
expect screen Ada
pay
network up
expect outbox 0 within 30
open tea:1:300:drinks
tap 04DEADBEEF0999
expect screen "join"
pay
expect outbox 0
""".splitlines()
# The two sales made offline are replayed together: an op_batch, answered by an ack_batch.
# "Points added" first: the op is on disk, so "outbox 0" then means acked, not yet written.

# topic leaf -> schema name
LEAVES = {
    "basket": "basket",
    "member": "member",
    "redemption": "redemption",
    "notice": "notice",
    "ops": "op",
    "acks": "ack",
    "lookup": "lookup_request",
    "lookup-reply": "lookup_reply",
    "reserve": "reserve_request",
    "reserve-reply": "reserve_reply",
    "status": "status",
    "program": "program",
    "uplink": "uplink",
    "refund": "refund",
    "capabilities": "capabilities",
}
BATCHES = {"ops": "op_batch", "acks": "ack_batch"}  # a batch's key -> its schema (v1.2)


class Recorder:
    """Every message on the store broker, by schema name, in arrival order."""

    def __init__(self, broker) -> None:
        self.seen: dict[str, list] = {}
        self._lock = threading.Lock()
        self.link = MqttLink(
            host=broker.host,
            port=broker.port,
            client_id="examples-recorder",
            clean_start=True,
            on_message=self._on,
        )
        self.link.subscribe(f"{topics.ROOT}/#", 1)

    def _on(self, msg) -> None:
        name = LEAVES.get(msg.topic.rsplit("/", 1)[-1])
        if name is None or not msg.payload:
            return
        text = msg.payload.decode("utf-8")
        body = text if name == "uplink" else json.loads(text)
        name = next((BATCHES[k] for k in BATCHES if isinstance(body, dict) and k in body), name)
        with self._lock:
            self.seen.setdefault(name, []).append(body)

    def pick(self) -> dict:
        """The most telling message of each kind: the member as the ledger first confirmed it, the
        status of a running kiosk (not its last will), a sale's op and its ack (a refund's may
        arrive first), the first of the others."""
        with self._lock:
            seen = {k: list(v) for k, v in self.seen.items()}
        chosen = {name: bodies[0] for name, bodies in seen.items()}
        chosen["member"] = next(
            (m for m in seen.get("member", []) if not m.get("balance_is_cached")),
            chosen.get("member"),
        )
        chosen["status"] = next(
            (s for s in seen.get("status", []) if s["state"] == "online"), chosen.get("status")
        )
        # the sale may have travelled inside a batch: look in them too
        ops = seen.get("op", []) + [o for b in seen.get("op_batch", []) for o in b["ops"]]
        acks = seen.get("ack", []) + [a for b in seen.get("ack_batch", []) for a in b["acks"]]
        sales = [o for o in ops if o.get("kind") == "sale" and o.get("redeem")]
        chosen["op"] = sales[0] if sales else chosen.get("op")
        sale_ids = {o["op_id"] for o in sales}
        chosen["ack"] = next((a for a in acks if a["op_id"] in sale_ids), chosen.get("ack"))
        # the replay of the two offline sales (a slow ack can put the first sale in one too)
        chosen["op_batch"] = next((b for b in seen.get("op_batch", [])
                                   if all(o.get("offline") for o in b["ops"])),
                                  chosen.get("op_batch"))
        # v1.3: the lookup that asked for the member's page link, and its answer
        for name, field in (("lookup_request", "ask_link"), ("lookup_reply", "account_link")):
            chosen[name] = next((m for m in seen.get(name, []) if field in m), chosen.get(name))
        return {k: v for k, v in chosen.items() if v is not None}


def _refund_the_cake(recorder: Recorder) -> None:
    """A POS refund of one line of the paid sale (contract v1.1); the kiosk's notice follows."""
    if not wait_for(lambda: "basket" in recorder.pick(), 10):
        raise ScenarioFailed("no basket message seen")
    with recorder._lock:  # the first sale: the one with a member
        basket = next(b for b in recorder.seen["basket"] if b["status"] == "paid")
    refund = {"v": 1, "refund_id": "r-" + basket["basket_id"][2:] + "-1",
              "basket_id": basket["basket_id"], "lines": [{"sku": "cake", "qty": 1}],
              "reason": "returned"}
    topic = topics.refund("store-1", "lane-1")
    if not recorder.link.publish(topic, json.dumps(refund).encode(), 1):
        raise ScenarioFailed("refund not published")


def _reserve_a_reward(recorder: Recorder) -> None:
    """A kiosk's reserve request (contract v1.1), as kiosk.reserving sends it; the ledger's
    reply follows. Sent from here: the example program has no limited reward for the kiosk to
    choose, and the ledger holds any reward it offers the member."""
    body = {"v": 1, "action": "reserve", "reward_id": "coffee", "basket_id": "b-example",
            "token": {"kind": "uid", "value": "04A1B2C3D4E5F6", "verified": False}}
    sent = recorder.link.publish(topics.reserve("store-1", "kiosk-1"), json.dumps(body).encode(),
                                 1, response_topic=topics.reserve_reply("store-1", "kiosk-1"),
                                 correlation=b"example")
    if not sent:
        raise ScenarioFailed("reserve request not published")


def config_update_example() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from codes.config_update import sign_update

    return sign_update(
        Ed25519PrivateKey.generate(), "store-1", "kiosk-1", 7, {"lookup": {"timeout_ms": 800}}
    )


def _program_key(workdir: Path) -> Path:
    from codes.keys import new_private_pem

    path = workdir / "program.pem"
    path.write_bytes(new_private_pem()[0])
    return path


def _link_key(workdir: Path) -> Path:
    from ledger import member_links

    path = workdir / "links.key"
    member_links.create(path)
    return path


def record(workdir: Path) -> dict:
    """Schema name -> one real message (a dict, or the text of a text/plain message)."""
    os.environ["LEDGER_PROGRAM_KEY"] = str(_program_key(workdir))  # the ledger publishes program
    os.environ["LEDGER_WEB_URL"] = "https://loyalty.example"  # lookups may ask for a page link
    os.environ["LEDGER_LINK_KEY"] = str(_link_key(workdir))
    world = World(workdir)
    try:
        world.start_brokers()
        recorder = Recorder(world.store_broker)
        recorder.link.start()
        world.ledger.cli("program", "load", str(PROGRAM))  # what the ledger publishes, signed
        world.ledger.start()
        world.start_kiosk()
        world.start_pos()
        Runner(world).run(SALE, "contract-examples")
        _refund_the_cake(recorder)
        _reserve_a_reward(recorder)
        wanted = set(LEAVES.values()) | set(BATCHES.values())
        if not wait_for(lambda: len(recorder.pick()) >= len(wanted), 10):
            missing = sorted(wanted - set(recorder.pick()))
            raise ScenarioFailed(f"no {', '.join(missing)} message seen")
        recorder.link.stop()
    finally:
        for name in ("LEDGER_PROGRAM_KEY", "LEDGER_WEB_URL", "LEDGER_LINK_KEY"):
            os.environ.pop(name, None)
        world.stop()
    return {**dict(sorted(recorder.pick().items())), "config": config_update_example()}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="contract-examples-") as tmp:
        try:
            examples = record(Path(tmp))
        except ScenarioFailed as exc:
            print(f"contract examples: {exc}", file=sys.stderr)
            return 1
    json.dump(examples, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
