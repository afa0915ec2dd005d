"""Someone holds one kiosk's broker password (kiosk-7 of store-2) and attacks a real `ledger
serve` through the broker `ledger broker-config` makes (TLS, passwords, ACL, kiosk policy).
Every attack is refused, nothing changes in the journal, and the ledger keeps serving: a
legitimate sale from a kiosk of store-1 still applies after each one."""

import json
import sqlite3
import subprocess
import sys
import time
import tomllib
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from codes import member_qr
from codes.keys import public_text
from codes.sun import SunKeys, make_sun_url, sun_proof
from ledger.store import LedgerStore
from mqtt import topics
from simulation.local_broker import free_port, mosquitto_binary
from simulation.scenario import wait_for
from tests.test_broker_config import Client

THIEF, GOOD = "kiosk.store-2.kiosk-7", "kiosk.store-1.kiosk-1"
SUN = SunKeys(bytes(range(16)), bytes(range(16, 32)))
UID = bytes.fromhex("04C1D2E3F40506")
QR_KEY = Ed25519PrivateKey.generate()
KIOSKS = """# store-1 kiosk-1 may redeem 100 points an op
store-1/lane-1/kiosk-1 redeem_per_op=100
store-2/lane-1/kiosk-7
"""


def run(*args):
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    d = tmp_path_factory.mktemp("attacker")
    (d / "kiosks.txt").write_text(KIOSKS)
    tls, local = free_port(), free_port()
    out = run("broker-config", "--out", str(d), "--kiosks", str(d / "kiosks.txt"), "--tls-port",
              str(tls), "--local-port", str(local), "--persistence-dir", str(d), "--run-as", "root")
    assert out.returncode == 0, out.stderr
    pw = {u: v["password"] for u, v in
          tomllib.loads((d / "credentials.toml").read_text())["accounts"].items()}
    db = d / "ledger.db"
    LedgerStore(db).add_member("Ada", [UID.hex()], "ada", opening_balance=777, home_store="store-1")
    (d / "keys.toml").write_text(f'[sun]\nmeta_key = "{SUN.meta_read.hex()}"\n'
                                 f'file_key = "{SUN.file_read.hex()}"\n'
                                 f'[qr]\nkeys = ["{public_text(QR_KEY)}"]\n')
    broker_log, ledger_log = open(d / "mosquitto.log", "wb"), open(d / "ledger.log", "wb")
    broker = subprocess.Popen([mosquitto_binary(), "-c", str(d / "mosquitto.conf")],
                              stdout=broker_log, stderr=subprocess.STDOUT)
    ledger = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", str(local), "--username", "ledger", "--password", pw["ledger"],
         "--proof-keys", str(d / "keys.toml"), "--kiosk-policy", str(d / "kiosk-policy.toml")],
        stdout=ledger_log, stderr=subprocess.STDOUT)
    assert wait_for(lambda: b"ledger ready" in (d / "ledger.log").read_bytes(), 30), \
        (d / "ledger.log").read_text()
    yield {"dir": d, "tls": tls, "pw": pw, "db": db, "ledger": ledger}
    for proc in (ledger, broker):
        proc.terminate()
        proc.wait(10)
    broker_log.close()
    ledger_log.close()


@pytest.fixture(scope="module")
def kiosks(fleet):
    ca = fleet["dir"] / "ca.crt"
    made = {}
    for user, (store, kiosk) in ((THIEF, ("store-2", "kiosk-7")), (GOOD, ("store-1", "kiosk-1"))):
        c = Client(fleet["tls"], user, fleet["pw"][user], ca=ca).connect()
        assert c.accepted, c.connack
        c.c.subscribe([(topics.acks(store, kiosk), 1), (topics.lookup_reply(store, kiosk), 1)])
        assert wait_for(lambda c=c: c.subacks, 5)
        made[kiosk] = c
    yield made
    for c in made.values():
        c.close()


def journal(fleet) -> list[tuple]:
    with sqlite3.connect(f"file:{fleet['db']}?mode=ro", uri=True) as db:
        return db.execute("SELECT member_id, kind, points FROM journal ORDER BY entry_id").fetchall()


def sale(token, redeem=()):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale", "token": token,
            "basket_id": "b-1", "currency": "EUR", "total_minor": 1000,
            "redeem": [{"reward_id": r, "points": 100} for r in redeem], "created_at": "x",
            "program_version": 1}


def send(client, store, kiosk, op) -> dict:
    """Publish ``op`` as that kiosk; its ack."""
    client.c.publish(topics.ops(store, kiosk), json.dumps(op).encode(), qos=1).wait_for_publish(5)
    acks = topics.acks(store, kiosk)

    def ack():
        return next((json.loads(p) for t, p in client.messages
                     if t == acks and json.loads(p)["op_id"] == op["op_id"]), None)
    assert wait_for(ack, 10), f"no ack for {op['op_id']}"
    return ack()


def steal(kiosks, op) -> dict:
    return send(kiosks["kiosk-7"], "store-2", "kiosk-7", op)


def ask(client, store, kiosk, body, correlation, response_topic=None) -> dict | None:
    import paho.mqtt.client as paho
    from paho.mqtt.packettypes import PacketTypes

    props = paho.Properties(PacketTypes.PUBLISH)
    props.CorrelationData = correlation
    if response_topic:
        props.ResponseTopic = response_topic
    client.c.publish(topics.lookup(store, kiosk), json.dumps(body).encode(), qos=1,
                     properties=props).wait_for_publish(5)
    replies = topics.lookup_reply(store, kiosk)
    time.sleep(1.5)  # absence is the point for some: wait the whole time
    got = [json.loads(p) for t, p in client.messages if t == replies]
    return got[-1] if got else None


@pytest.fixture
def unchanged(fleet, kiosks):
    """The journal is the same after the attack, and a real sale from store-1 still applies."""
    before = journal(fleet)
    yield
    assert journal(fleet) == before
    good = sale({"kind": "uid", "value": UID.hex().upper()})
    assert send(kiosks["kiosk-1"], "store-1", "kiosk-1", good)["status"] == "applied"
    assert fleet["ledger"].poll() is None


def test_a_forged_qr_token_spends_nothing(kiosks, unchanged):
    ack = steal(kiosks, sale({"kind": "qr", "value": "ada", "verified": True}, ["coffee"]))
    assert ack["status"] == "rejected" and ack["reason"].startswith("unverified_token")


def test_a_signed_code_of_another_stores_member_spends_nothing(kiosks, unchanged):
    code = member_qr.app_code(QR_KEY, "loyalty", "ada")
    token = {"kind": "qr", "value": "ada", "verified": True, "proof": {"code": code}}
    ack = steal(kiosks, sale(token, ["coffee"]))
    assert ack["status"] == "rejected" and ack["reason"].startswith("member_elsewhere")


def test_a_replayed_sun_message_spends_nothing(fleet, kiosks):
    proof = sun_proof(make_sun_url("https://l.example/t", SUN, UID, 41))
    token = {"kind": "sun", "value": UID.hex().upper(), "verified": True, "proof": proof}
    assert send(kiosks["kiosk-1"], "store-1", "kiosk-1", sale(token))["status"] == "applied"
    before = journal(fleet)
    ack = steal(kiosks, sale(token, ["coffee"]))
    assert ack["status"] == "rejected" and ack["reason"].startswith("sun_replay")
    assert journal(fleet) == before


def test_a_kiosk_redeems_no_more_than_its_limit(fleet, kiosks):
    code = member_qr.card_code(QR_KEY, "loyalty", "ada")
    token = {"kind": "qr", "value": "ada", "proof": {"code": code}}
    ack = send(kiosks["kiosk-1"], "store-1", "kiosk-1", sale(token, ["coffee", "coffee"]))
    assert ack["redeemed"] == 100 and "limit of 100 points per op" in ack["reason"]


def test_no_member_is_read_by_id_or_by_another_stores_card(kiosks, unchanged):
    thief = kiosks["kiosk-7"]
    by_id = ask(thief, "store-2", "kiosk-7", {"v": 1, "member_id": "ada"}, b"id")
    assert by_id["found"] is False and "member id alone" in by_id["reason"]
    card = {"v": 1, "token": {"kind": "uid", "value": UID.hex().upper(), "verified": True}}
    by_card = ask(thief, "store-2", "kiosk-7", card, b"card")
    assert by_card == {"v": 1, "found": False, "program_version": by_card["program_version"]}
    assert not any(b"Ada" in p for _, p in thief.messages)


def test_a_reply_cannot_be_redirected(kiosks, unchanged):
    thief, victim = kiosks["kiosk-7"], kiosks["kiosk-1"]
    seen = len(victim.messages)
    code = member_qr.app_code(QR_KEY, "loyalty", "ada")
    body = {"v": 1, "token": {"kind": "qr", "value": "ada", "proof": {"code": code}}}
    ask(thief, "store-2", "kiosk-7", body, b"redirect",
        response_topic=topics.lookup_reply("store-1", "kiosk-1"))
    assert victim.messages[seen:] == []


def fresh_thief(fleet, client_id=None):
    c = Client(fleet["tls"], THIEF, fleet["pw"][THIEF], ca=fleet["dir"] / "ca.crt",
               client_id=client_id).connect()
    assert c.accepted, c.connack
    return c


def test_oversized_and_over_limit_payloads_change_nothing(fleet, kiosks, unchanged):
    thief = kiosks["kiosk-7"]
    ops = topics.ops("store-2", "kiosk-7")
    over = sale({"kind": "uid", "value": UID.hex().upper()})
    over["kiosk_seq"] = 2**63
    many = sale({"kind": "uid", "value": UID.hex().upper()})
    many["items"] = [{"sku": "x", "qty": 1, "unit_minor": 1}] * 501
    proof = sale({"kind": "qr", "value": "ada", "proof": {"code": "x" * 513}})
    for op in (over, many, proof):
        thief.c.publish(ops, json.dumps(op).encode(), qos=1).wait_for_publish(5)
    time.sleep(1.0)
    ids = {over["op_id"], many["op_id"], proof["op_id"]}
    assert not any(json.loads(p).get("op_id") in ids for _, p in thief.messages)
    # Past the broker's max_packet_size: the broker drops that connection, nothing reaches
    # the ledger.
    big = fresh_thief(fleet, client_id="big")
    try:
        big.c.publish(ops, b"x" * 300_000, qos=1)
        assert wait_for(lambda: big.disconnects, 10)
    finally:
        big.close()


def test_the_ledgers_and_another_kiosks_client_ids_cannot_be_taken(fleet, kiosks, unchanged):
    """Last: the broker makes a thief's client id its username, so this replaces the thief's
    own connection (and only that)."""
    for client_id in ("ledger-main", GOOD):
        fresh_thief(fleet, client_id).close()
    assert kiosks["kiosk-1"].disconnects == []
