"""What one read card is worth: a SUN-verified UID, an NDEF card number, or a plain UID.

Shared by the nfcpy and PC/SC drivers, which only move bytes. The policy comes
from the config's ``[reader]`` section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import ndef

from codes.card_numbers import CardNumberError, compile_pattern
from drivers.config_schema import READER, with_defaults
from drivers.ndef_card import NdefCardError, NdefCardPolicy, card_from_record, first_card_record
from drivers.sun import CounterGuard, SunError, SunKeys, SunParams, sun_proof, verify_sun_url

# What the customer reads for each refusal (the display wraps ~20 characters a line).
_SAY = {"uid_not_accepted": "card not accepted here", "ndef_unsigned": "card not accepted here",
        "sun_unconfigured": "card not accepted here", "sun_bad_params": "card not accepted here",
        "sun_replay": "card not accepted, tap again",
        "ndef_malformed": "card could not be read, try again",
        "no_id": "card could not be read, try again"}
REMOVED_TOO_SOON = "card removed too soon, try again"
_HEX = re.compile(r"[0-9A-Fa-f]+")


class CardRejected(ValueError):
    """The card was read but gives no token; ``reason`` is a short code, ``detail`` says more."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def shown(self) -> str:
        """For ReadFailed: words for the customer, the code for the technician."""
        return f"{_SAY.get(self.reason, 'card not recognised')} [{self.reason}]"


@dataclass(frozen=True)
class CardToken:
    """A read card: what the ledger resolves, and the proof it checks again (None: none)."""

    kind: str
    value: str
    verified: bool
    proof: dict[str, str] | None = None


@dataclass
class TokenPolicy:
    accept_plain_uid: bool = True
    ndef: NdefCardPolicy = field(default_factory=NdefCardPolicy)
    sun_keys: SunKeys | None = None
    sun_params: SunParams = field(default_factory=SunParams)
    guard: CounterGuard = field(default_factory=CounterGuard)

    @classmethod
    def from_section(cls, section: Mapping) -> TokenPolicy:
        """Build from ``[reader]`` (missing keys: the schema's defaults); ValueError names a bad key."""
        s = with_defaults(section, READER)
        try:
            pattern = compile_pattern(s["card_number_pattern"])
        except CardNumberError as exc:
            raise ValueError(f"reader.card_number_pattern: {exc}") from None
        ndef_pol = NdefCardPolicy(s["ndef_card_param"], s["ndef_sig_param"],
                                  _hex_key(s, "ndef_public_key", 32), s["ndef_require_signature"],
                                  pattern, s["ndef_card_from_path"])
        keys = None
        if s["sun_meta_key"] or s["sun_file_key"]:
            keys = SunKeys(_hex_key(s, "sun_meta_key", 16), _hex_key(s, "sun_file_key", 16),
                           s["sun_diversify"], bytes.fromhex(s["sun_system_id"]))
        params = SunParams(picc=s["sun_picc_param"], mac=s["sun_mac_param"],
                           uid=s["sun_uid_param"], ctr=s["sun_ctr_param"])
        # Only a section from the config file names the counter file (the schema's default is
        # the Pi's /var/lib path); one built by hand (tests, benchmarks) keeps them in memory.
        guard = CounterGuard(section.get("sun_counter_file") or None)
        return cls(s["accept_plain_uid"], ndef_pol, keys, params, guard)


def _hex_key(s: Mapping, key: str, size: int) -> bytes | None:
    text = s[key]
    if not text:
        return None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise ValueError(f"reader.{key}: expected {2 * size} hex digits")
    return raw


def _sun_claim(uri: str, p: SunParams) -> str | None:
    """"ours" when the URL carries the configured SUN parameter names, "foreign" when it has
    a SUN message's shape (32 hex digits of PICCData, or a 14-digit UID and a 6-digit counter,
    beside a 16-digit MAC) under other names, None for any other URL."""
    try:
        q = parse_qs(urlsplit(uri).query, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return None
    if p.picc in q or p.mac in q or (p.uid in q and p.ctr in q):
        return "ours"
    sizes = {len(v[-1]) for v in q.values() if _HEX.fullmatch(v[-1])}
    if 16 in sizes and (32 in sizes or {14, 6} <= sizes):
        return "foreign"
    return None


def _sun_fields(uri: str, pol: TokenPolicy, claim: str) -> CardToken:
    if pol.sun_keys is None:
        raise CardRejected("sun_unconfigured", "SUN card but no SUN keys in [reader]")
    p = pol.sun_params
    if claim == "foreign":
        # Read as a card number, the MAC would be a new "card" on every tap: refuse instead.
        names = ", ".join(parse_qs(urlsplit(uri).query, max_num_fields=20))
        raise CardRejected("sun_bad_params", f"URL looks like a SUN message (parameters {names})"
                           f" but [reader] expects {p.picc}/{p.uid}+{p.ctr} and {p.mac}"
                           " (sun_picc_param, sun_uid_param, sun_ctr_param, sun_mac_param)")
    try:
        res = pol.guard.check(verify_sun_url(uri, pol.sun_keys, p))
    except SunError as exc:
        raise CardRejected(f"sun_{exc.reason}", exc.detail) from None
    return CardToken("sun", res.uid_hex, True, sun_proof(uri, p))


def _from_record(rec: ndef.Record, pol: TokenPolicy) -> CardToken:
    """A SUN or card-number token; NdefCardError when the record holds no card number."""
    claim = _sun_claim(rec.iri, pol.sun_params) if isinstance(rec, ndef.UriRecord) else None
    if claim:
        return _sun_fields(rec.iri, pol, claim)
    card = card_from_record(rec, pol.ndef)
    return CardToken("ndef", card.value, card.verified, {"sig": card.sig} if card.sig else None)


def token_fields(uid: bytes | None, ndef_data: bytes | None,
                 pol: TokenPolicy) -> tuple[str, str, bool]:
    """(kind, value, verified) for a card, or CardRejected saying why not."""
    t = card_token(uid, ndef_data, pol)
    return t.kind, t.value, t.verified


def card_token(uid: bytes | None, ndef_data: bytes | None, pol: TokenPolicy) -> CardToken:
    """The token of a card with its proof, or CardRejected saying why not."""
    if ndef_data:
        try:
            return _from_record(first_card_record(ndef_data), pol)
        except NdefCardError as exc:
            # A card whose NDEF carries no number (a shop's plain web link) is a UID card.
            if exc.reason != "no_card" or not (uid and pol.accept_plain_uid):
                raise CardRejected(f"ndef_{exc.reason}", exc.detail) from None
    if not uid:
        raise CardRejected("no_id", "card gave neither a UID nor a card record")
    if not pol.accept_plain_uid:
        raise CardRejected("uid_not_accepted", "plain UID cards are not accepted by this program")
    return CardToken("uid", uid.hex().upper(), False)
