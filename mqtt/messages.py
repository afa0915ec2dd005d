"""Decode and encode contract messages, checked against their JSON Schemas.

Every payload read from the broker goes through :func:`decode`; anything wrong
(not UTF-8, not JSON, too big, wrong type, unknown field) raises
:class:`BadMessage` with a reason a log reader understands.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources

import fastjsonschema

from mqtt import limits

VERSION = 1  # the "v" field of every contract v1 payload (topics.ROOT is loyalty/v1)
MAX_PAYLOAD = limits.PAYLOAD_BYTES
SCHEMA_NAMES = ("basket", "member", "redemption", "op", "ack", "lookup_request",
                "lookup_reply", "status", "program", "refund", "notice", "op_batch", "ack_batch",
                "capabilities", "reserve_request", "reserve_reply")
# A batch's items are the single message's schema (the file says so with a $ref; it is written
# in when loaded, so validators and the AsyncAPI documents need no reference resolution).
BATCH_ITEMS = {"op_batch": ("ops", "op"), "ack_batch": ("acks", "ack")}


class BadMessage(ValueError):
    """A payload that breaks the contract; the message says why, in text any log or peer can
    carry (a NUL or lone surrogate quoted from the payload is written as an escape)."""

    def __init__(self, text: str) -> None:
        super().__init__(safe_text(text))


def safe_text(text: str) -> str:
    """``text`` with what UTF-8 cannot carry (lone surrogates) and NUL written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


@cache
def schema(name: str) -> dict:
    text = resources.files("mqtt").joinpath("schemas", f"{name}.json").read_text("utf-8")
    loaded = limits.apply(name, json.loads(text))
    if name in BATCH_ITEMS:
        key, item = BATCH_ITEMS[name]
        inner = {k: v for k, v in schema(item).items() if k not in ("$schema", "$id")}
        loaded["properties"][key]["items"] = inner
    return loaded


@cache
def validator(name: str):
    """Schema ``name``'s compiled check: returns the object, raises JsonSchemaException."""
    return fastjsonschema.compile(schema(name))


def prepare(*names: str) -> None:
    """Compile these validators now (tens of ms each), not on the first message."""
    for name in names:
        validator(name)


def validate(name: str, obj: object) -> dict:
    try:
        return validator(name)(obj)
    except fastjsonschema.JsonSchemaException as exc:
        raise BadMessage(f"{name}: {exc.message}") from None


def decode(name: str, payload: bytes | str) -> dict:
    """Parse and validate one message of schema ``name``."""
    return validate(name, parse(name, payload))


def parse(name: str, payload: bytes | str, deep_check: bool = True) -> dict:
    """Parse one message (size, UTF-8, JSON, an object, nesting) without its schema; ``name``
    only says what was expected in the error. ``deep_check`` False leaves the nesting to the
    caller (``check_nesting``): a schema that names every field bounds it for a valid message."""
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage(f"{name}: payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    try:
        obj = json.loads(payload)
    except UnicodeDecodeError:
        raise BadMessage(f"{name}: payload is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadMessage(f"{name}: not JSON ({exc.msg} at {exc.pos})") from None
    except RecursionError:  # deeper than the parser's stack: far past our limit
        raise BadMessage(f"{name}: too deeply nested (more than {limits.NESTING} levels)") from None
    if not isinstance(obj, dict):
        raise BadMessage(f"{name}: expected a JSON object, got {type(obj).__name__}")
    if deep_check:
        check_nesting(name, payload, obj)
    if _may_hold_bad_text(payload) and (why := bad_text(obj)):
        raise BadMessage(f"{name}: {why}")
    return obj


def check_nesting(name: str, payload: bytes | str, obj: object) -> None:
    """BadMessage when ``obj`` (parsed from ``payload``) is nested deeper than the limit."""
    if _brackets(payload) > limits.NESTING and nesting(obj) > limits.NESTING:
        raise BadMessage(f"{name}: too deeply nested (more than {limits.NESTING} levels)")


def _may_hold_bad_text(payload: bytes | str) -> bool:
    """NUL and lone surrogates reach a string only through a \\u escape or raw surrogate bytes
    (json.loads lets those pass): most messages stop here, with no walk."""
    if isinstance(payload, str):
        return "\\u" in payload or any("\ud800" <= ch <= "\udfff" for ch in payload)
    return b"\\u" in payload or b"\xed" in payload


def bad_text(obj: object) -> str:
    """Why a text in ``obj`` (a key or a value) cannot be carried on: a NUL, which databases
    and C strings cut at, or a lone UTF-16 surrogate, which UTF-8 cannot encode; "" when fine."""
    todo = [("", obj)]
    while todo:
        where, node = todo.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                at = f"{where}.{key}".lstrip(".")
                todo.extend(((at, key), (at, value)))
        elif isinstance(node, list):
            todo.extend((f"{where}[{i}]", value) for i, value in enumerate(node))
        elif isinstance(node, str) and (why := _text_problem(node)):
            return f"{where or 'text'} {why}"
    return ""


def _text_problem(text: str) -> str:
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone UTF-16 surrogate, which UTF-8 cannot carry"
    return ""


def _brackets(payload: bytes | str) -> int:
    """An upper bound of the nesting depth that costs no walk (most messages stop here)."""
    if isinstance(payload, str):
        return payload.count("{") + payload.count("[")
    return payload.count(b"{") + payload.count(b"[")


def nesting(obj: object) -> int:
    """How many objects and arrays are inside one another, walked without recursion."""
    deepest, todo = 0, [(obj, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            values = node.values() if isinstance(node, dict) else node
            todo.extend((v, depth + 1) for v in values if isinstance(v, dict | list))
    return deepest


class Checked(dict):
    """A message validated against schema ``checked_as`` when it was made, with that schema
    unchanged since (``digest``): ``encode`` does not check it again. The kiosk's queued ops
    are checked once, when queued, not again on every send (docs/benchmarks.md, Pi-class)."""

    def __init__(self, checked_as: str, body: dict) -> None:
        super().__init__(body)
        self.checked_as = checked_as


@cache
def digest(name: str) -> str:
    """A short fingerprint of schema ``name`` as this code applies it (limits included)."""
    text = json.dumps(schema(name), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode(name: str, obj: dict) -> bytes:
    """Validate our own outgoing message too, so a bug never reaches a peer (a ``Checked``
    message of this schema was validated when it was made)."""
    if getattr(obj, "checked_as", None) != name:
        validate(name, obj)
    try:
        data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800") read from a peer's JSON
        raise BadMessage(f"{name}: a text holds a lone UTF-16 surrogate") from None
    return data


def op_fits(op: dict) -> str | None:
    """Why the ledger would refuse this op (schema or size), or None when it fits: the kiosk
    asks before it settles a basket, so it never queues an op nobody can apply."""
    try:
        size = len(encode("op", op))
    except BadMessage as exc:
        return str(exc)
    return f"op: {size} bytes, more than {MAX_PAYLOAD}" if size > MAX_PAYLOAD else None
