"""Payloads a buggy POS or peer could send: contract messages with one part broken, and noise.

Shared by tests/test_fuzz_handlers.py (hypothesis strategies) and its real-process run (a seeded
random mutator, so the subprocess test needs no hypothesis machinery).
"""

import json
import random
import uuid

from hypothesis import strategies as st

# Texts that broke peers before: NUL, lone surrogates, over-long, non-ASCII, id-like.
NASTY_TEXT = [
    "",
    "\x00",
    "tea\x00",
    "\ud800",
    "a\udfff",
    "€" * 70,
    "x" * 600,
    "B 1",
    "b-1",
    "EUR",
    "USD",
    "unknown",
    "1e400",
    "-1",
]
NASTY_NUMBER = [-1, 0, 1, 2**53, 2**53 + 1, 10**12, 10**12 + 1, 10**15, 2**63, 1.5, float("inf")]


def good_basket(seq: int = 1, status: str = "open", basket_id: str = "b-1") -> dict:
    return {
        "v": 1,
        "basket_id": basket_id,
        "seq": seq,
        "status": status,
        "currency": "EUR",
        "total_minor": 1120,
        "items": [
            {"sku": "coffee", "qty": 2, "unit_minor": 350},
            {"sku": "cake", "qty": 1, "unit_minor": 420},
        ],
    }


def good_ack() -> dict:
    # Never the queued op's id: the outbox must keep that op whatever else arrives.
    return {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "status": "applied",
        "member_id": "m-ada",
        "balance": 40,
        "earned": 11,
        "tier": "member",
    }


def good_lookup_reply() -> dict:
    return {
        "v": 1,
        "found": True,
        "member": {"id": "m-ada", "name": "Ada", "tier": "member"},
        "balance": 240,
        "rewards": [
            {"reward_id": "coffee", "name": "Free coffee", "cost": 100, "affordable": True}
        ],
    }


def good_op(kiosk_seq: int = 1) -> dict:
    return {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": kiosk_seq,
        "kind": "sale",
        "token": {"kind": "uid", "value": "04A1B2C3D4E5F6", "verified": False},
        "basket_id": "b-1",
        "currency": "EUR",
        "total_minor": 1120,
        "items": [{"sku": "coffee", "qty": 2, "unit_minor": 350}],
        "earn": 11,
        "redeem": [{"reward_id": "coffee", "points": 100}],
        "enrol": False,
        "offline": False,
        "created_at": "2026-01-01T00:00:00Z",
        "clock_synced": True,
        "program_version": 1,
    }


def good_lookup_request() -> dict:
    return {"v": 1, "token": {"kind": "uid", "value": "04A1B2C3D4E5F6", "verified": False}}


# -- hypothesis ---------------------------------------------------------------------------------
texts = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), max_size=8),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(NASTY_NUMBER), st.integers(-(2**70), 2**70), texts
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


def _paths(node: object, at: tuple = ()) -> list[tuple]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*at, i))
    return found


@st.composite
def mutated(draw, template: dict) -> bytes:
    """``template`` with one part replaced, removed or added, encoded one of several ways."""
    body = json.loads(json.dumps(template))
    path = draw(st.sampled_from(_paths(body)[1:]))
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = draw(values)
    elif action == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(texts)] = draw(values)
    else:
        parent.append(draw(values))
    return encode(body, draw(st.booleans()))


def encode(body: object, ascii_only: bool) -> bytes:
    text = json.dumps(body, ensure_ascii=ascii_only)  # inf becomes Infinity: not JSON either
    return text.encode("utf-8", "surrogatepass")


def payloads(template: dict) -> st.SearchStrategy[bytes]:
    near = mutated(template)  # most payloads stay close to the contract, to reach the handlers
    return st.one_of(
        near,
        near,
        near,
        st.just(encode(template, True)),
        st.binary(max_size=64),
        values.map(lambda v: encode(v, True)),
    )


# -- the real-process run: a seeded mutator -------------------------------------------------------
def random_mutation(rng: random.Random, template: dict) -> bytes:
    body = json.loads(json.dumps(template))
    path = rng.choice(_paths(body)[1:])
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    choice = rng.random()
    if choice < 0.6:
        parent[path[-1]] = rng.choice(NASTY_TEXT + NASTY_NUMBER + [None, [], {}, True])
    elif choice < 0.8:
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[rng.choice(NASTY_TEXT)] = rng.choice(NASTY_NUMBER)
    else:
        parent.append(rng.choice(NASTY_TEXT))
    if rng.random() < 0.1:
        return rng.randbytes(rng.randrange(1, 40))
    return encode(body, rng.random() < 0.5)
