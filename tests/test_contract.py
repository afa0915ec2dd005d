"""The published contract matches the code: the AsyncAPI documents (one per role) are what
mqtt.asyncapi generates, stand on their own, say send/receive from their role's side, carry an
example of every message that is what the programs send today, and the official AsyncAPI parser
(tools/asyncapi, installed by `make bootstrap`) accepts them and rejects a broken one."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import fastjsonschema
import pytest

from mqtt import asyncapi, messages
from simulation.contract_examples import record

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
CHECK = ROOT / "tools" / "asyncapi" / "check.mjs"

# What each program does on each channel, as docs/pos-integration.md and docs/architecture.md
# describe the contract.
ROLE_OPERATIONS = {
    "pos": {
        ("send", "basket"),
        ("receive", "member"),
        ("receive", "redemption"),
        ("send", "refund"),
        ("receive", "notice"),
        ("receive", "status"),
    },
    "kiosk": {
        ("receive", "basket"),
        ("send", "member"),
        ("send", "redemption"),
        ("receive", "refund"),
        ("send", "notice"),
        ("send", "ops"),
        ("receive", "acks"),
        ("send", "kioskLookup"),
        ("send", "lookup"),
        ("send", "reserve"),
        ("send", "status"),
        ("receive", "program"),
        ("receive", "capabilities"),
        ("receive", "config"),
        ("receive", "uplink"),
    },
    "ledger": {
        ("receive", "ops"),
        ("send", "acks"),
        ("receive", "kioskLookup"),
        ("receive", "lookup"),
        ("receive", "reserve"),
        ("receive", "status"),
        ("send", "program"),
        ("send", "capabilities"),
        ("send", "config"),
    },
}


def committed(role):
    return json.loads((DOCS / asyncapi.FILES[role]).read_text())


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from [value] if key == "$ref" else refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc, ref):
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("role", asyncapi.ROLES)
def test_asyncapi_files_are_generated_from_the_code(role):
    assert committed(role) == asyncapi.document(role), (
        "run: .venv/bin/python -m mqtt.asyncapi --write docs"
    )


@pytest.mark.parametrize("role", asyncapi.ROLES)
def test_each_document_stands_on_its_own(role):
    doc = committed(role)
    found = list(refs(doc))
    assert found
    for ref in found:
        assert ref.startswith("#/"), ref  # nothing outside the file
        assert resolve(doc, ref), ref
    for name, msg in doc["components"]["schemas"].items():
        assert "$id" not in msg and "$schema" not in msg, name


@pytest.mark.parametrize("role", asyncapi.ROLES)
def test_send_and_receive_are_said_from_the_roles_side(role):
    doc = committed(role)
    ops = {
        (op["action"], op["channel"]["$ref"].rsplit("/", 1)[-1])
        for op in doc["operations"].values()
    }
    assert ops == ROLE_OPERATIONS[role]
    if role != "pos":  # the lookup's answer comes back on the kiosk's reply channel
        lookup = next(
            op for op in doc["operations"].values() if op["channel"]["$ref"] == "#/channels/lookup"
        )
        assert lookup["reply"]["channel"]["$ref"] == "#/channels/lookupReply"
        reserve = next(
            op for op in doc["operations"].values() if op["channel"]["$ref"] == "#/channels/reserve"
        )
        assert reserve["reply"]["channel"]["$ref"] == "#/channels/reserveReply"


def test_security_and_servers_are_described():
    doc = committed("pos")
    store = doc["servers"]["store"]
    assert store["protocol"] == "secure-mqtt" and store["protocolVersion"] == "5"
    kinds = {resolve(doc, s["$ref"])["type"] for s in store["security"]}
    assert kinds == {"userPassword", "X509"}


@pytest.mark.parametrize("role", asyncapi.ROLES)
def test_every_message_has_an_example_that_passes_its_schema(role):
    doc = committed(role)
    for channel in doc["channels"].values():
        for name, msg in channel["messages"].items():
            assert msg["payload"]["schemaFormat"] == asyncapi.SCHEMA_FORMAT
            schema = resolve(doc, msg["payload"]["schema"]["$ref"])
            draft7 = fastjsonschema.compile(
                {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
            )
            assert msg["examples"], name
            for example in msg["examples"]:
                draft7(example["payload"])  # as an AsyncAPI tool reads the schema
                if name in messages.SCHEMA_NAMES:  # as the programs do (2020-12)
                    messages.validate(name, example["payload"])


def shape(value):
    """The key paths of a message, without the values (ids and times differ each run)."""
    if isinstance(value, dict):
        return {(k, *p) for k, v in value.items() for p in shape(v) | {()}}
    if isinstance(value, list):
        return set().union(*(shape(v) for v in value)) if value else set()
    return set()


def test_examples_are_what_the_programs_send_today(tmp_path):
    fresh = record(tmp_path)
    kept = asyncapi.examples()
    assert set(fresh) == set(kept)
    for name in kept:
        assert shape(fresh[name]) - _optional(name, kept) == shape(kept[name]) - _optional(name, kept), (
            f"{name} changed: run .venv/bin/python -m simulation.contract_examples > mqtt/examples.json"
        )


# Which ops share a replay batch depends on timing (the online sale with its reward may join the
# offline ones on a loaded machine): a batch's items may hold what the single example holds.
BATCH_ITEMS = {"op_batch": ("ops", "op"), "ack_batch": ("acks", "ack")}


def _optional(name: str, kept: dict) -> set:
    if name not in BATCH_ITEMS:
        return set()
    key, single = BATCH_ITEMS[name]
    return {(key, *path) for path in shape(kept[single])} - shape(kept[name])


def run_check(*files):
    node = shutil.which("node")
    assert node and (CHECK.parent / "node_modules").is_dir(), "run make bootstrap (nodejs, npm ci)"
    return subprocess.run(
        [node, str(CHECK), *map(str, files)], capture_output=True, text=True, timeout=120
    )


def codes(res):
    return {json.loads(line)["code"] for line in res.stdout.splitlines() if line.startswith("{")}


def test_the_official_parser_accepts_the_documents():
    files = [DOCS / asyncapi.FILES[role] for role in asyncapi.ROLES]
    res = run_check(*files)
    assert res.returncode == 0, res.stdout + res.stderr
    for path in files:
        assert f"{path}: 0 errors, 0 warnings" in res.stdout, res.stdout


def test_the_official_parser_reports_a_broken_document(tmp_path):
    broken = tmp_path / "broken.json"
    outside = committed("pos")  # a schema left in its own file, as the old document had it
    outside["components"]["schemas"]["member"] = {"$ref": "../mqtt/schemas/member.json"}
    broken.write_text(json.dumps(outside))
    res = run_check(broken)
    assert res.returncode == 1 and "invalid-ref" in codes(res), res.stdout
    bad_example = committed("pos")
    bad_example["channels"]["basket"]["messages"]["basket"]["examples"][0]["payload"]["seq"] = "one"
    broken.write_text(json.dumps(bad_example))
    res = run_check(broken)
    assert res.returncode == 1 and "example 0 of message basket: /seq must be integer" in res.stdout


def test_pos_integration_examples_pass_their_schemas():
    text = (DOCS / "pos-integration.md").read_text()
    pubs = re.findall(r"-t (\S+) -m '([^']+)'", text)
    assert len(pubs) >= 4
    for topic, payload in pubs:
        assert messages.decode(topic.rsplit("/", 1)[-1], payload)
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    decoded = [json.loads(b) for b in blocks]
    assert messages.validate("member", decoded[0]) and messages.validate("redemption", decoded[1])
