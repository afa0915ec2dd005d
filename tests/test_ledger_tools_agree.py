"""The ledger's tools tell what the service does: `ledger lookup` prints the reply `ledger serve`
publishes, and `ledger program show` prints every rule the loaded program holds."""

import json
import subprocess
import sys
from pathlib import Path

from mqtt import messages, topics
from mqtt.client import MqttLink
from simulation.scenario import LedgerProcess

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "program.toml"
CARD = "04A1B2C3D4E5F6"


def ledger(*args):
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli", *args], capture_output=True, text=True, timeout=60
    )


def served_lookup(broker, request: dict) -> dict:
    """Ask the running `ledger serve` as a kiosk does (MQTT 5 request/response)."""
    import queue

    replies: queue.Queue = queue.Queue()
    reply_topic = topics.lookup_reply("store-1", "kiosk-1")
    link = MqttLink(
        host=broker.host,
        port=broker.port,
        client_id="test-kiosk",
        clean_start=True,
        on_message=replies.put,
    )
    link.subscribe(reply_topic, 1)
    link.start()
    try:
        assert link.subscribed.wait(10)
        assert link.publish(
            topics.LOOKUP,
            messages.encode("lookup_request", request),
            response_topic=reply_topic,
            correlation=b"c-1",
        )
        return messages.decode("lookup_reply", replies.get(timeout=15).payload)
    finally:
        link.stop()


def test_lookup_command_prints_what_the_service_answers(broker, tmp_path):
    db = tmp_path / "ledger.db"
    led = LedgerProcess(db, broker, tmp_path / "ledger.log")
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada", "--balance", "90")
    led.cli("program", "load", str(EXAMPLE))
    led.start()
    try:
        served = served_lookup(broker, {"v": 1, "token": {"kind": "uid", "value": CARD}})
    finally:
        led.stop()
    out = ledger("lookup", "uid", CARD, "--db", str(db))
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed == served
    # The loaded program's answer, not the default program's one reward.
    assert printed["program_version"] == 2
    assert [(r["reward_id"], r["affordable"]) for r in printed["rewards"]] == [
        ("coffee", False),
        ("pastry", True),
    ]  # gold-10 is for gold members only


def test_lookup_of_an_unknown_card_exits_1_with_the_program_version(tmp_path):
    db = str(tmp_path / "ledger.db")
    assert ledger("program", "load", str(EXAMPLE), "--db", db).returncode == 0
    out = ledger("lookup", "uid", "04FFFFFFFFFFFF", "--db", db)
    assert out.returncode == 1
    assert json.loads(out.stdout) == {"v": 1, "found": False, "program_version": 2}


# Every rule kind of docs/program.md, none at its default, and the words `program show` must
# print for it.
EVERY_RULE = {
    "version": 3,
    "segments": [{"id": "lapsed", "all": [{"last_purchase_days": {"min": 30}}]}],
    "automations": {"birthday": {"days_ahead": 3}, "win_back": {"enabled": False}},
    "name": "All Rules",
    "currency": "EUR",
    "minor_per_unit": 1000,
    "timezone": "Europe/Berlin",
    "grace_hours": 12,
    "allow_unverified_uid": False,
    "unknown_token": "reject",
    "overdraft_points": 40,
    "point_value_minor": 0.5,
    "tier_window_days": 180,
    "tier_hold_days": 60,
    "tier_review": "02-01",
    "tier_grace_days": 14,
    "earning": {
        "points_per_unit": 1.5,
        "rounding": "nearest",
        "min_spend_minor": 250,
        "max_points_per_basket": 150,
        "max_points_per_day": 400,
        "enrolment_bonus": 20,
        "first_visit_bonus": 15,
        "expire_after_days": 365,
        "categories": {"coffee": 2},
        "skus": {"beans": 3},
    },
    "tiers": [{"id": "gold", "name": "Gold", "min_points": 900, "multiplier": 1.5}],
    "rewards": [
        {
            "id": "mug",
            "name": "Mug",
            "cost": 300,
            "kind": "free_item",
            "sku": "mug-1",
            "amount_minor": 1200,
            "tiers": ["gold"],
            "segments": ["champions", "lapsed"],
            "stock": 25,
            "limit_per_member": 2,
        },
        {"id": "tenth", "name": "Tenth off", "cost": 90, "kind": "percent_off", "percent": 10},
        {"id": "two", "name": "Two off", "cost": 60, "kind": "amount_off", "amount_minor": 200},
    ],
    "punch_cards": [
        {
            "id": "cups",
            "name": "Cups",
            "skus": ["cup"],
            "categories": ["tea"],
            "every": 8,
            "bonus_points": 70,
        }
    ],
    "promotions": [
        {
            "id": "bday",
            "name": "Birthday",
            "multiplier": 3,
            "bonus_points": 11,
            "days": ["sat"],
            "hours": "08:00-11:30",
            "from": "2026-01-01",
            "until": "2026-12-31",
            "min_spend_minor": 500,
            "skus": ["cake"],
            "categories": ["food"],
            "tiers": ["gold"],
            "segments": ["champions", "lapsed"],
            "birthday_month": True,
            "limit_per_member_per_day": 1,
            "limit_per_member": 4,
        }
    ],
}
SHOWN = [
    "All Rules (version 3, loaded ",
    "EUR, Europe/Berlin)",
    "plain card UIDs refused",
    "unknown cards are refused",
    "earning: 1.5 pt per currency unit (1000 minor units), rounded nearest, min spend 250,"
    " cap 150/basket, cap 400/day",
    "category coffee: x2",
    "sku beans: x3",
    "points expire 365 days after they are earned",
    "bonuses: enrolment 20, first visit 15",
    "a redemption may take a balance down to -40 pts",
    "a point is worth 0.5 minor units (the reports' liability)",
    "tier gold (Gold): 900 pts in 180 days, x1.5",
    "kept at least 60 days",
    "reviewed every year on 02-01",
    "keeps it 14 days more",
    "reward mug (Mug): 300 pts, free mug-1 (else 1200 off), tiers gold, stock 25 in all,"
    " 2 per member, segments champions, lapsed",
    "reward tenth (Tenth off): 90 pts, 10% off",
    "reward two (Two off): 60 pts, 200 off",
    "punch card cups (Cups): every 8 of cup, tea: +70 pts",
    "promotion bday (Birthday): x3 +11 pts, days sat, hours 08:00-11:30, 2026-01-01 to"
    " 2026-12-31, min spend 500, skus cake, categories food, tiers gold, in the member's birth"
    " month, at most 1 per member per day, at most 4 per member, segments champions, lapsed",
    "honoured for 12 h",
    "automations set in the file: birthday, win_back; off: win_back",
]


def _keys(schema: dict, prefix: str = "") -> set[str]:
    """Every key a program body may have, as dotted paths (list items as name[])."""
    keys = set()
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        keys.add(path)
        if sub.get("type") == "array" and "properties" in sub.get("items", {}):
            keys |= _keys(sub["items"], f"{path}[].")
        elif "properties" in sub:
            keys |= _keys(sub, f"{path}.")
    return keys


def _used(body, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in body.items():
        path = f"{prefix}{name}"
        keys.add(path)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                keys |= _used(item, f"{path}[].")
        elif isinstance(value, dict) and name not in ("categories", "skus"):
            keys |= _used(value, f"{path}.")
    return keys


def test_every_rule_kind_is_in_the_test_program():
    """A key added to the program schema must be added above, and so to `program show`."""
    schema = messages.schema("program")["properties"]["program"]
    assert _keys(schema) - _used(EVERY_RULE) == set()


def test_program_show_prints_every_rule(tmp_path):
    path = tmp_path / "all.yaml"  # JSON is YAML: the body exactly as written above
    path.write_text(json.dumps(EVERY_RULE), encoding="utf-8")
    db = str(tmp_path / "ledger.db")
    loaded = ledger("program", "load", str(path), "--db", db)
    assert loaded.returncode == 0, loaded.stderr
    shown = ledger("program", "show", "--db", db)
    assert shown.returncode == 0, shown.stderr
    missing = [words for words in SHOWN if words not in shown.stdout]
    assert missing == [], shown.stdout
