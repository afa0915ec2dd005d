"""Writes docs/asyncapi.json, the contract v1 as one AsyncAPI 3 document, from the topic names in
mqtt.topics and the JSON Schemas in mqtt/schemas, so the document cannot drift from the code.

    .venv/bin/python -m mqtt.asyncapi > docs/asyncapi.json
"""

from __future__ import annotations

import json
import sys

from mqtt import topics

ID = {"description": "an id: [a-z0-9-]{1,32}"}

# channel name -> (address, parameters, schema, sender -> receiver, retained, note)
CHANNELS = {
    "basket": (topics.basket("{store}", "{lane}"), ("store", "lane"), "basket", "POS -> kiosk", True,
               "The lane's current basket. Publish every change with a higher seq; status goes "
               "open -> total -> paid or void. Retained, so a kiosk that restarts sees it."),
    "member": (topics.member("{store}", "{lane}"), ("store", "lane"), "member", "kiosk -> POS",
               False, "Who is paying: member, balance, projected earn, affordable rewards."),
    "redemption": (topics.redemption("{store}", "{lane}"), ("store", "lane"), "redemption",
                   "kiosk -> POS", False,
                   "Apply (or cancel) a reward's discount on the open basket. The POS shows it in "
                   "the basket it publishes next; the points are spent only when it is paid."),
    "refund": (topics.refund("{store}", "{lane}"), ("store", "lane"), "refund", "POS -> kiosk",
               False, "v1.1. Refund a paid basket, whole or by lines; refund_id is the "
               "idempotency key. A void of a basket already paid is a whole refund too."),
    "notice": (topics.notice("{store}", "{lane}"), ("store", "lane"), "notice", "kiosk -> POS",
               False, "v1.1. What the POS should know about a basket: a return applied (points "
               "taken back, balance) or refused, and why."),
    "ops": (topics.ops("{store}", "{kiosk}"), ("store", "kiosk"), "op", "kiosk -> ledger", False,
            "One earn/redeem operation per paid basket; op_id is the idempotency key. Sent "
            "again until acked; the ledger reads it through $share/ledger/..."),
    "acks": (topics.acks("{store}", "{kiosk}"), ("store", "kiosk"), "ack", "ledger -> kiosk",
             False, "The op's result; a repeated op_id gets the first result as 'duplicate'."),
    "lookup": (topics.LOOKUP, (), "lookup_request", "kiosk -> ledger", False,
               "Who holds this token? MQTT 5 request: set response topic and correlation data."),
    "lookupReply": (topics.lookup_reply("{store}", "{kiosk}"), ("store", "kiosk"), "lookup_reply",
                    "ledger -> kiosk", False,
                    "The answer, with the request's correlation data."),
    "status": (topics.status("{store}", "{kiosk}"), ("store", "kiosk"), "status", "kiosk -> all",
               True, "Kiosk health; the last will sets state 'offline'."),
    "program": (topics.PROGRAM, (), "program", "ledger -> kiosk", True,
                "The active loyalty program, signed with the ledger's program key; a kiosk with "
                "that public key in [program] keys prices its previews with it. Ops name the "
                "version they were priced with. See docs/program.md."),
}


def document() -> dict:
    channels, operations, messages = {}, {}, {}
    for name, (address, params, schema, flow, retain, note) in CHANNELS.items():
        channels[name] = {
            "address": address, "description": f"{flow}. {note}",
            "messages": {schema: {"$ref": f"#/components/messages/{schema}"}},
            **({"parameters": {p: ID for p in params}} if params else {})}
        sender = flow.split(" -> ")[0]
        operations[f"{sender}Sends{name[0].upper()}{name[1:]}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{name}"},
            "summary": flow,
            "bindings": {"mqtt": {"qos": 1, "retain": retain}}}
        messages[schema] = {"name": schema, "contentType": "application/json",
                            "payload": {"$ref": f"../mqtt/schemas/{schema}.json"}}
    channels["uplink"] = {
        "address": topics.uplink("{store}"), "parameters": {"store": ID},
        "description": "store broker -> kiosks. Retained '1' or '0': the bridge to the ledger's "
        "broker is up or down (Mosquitto's notification_topic). A kiosk that sees '0' counts "
        "itself offline: it keeps ops in its outbox and says points are saved.",
        "messages": {"uplink": {"$ref": "#/components/messages/uplink"}}}
    channels["config"] = {
        "address": topics.config("{store}", "{kiosk}"), "parameters": {"store": ID, "kiosk": ID},
        "description": "ledger -> kiosk. Retained, signed config update (Ed25519, see "
        "kiosk/remote_config.py and docs/operations.md): applied through a restart, kept once the "
        "broker is reached with it, dropped again when not.",
        "messages": {"config": {"$ref": "#/components/messages/config"}}}
    messages["config"] = {"name": "config", "contentType": "text/plain",
                          "payload": {"type": "string", "maxLength": 65536,
                                      "description": "a signed update as kiosk.remote_config "
                                      "writes it"}}
    messages["uplink"] = {"name": "uplink", "contentType": "text/plain",
                          "payload": {"type": "string", "enum": ["0", "1"]}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Loyalty kiosk MQTT contract", "version": "1.1.0",
                 "description": "Contract v1 (v1.1: refunds and notices) between the POS, the kiosk and the ledger. UTF-8 "
                 "JSON payloads of at most 64 KiB; amounts in integer minor units with an ISO "
                 "4217 currency; unknown fields are refused. See docs/pos-integration.md."},
        "defaultContentType": "application/json",
        "servers": {"store": {"host": "store-broker:1883", "protocol": "mqtt",
                              "protocolVersion": "5",
                              "description": "The shop's broker (POS, kiosks); bridged to the "
                              "ledger's broker for ops, acks, lookups and status."}},
        "channels": channels, "operations": operations,
        "components": {"messages": messages}}


def main() -> int:
    json.dump(document(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
