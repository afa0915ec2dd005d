"""Several ops, or several acks, in one message (contract v1.2), and the ledger's capabilities.

A v1.0 peer sends and expects one op or one ack per message; those stay valid on the same
topics. A batch is ``{"v": 1, "ops": [...]}`` (``op_batch``) or ``{"v": 1, "acks": [...]}``
(``ack_batch``), at most ``limits.OPS_PER_BATCH`` items and ``limits.PAYLOAD_BYTES`` bytes. A
kiosk sends batches only once the ledger's retained capabilities message allows them, and the
ledger answers in the form it was asked.

Reading a batch costs one parse, a check of its envelope and one of each item against the
single message's schema, so one bad op rejects itself (its ack says why) and not the ops beside
it. Checking the items one by one costs half of checking the whole batch with one validator:
the batch's generated code formats its local variables into the exception it raises for each
op's ``if kind is basket`` test (docs/benchmarks.md, ledger section). The nesting walk runs
only for a message that fails its schema: the schemas name every field, so a valid message is
never deeper than they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache

import fastjsonschema

from mqtt import limits, messages

CONTRACT = "1.3"  # 1.3: lookups may ask for the member's account_link
_HEAD = {"op_batch": b'{"v":1,"ops":[', "ack_batch": b'{"v":1,"acks":['}
_TAIL = b"]}"
_OP_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class OpsMessage:
    """What one message on an ops topic held: valid ops, and ops refused by op_id."""

    ops: list[dict]
    batched: bool  # it came as an op_batch: answer with an ack_batch
    refused: list[tuple[str, str]] = field(default_factory=list)  # (op_id, reason)


def capabilities() -> bytes:
    """The ledger's retained capabilities message."""
    body = {"v": 1, "contract": CONTRACT, "max_ops_per_batch": limits.OPS_PER_BATCH}
    return messages.encode("capabilities", body)


def batch_limit(payload: bytes) -> int:
    """Ops per message the ledger allows, from its capabilities message (b"": cleared, so 1)."""
    if not payload:
        return 1
    return min(messages.decode("capabilities", payload)["max_ops_per_batch"], limits.OPS_PER_BATCH)


def contract(payload: bytes) -> tuple[int, int]:
    """The contract version a capabilities message announces, as (major, minor); (1, 0) when
    cleared (an older or rolled-back ledger)."""
    if not payload:
        return (1, 0)
    major, minor = messages.decode("capabilities", payload)["contract"].split(".")
    return int(major), int(minor)


def decode_ops(payload: bytes | str, batches: bool = True) -> OpsMessage:
    """One message on an ops topic: a single op (v1.0) or, with ``batches``, an op_batch."""
    obj = messages.parse("op", payload, deep_check=False)
    if not batches or "ops" not in obj:
        return OpsMessage([_checked("op", payload, obj)], batched=False)
    good, bad = _items("op_batch", payload, obj)
    refused = []
    for item, reason in bad:
        op_id = item.get("op_id") if isinstance(item, dict) else None
        if not (isinstance(op_id, str) and _OP_ID.match(op_id)):
            raise messages.BadMessage(f"op_batch: an op without a valid op_id ({reason})")
        refused.append((op_id, reason))
    return OpsMessage(good, batched=True, refused=refused)


def decode_acks(payload: bytes | str) -> tuple[list[dict], list[str]]:
    """One message on an acks topic: (valid acks, why each other ack was not valid)."""
    obj = messages.parse("ack", payload, deep_check=False)
    if "acks" not in obj:
        return [_checked("ack", payload, obj)], []
    good, bad = _items("ack_batch", payload, obj)
    return good, [reason for _, reason in bad]


def _checked(name: str, payload: bytes | str, obj: dict) -> dict:
    """``obj`` validated as ``name``; too deep says so before what the schema says."""
    try:
        return messages.validate(name, obj)
    except messages.BadMessage:
        messages.check_nesting(name, payload, obj)
        raise


def _items(name: str, payload: bytes | str, obj: dict) -> tuple[list[dict], list[tuple[object, str]]]:
    """A batch's items, each checked on its own (the envelope must hold for any of them)."""
    key, item_schema = messages.BATCH_ITEMS[name]
    try:
        _envelope(name)(obj)
    except fastjsonschema.JsonSchemaException as exc:
        messages.check_nesting(name, payload, obj)
        raise messages.BadMessage(f"{name}: {exc.message}") from None
    validate = messages.validator(item_schema)
    good, bad = [], []
    for i, item in enumerate(obj[key]):
        try:
            good.append(validate(item))
        except fastjsonschema.JsonSchemaException as exc:
            messages.check_nesting(name, payload, obj)
            bad.append((item, messages.safe_text(f"{key}[{i}]: {item_schema}: {exc.message}")))
    return good, bad


@cache
def _envelope(name: str):
    """The batch's schema with its items only required to be objects."""
    key, _ = messages.BATCH_ITEMS[name]
    loose = json.loads(json.dumps(messages.schema(name)))
    loose["properties"][key]["items"] = {"type": "object"}
    return fastjsonschema.compile(loose)


def pack(name: str, encoded: list[bytes], most: int = limits.OPS_PER_BATCH) -> list[list[bytes]]:
    """Split already encoded items into groups that each make a batch within the limits."""
    room = limits.PAYLOAD_BYTES - len(_HEAD[name]) - len(_TAIL)
    groups: list[list[bytes]] = []
    size = 0
    for item in encoded:
        if groups and len(groups[-1]) < most and size + len(item) + 1 <= room:
            groups[-1].append(item)
            size += len(item) + 1
        else:
            groups.append([item])
            size = len(item)
    return groups


def join(name: str, group: list[bytes]) -> bytes:
    """One batch message from encoded items (each validated when it was encoded)."""
    return _HEAD[name] + b",".join(group) + _TAIL
