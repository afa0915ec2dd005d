"""The options that name a card on the command line, shared by `ledger members add` and
`ledger cards`: ``--card-number`` for the number printed on the card (and written in its NFC
record), ``--uid`` for the chip's serial number. Each turns into the token key the kiosk sends
(codes.card_numbers), so a card registered here is found when it is tapped."""

from __future__ import annotations

import argparse

from codes.card_numbers import CardNumberError, is_card_number, is_hex, number_key, uid_key


def number_arg(text: str) -> str:
    try:
        return number_key(text)
    except CardNumberError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def uid_arg(text: str) -> str:
    try:
        return uid_key(text)
    except CardNumberError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def legacy_card_arg(text: str) -> str:
    """``--card X``, as older scripts use it: hex digits only is a UID (what --card always
    meant), anything else a card number. A card number of hex digits only needs
    --card-number."""
    if is_hex(text):
        try:
            return uid_key(text)
        except CardNumberError as exc:
            raise argparse.ArgumentTypeError(
                f"{exc}; --card takes hex digits as a UID, use"
                " --card-number for a number printed on a card"
            ) from None
    return number_arg(text)


def read_as_uid_but_number(keys: list[str]) -> list[str]:
    """Of the keys ``--card`` made, the UIDs of digits only (``12345678``): a printed card
    number may well look like that, a chip's UID seldom does (no A-F in 14 hex digits)."""
    return [
        k[5:] for k in keys if k.startswith("card:") and k[5:].isdigit() and is_card_number(k[5:])
    ]


def add_card_options(parser, prefix: str = "", required: bool = True, what: str = "the card"):
    """``--{prefix}card-number`` / ``--{prefix}uid``, exactly one of them; dest ``{prefix}key``."""
    group = parser.add_mutually_exclusive_group(required=required)
    dest = f"{prefix.replace('-', '_')}key"
    group.add_argument(
        f"--{prefix}card-number",
        dest=dest,
        type=number_arg,
        metavar="NUMBER",
        help=f"{what}'s number as printed on it (MEMBER-0042)",
    )
    group.add_argument(
        f"--{prefix}uid",
        dest=dest,
        type=uid_arg,
        metavar="HEX",
        help=f"{what}'s chip UID in hex, as `kiosk readers test` shows it",
    )
    return group
