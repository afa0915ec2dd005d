"""One table of limits (mqtt/limits.py) for the schemas, the decoder and the program check:
what a kiosk may accept, the ledger can apply and answer."""

import json
import subprocess
import sys
import uuid
from importlib import resources

import pytest

from mqtt import limits, messages
from program.bounds import max_earn
from program.engine import Basket, Item, MemberState
from program.errors import ProgramError
from program.files import check_body, load_file, program_from_body


def file_schema(name):
    return json.loads(resources.files("mqtt").joinpath("schemas", f"{name}.json").read_text())


@pytest.mark.parametrize("bound", limits.BOUNDS, ids=lambda b: f"{b[0]}:{b[1][-1]}.{b[2]}")
def test_schema_files_carry_the_tables_numbers(bound):
    name, path, keyword, limit = bound
    assert limits.bound_in_file(file_schema(name), path, keyword) == limit
    assert limits.bound_in_file(messages.schema(name), path, keyword) == limit


def op(**over):
    body = {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": "04A1B2C3D4E5F6"}, "basket_id": "b-1",
            "currency": "EUR", "total_minor": 1000, "created_at": "x", "program_version": 1}
    return {**body, **over}


def test_kiosk_seq_stops_where_the_ledgers_column_does():
    assert messages.decode("op", json.dumps(op(kiosk_seq=limits.KIOSK_SEQ)))["kiosk_seq"] == 2**63 - 1
    with pytest.raises(messages.BadMessage, match="kiosk_seq must be smaller than or equal to"):
        messages.decode("op", json.dumps(op(kiosk_seq=2**63)))


@pytest.mark.parametrize("depth", [limits.NESTING + 1, 30_000])
def test_deep_nesting_is_a_bad_message(depth):
    payload = '{"items":' + "[" * depth + "]" * depth + "}"
    assert len(payload) <= limits.PAYLOAD_BYTES
    with pytest.raises(messages.BadMessage, match="too deeply nested"):
        messages.decode("op", payload)


def test_the_deepest_real_message_is_within_the_limit():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from program.signing import signed_message

    body = load_file("docs/examples/program.toml")
    payload = signed_message(body, Ed25519PrivateKey.generate())
    assert messages.nesting(json.loads(payload)) <= limits.NESTING
    assert messages.decode("program", payload)["program"] == body


def test_op_fits_says_why_an_op_cannot_be_sent():
    assert messages.op_fits(op()) is None
    item = {"sku": "s" * limits.SKU_CHARS, "qty": 1, "unit_minor": 1, "category": "c" * 64}
    big = op(items=[item] * limits.ITEMS_PER_BASKET)
    assert "bytes, more than 65536" in messages.op_fits(big)
    assert "kiosk_seq" in messages.op_fits(op(kiosk_seq=2**63))
    assert "lone UTF-16 surrogate" in messages.op_fits(op(basket_id="b-1", created_at="\ud800"))


def program(**earning):
    return {"version": 1, "name": "Shop", "currency": "EUR", "earning": earning}


def test_program_that_could_earn_past_an_ack_is_refused():
    with pytest.raises(ProgramError, match=r"could earn 100000000000000 points, more than an ack"):
        check_body(program(points_per_unit=10_000))
    check_body(program(points_per_unit=10_000, max_points_per_basket=1_000_000))  # capped: fine
    punch = {"id": "coffee", "every": 2, "bonus_points": 1_000_000, "skus": ["coffee"]}
    with pytest.raises(ProgramError, match="more than an ack can carry"):
        check_body({**program(), "punch_cards": [punch]})


def test_the_largest_basket_prices_into_an_ack_for_a_program_the_check_passes():
    """At the edge: 1 point per minor unit, the most the rule lets through uncapped."""
    body = {**program(points_per_unit=100), "tiers": [
        {"id": "gold", "min_points": 10, "multiplier": 1}]}
    engine = program_from_body(check_body(body))
    lines = limits.ITEMS_PER_BASKET
    unit = limits.AMOUNT_MINOR // (lines * limits.ITEM_QTY)
    basket = Basket("b-1", "EUR", limits.AMOUNT_MINOR,
                    tuple(Item(f"s-{i}", limits.ITEM_QTY, unit) for i in range(lines)))
    earn = engine.quote(basket, MemberState("ada", 0, "gold")).earn
    assert earn == max_earn(engine) == limits.POINTS
    ack = {"v": 1, "op_id": str(uuid.uuid4()), "status": "applied", "earned": earn, "redeemed": 0}
    assert messages.decode("ack", messages.encode("ack", ack))["earned"] == earn


def test_ledger_program_check_names_the_rule(tmp_path):
    path = tmp_path / "greedy.toml"
    path.write_text('version = 1\nname = "Greedy"\ncurrency = "EUR"\n'
                    '[earning]\npoints_per_unit = 10000\n')
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "program", "check", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "greedy.toml: earning: the largest basket the contract allows" in out.stderr
    assert "set earning.max_points_per_basket" in out.stderr
