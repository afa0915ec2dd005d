"""Writes the contract v1 as AsyncAPI 3 documents, one per role, from the topic names in
mqtt.topics, the JSON Schemas in mqtt/schemas and the recorded messages in mqtt/examples.json, so
the documents cannot drift from the code.

    .venv/bin/python -m mqtt.asyncapi --write docs    # docs/asyncapi.json (POS) and the others
    .venv/bin/python -m mqtt.asyncapi --role kiosk    # one document on stdout

AsyncAPI's ``send`` and ``receive`` say what *the application the document describes* does, so one
document cannot be right for the POS, the kiosk and the ledger at once: each role gets its own
(docs/asyncapi.json is the POS's, the one an integrator feeds a code generator). Each document is
self-contained: the schemas are embedded under components/schemas, every ``$ref`` is internal.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from importlib import resources
from pathlib import Path

from mqtt import messages, topics
from mqtt.channels import CHANNELS

ROLES = ("pos", "kiosk", "ledger")
FILES = {"pos": "asyncapi.json", "kiosk": "asyncapi-kiosk.json", "ledger": "asyncapi-ledger.json"}
# Our schemas use only keywords that mean the same in draft-07 (what AsyncAPI parsers know) and
# 2020-12 (what mqtt.messages validates with); tests/test_contract.py checks examples with both.
SCHEMA_FORMAT = "application/schema+json;version=draft-07"
ID = {"description": "an id: [a-z0-9-]{1,32}", "examples": ["store-1"]}


# A request's MQTT 5 response topic (the kiosk's own reply channel).
REPLIES = {"lookup_request": topics.lookup_reply, "reserve_request": topics.reserve_reply}


TEXT_MESSAGES = {
    "config": {
        "type": "string",
        "maxLength": 65536,
        "pattern": "^lkc1\\.",
        "description": "a signed update, lkc1.<payload>.<signature>",
    },
    "uplink": {"type": "string", "enum": ["0", "1"]},
}
ROLE_NOTES = {
    "pos": "This is the POS's view: the POS sends the basket and receives member, redemption "
    "and (optionally) status. Walk-through: docs/pos-integration.md.",
    "kiosk": "This is the kiosk's view (`kiosk run`). Architecture: docs/architecture.md.",
    "ledger": "This is the ledger's view (`ledger serve`). See docs/ledger.md.",
}


@cache
def examples() -> dict:
    """One real message of each kind, recorded by simulation.contract_examples."""
    return json.loads(resources.files("mqtt").joinpath("examples.json").read_text("utf-8"))


def embedded_schema(name: str) -> dict:
    if name in TEXT_MESSAGES:
        return TEXT_MESSAGES[name]
    # $id would rebase references; $schema says 2020-12, where the document says draft-07.
    return {k: v for k, v in messages.schema(name).items() if k not in ("$schema", "$id")}


def _message(name: str, channel: dict) -> dict:
    schema = messages.schema(name) if name not in TEXT_MESSAGES else TEXT_MESSAGES[name]
    msg = {
        "name": name,
        "title": schema.get("title", name),
        "summary": schema.get("description", channel["note"]),
        "contentType": "text/plain" if name in TEXT_MESSAGES else "application/json",
        "payload": {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": {"$ref": f"#/components/schemas/{name}"},
        },
        "examples": [
            {
                "name": f"{name}-recorded",
                "summary": "signed by codes.config_update, as `ledger config-update` signs it"
                if name == "config"
                else "recorded from a real sale (simulation.contract_examples)",
                "payload": examples()[name],
            }
        ],
    }
    if name in REPLIES:
        msg["bindings"] = {
            "mqtt": {
                "bindingVersion": "0.2.0",
                "responseTopic": REPLIES[name]("{store}", "{kiosk}"),
                "correlationData": {
                    "type": "string",
                    "maxLength": 64,
                    "description": "echoed in the reply",
                },
            }
        }
    return msg


def _operation(role: str, name: str, channel: dict) -> dict:
    action = "send" if channel["sender"] == role else "receive"
    flow = f"{channel['sender']} -> {', '.join(channel['receivers'])}"
    op = {
        "action": action,
        "channel": {"$ref": f"#/channels/{name}"},
        "summary": f"{flow}: {' or '.join(channel['messages'])}",
        "messages": [{"$ref": f"#/channels/{name}/messages/{m}"} for m in channel["messages"]],
        "bindings": {"mqtt": {"bindingVersion": "0.2.0", "qos": 1, "retain": channel["retain"]}},
    }
    if name in ("lookup", "kioskLookup"):
        op["reply"] = {
            "channel": {"$ref": "#/channels/lookupReply"},
            "messages": [{"$ref": "#/channels/lookupReply/messages/lookup_reply"}],
        }
    if name == "reserve":
        op["reply"] = {
            "channel": {"$ref": "#/channels/reserveReply"},
            "messages": [{"$ref": "#/channels/reserveReply/messages/reserve_reply"}],
        }
    return op


def _channels_of(role: str) -> dict:
    """The channels a role sends or receives on; a lookup's reply rides on its request."""
    return {n: c for n, c in CHANNELS.items() if role == c["sender"] or role in c["receivers"]}


def _servers(role: str) -> dict:
    security = [
        {"$ref": "#/components/securitySchemes/userPassword"},
        {"$ref": "#/components/securitySchemes/clientCertificate"},
    ]
    broker = "central" if role == "ledger" else "store"
    where = {
        "store": "The shop's broker, shared by the POS and the kiosks and bridged to the "
        "ledger's broker for ops, acks, lookups, status and program.",
        "central": "The ledger's broker; each shop's broker is bridged to it.",
    }[broker]
    return {
        broker: {
            "host": f"{broker}-broker.example:8883",
            "protocol": "secure-mqtt",
            "protocolVersion": "5",
            "description": where + " TLS; one username/password "
            "or client certificate per client, and an ACL that lets each write only its "
            "own topics (docs/operations.md generates both).",
            "security": security,
        },
        "local": {
            "host": "localhost:1883",
            "protocol": "mqtt",
            "protocolVersion": "5",
            "description": "A local broker without TLS or passwords, as in the "
            "simulated walk-through of docs/pos-integration.md.",
        },
    }


SECURITY = {
    "userPassword": {
        "type": "userPassword",
        "description": "MQTT username and password, one pair per client.",
    },
    "clientCertificate": {
        "type": "X509",
        "description": "A TLS client certificate, one per client.",
    },
}


def document(role: str = "pos") -> dict:
    channels, operations, schemas = {}, {}, {}
    for name, c in _channels_of(role).items():
        channels[name] = {
            "address": c["address"],
            "title": name,
            "description": f"{c['sender']} -> {', '.join(c['receivers'])}. {c['note']}",
            "messages": {m: _message(m, c) for m in c["messages"]},
            **({"parameters": {p: ID for p in c["params"]}} if c["params"] else {}),
        }
        schemas.update({m: embedded_schema(m) for m in c["messages"]})
        if name not in ("lookupReply", "reserveReply"):  # a request operation's reply
            verb = "send" if c["sender"] == role else "receive"
            operations[f"{verb}{name[0].upper()}{name[1:]}"] = _operation(role, name, c)
    return {
        "asyncapi": "3.0.0",
        "id": f"urn:loyalty-kiosk:contract:v1:{role}",
        "info": {
            "title": f"Loyalty kiosk MQTT contract v1: the {role}'s view",
            "version": "1.3.0",
            "description": "Contract v1 (v1.1 adds refunds and notices; a v1.0 program ignores "
            "them; v1.2 adds op and ack batches, sent only to a ledger that announces them; v1.3 "
            "adds the program version to the kiosk's status, and lets a lookup ask for a signed link "
            "to the member's page, asked only of a ledger announcing 1.3) between the POS, the kiosk "
            "and the ledger. UTF-8 "
            "JSON payloads of at most 64 KiB; ids match [a-z0-9-]{1,32}; amounts in integer "
            "minor units with an ISO 4217 currency; unknown fields are refused. QoS 1 "
            f"everywhere. {ROLE_NOTES[role]}",
        },
        "defaultContentType": "application/json",
        "servers": _servers(role),
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "securitySchemes": SECURITY},
    }


def write(folder: Path) -> list[Path]:
    written = []
    for role in ROLES:
        path = folder / FILES[role]
        path.write_text(json.dumps(document(role), indent=2, ensure_ascii=False) + "\n", "utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mqtt.asyncapi", description=__doc__.split("\n")[0])
    p.add_argument("--role", choices=ROLES, default="pos", help="the document to print")
    p.add_argument("--write", metavar="DIR", type=Path, help="write all three into DIR")
    args = p.parse_args(argv)
    if args.write:
        for path in write(args.write):
            print(path)
        return 0
    json.dump(document(args.role), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
