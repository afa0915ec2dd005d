"""A Type 3 (FeliCa) tag holding an NDEF message, emulated by nfcpy on its ``udp:`` device.

Run as a second process: ``python -m tests.nfc_tag_emulator --port P --idm HEX --ndef HEX``.
The reader under test (nfcpy ``udp:localhost:P``) then finds a card. Killing this
process takes the card away; ``--vanish-after N`` makes the card leave by itself
after answering N commands, in the middle of a read.
"""

from __future__ import annotations

import argparse
import os
import sys

import nfc
import nfc.clf
from nfc.tag.tt3 import Type3TagEmulation

PMM = bytes.fromhex("03014B024F4993FF")  # timing parameters of a FeliCa Lite-S
NDEF_SYSTEM = bytes.fromhex("12FC")


def attribute_block(ndef_len: int, blocks: int) -> bytes:
    """NFC Forum Type 3 Tag attribute information block (read-only NDEF)."""
    head = bytes([0x10, 4, 1]) + blocks.to_bytes(2, "big") + bytes(4) + b"\x00\x00"
    head += ndef_len.to_bytes(3, "big")
    return head + sum(head).to_bytes(2, "big")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idm", default="02FE000000000001")
    ap.add_argument("--ndef", default="")
    ap.add_argument("--vanish-after", type=int, default=None)
    args = ap.parse_args(argv)
    ndef_msg = bytes.fromhex(args.ndef)
    blocks = max(1, (len(ndef_msg) + 15) // 16)
    data = attribute_block(len(ndef_msg), blocks) + ndef_msg.ljust(blocks * 16, b"\x00")
    seen = {"commands": 0}

    def read_block(block: int, rb, re) -> bytes | None:
        return data[block * 16:block * 16 + 16] if block * 16 < len(data) else None

    orig = Type3TagEmulation.process_command

    def process(self, cmd):
        seen["commands"] += 1
        if args.vanish_after is not None and seen["commands"] > args.vanish_after:
            os._exit(0)  # the card leaves the field without a word
        return orig(self, cmd)

    Type3TagEmulation.process_command = process

    def on_startup(target):
        target.brty = "212F"
        target.sensf_res = b"\x01" + bytes.fromhex(args.idm) + PMM + NDEF_SYSTEM
        return target

    def on_connect(tag):
        tag.add_service(0x0009, read_block, None)
        tag.add_service(0x000B, read_block, None)
        return True

    with nfc.ContactlessFrontend(f"udp:localhost:{args.port}") as clf:
        print("ready", flush=True)
        while True:
            clf.connect(card={"on-startup": on_startup, "on-connect": on_connect})


if __name__ == "__main__":
    sys.exit(main())
