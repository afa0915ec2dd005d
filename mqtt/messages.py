"""Decode and encode contract messages, checked against their JSON Schemas.

Every payload read from the broker goes through :func:`decode`; anything wrong
(not UTF-8, not JSON, too big, wrong type, unknown field) raises
:class:`BadMessage` with a reason a log reader understands.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import fastjsonschema

MAX_PAYLOAD = 64 * 1024
SCHEMA_NAMES = ("basket", "member", "redemption", "op", "ack", "lookup_request",
                "lookup_reply", "status", "program", "refund", "notice")


class BadMessage(ValueError):
    """A payload that breaks the contract; the message says why."""


@cache
def schema(name: str) -> dict:
    text = resources.files("mqtt").joinpath("schemas", f"{name}.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str):
    return fastjsonschema.compile(schema(name))


def prepare(*names: str) -> None:
    """Compile these validators now (tens of ms each), not on the first message."""
    for name in names:
        _validator(name)


def validate(name: str, obj: object) -> dict:
    try:
        return _validator(name)(obj)
    except fastjsonschema.JsonSchemaException as exc:
        raise BadMessage(f"{name}: {exc.message}") from None


def decode(name: str, payload: bytes | str) -> dict:
    """Parse and validate one message of schema ``name``."""
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage(f"{name}: payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    try:
        obj = json.loads(payload)
    except UnicodeDecodeError:
        raise BadMessage(f"{name}: payload is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadMessage(f"{name}: not JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(obj, dict):
        raise BadMessage(f"{name}: expected a JSON object, got {type(obj).__name__}")
    return validate(name, obj)


def encode(name: str, obj: dict) -> bytes:
    """Validate our own outgoing message too, so a bug never reaches a peer."""
    validate(name, obj)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
