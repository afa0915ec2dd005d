"""Proof the ledger checks itself. A kiosk's ``verified`` flag is only its opinion (a stolen
kiosk credential can say anything); a token counts as verified here only when its proof holds:

- ``sun``: the SUN fields the kiosk forwards (codes.sun.sun_proof), checked with the ledger's
  own SUN keys, and a read counter that rises per card (``sun_counters``, kept in the op's
  transaction). The same counter again is one tap making several ops (an enrolment, then the
  sale) only from the same kiosk within ``SAME_TAP_S``.
- ``ndef``: the card number's Ed25519 signature (codes.card_signature).
- ``qr``: the signed member code itself (codes.member_qr) for the member the token names. A qr
  token without a code is a bare member id, which no kiosk may submit: refused.

A ``uid``, or a ``sun``/``ndef`` token without proof the ledger can check, is unverified; the
program's ``allow_unverified_uid`` decides about UIDs (ledger.apply). The keys come from the
file ``ledger serve --proof-keys`` reads (docs/ledger.md).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

from codes import member_qr
from codes.card_signature import CardSignatureError, verify_card
from codes.sun import SunError, SunKeys, SunResult, verify_sun_proof
from codes.tokens import normalise
from ledger.store import LedgerStore
from mqtt.timestamps import now_iso

SAME_TAP_S = 1800  # one tap's ops (enrol, then sale) reach the ledger within this, offline or not
OP_CODE_AGE_S = 7 * 86400  # an app code in an op may be this old: the op may wait offline


class ProofRefused(ValueError):
    """The token's proof does not hold; ``reason`` is a short code for the ack."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    """A token as the ledger sees it after checking its proof."""

    kind: str
    value: str
    verified: bool
    sun: SunResult | None = None


@dataclass(frozen=True)
class ProofKeys:
    """What the ledger checks proof with; empty: no SUN or card keys, and no QR code passes."""

    sun: SunKeys | None = None
    card_keys: tuple[bytes, ...] = ()  # raw Ed25519 public keys of signed card numbers
    qr_keys: tuple[str, ...] = ()  # public keys as the kiosks' qr.keys hold them
    qr_program: str = member_qr.DEMO_PROGRAM
    qr_period: int = 30
    qr_grace: int = 30
    qr_skew: int = 15
    qr_op_age: int = OP_CODE_AGE_S

    def __post_init__(self) -> None:
        self.verifier(live=True)  # a bad key or setting fails at start, not at the first scan

    def verifier(self, live: bool) -> member_qr.Verifier:
        grace = self.qr_grace if live else max(self.qr_grace, self.qr_op_age)
        return member_qr.Verifier(self.qr_keys, self.qr_program, self.qr_period, grace,
                                  self.qr_skew)

    @classmethod
    def load(cls, path: str | Path) -> ProofKeys:
        """The keys file (TOML: [sun], [ndef], [qr]); ValueError names the file and key."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            return cls.from_dict(data)
        except OSError as exc:
            raise ValueError(f"{path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def from_dict(cls, data: dict) -> ProofKeys:
        unknown = set(data) - {"sun", "ndef", "qr"}
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(sorted(unknown))}; expected sun,"
                             " ndef, qr")
        sun, ndef_, qr = data.get("sun", {}), data.get("ndef", {}), data.get("qr", {})
        keys = None
        if sun:
            keys = SunKeys.from_hex(str(sun.get("meta_key", "")), str(sun.get("file_key", "")),
                                    bool(sun.get("diversify", False)),
                                    str(sun.get("system_id", "")))
        card_keys = tuple(_card_key(k) for k in _list(ndef_, "public_keys", "ndef"))
        return cls(keys, card_keys, tuple(_list(qr, "keys", "qr")),
                   str(qr.get("program", member_qr.DEMO_PROGRAM)), int(qr.get("period", 30)),
                   int(qr.get("grace", 30)), int(qr.get("skew", 15)),
                   int(qr.get("op_max_age_s", OP_CODE_AGE_S)))


def _list(section: dict, key: str, name: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}.{key} must be a list of strings")
    return value


def _card_key(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"ndef.public_keys: {text[:70]!r} is not 64 hex digits")
    return raw


# -- checking one token ------------------------------------------------------------------
def check_token(token: dict, keys: ProofKeys, now: float, live: bool) -> Checked:
    """The token with ``verified`` as the ledger finds it; ProofRefused for a forged proof or
    a qr token without a signed code. ``live``: a lookup (an app code must be current)."""
    kind, value, proof = token["kind"], normalise(token["kind"], token["value"]), token.get("proof")
    proof = proof or {}
    if kind == "qr":
        return Checked("qr", _qr_member(value, proof.get("code"), keys, now, live), True)
    if kind == "sun" and "cmac" in proof and keys.sun is not None:
        result = _sun(proof, keys.sun, value)
        return Checked("sun", result.uid_hex, True, result)
    if kind == "ndef" and "sig" in proof and keys.card_keys:
        _card(value, proof["sig"], keys.card_keys)
        return Checked("ndef", value, True)
    return Checked(kind, value, False)


def _qr_member(value: str, code: str | None, keys: ProofKeys, now: float, live: bool) -> str:
    if not code:
        raise ProofRefused("unverified_token", "a qr token must carry the signed member code;"
                           " a member id alone is no proof")
    if not keys.qr_keys:
        raise ProofRefused("unverified_token", "the ledger holds no QR keys to check the code"
                           " (ledger serve --proof-keys)")
    try:
        found = keys.verifier(live).check(code, now)
    except member_qr.QrRefused as exc:
        raise ProofRefused("unverified_token", f"QR code refused ({exc.reason}): {exc.detail}"
                           ) from None
    if found.member != value:
        raise ProofRefused("unverified_token", f"the code is for member {found.member!r}, the"
                           f" token names {value!r}")
    return found.member


def _sun(proof: dict, keys: SunKeys, value: str) -> SunResult:
    try:
        result = verify_sun_proof(proof, keys)
    except SunError as exc:
        raise ProofRefused("unverified_token", f"SUN message refused ({exc.reason}):"
                           f" {exc.detail}") from None
    if result.uid_hex != value:
        raise ProofRefused("unverified_token", f"SUN message is card {result.uid_hex}, the"
                           f" token names {value}")
    return result


def _card(card: str, sig: str, card_keys: tuple[bytes, ...]) -> None:
    for key in card_keys:
        try:
            verify_card(card, sig, key)
            return
        except CardSignatureError as exc:
            why = str(exc)
    raise ProofRefused("unverified_token", f"card number {card}: {why}")


# -- SUN read counters ----------------------------------------------------------------------
def check_counter(store: LedgerStore, result: SunResult, origin: tuple[str, str],
                  record: bool, now: dt.datetime | None = None) -> None:
    """ProofRefused('sun_replay') unless the read counter rose for this card (or it is the
    same tap from the same kiosk); ``record`` (an op, in its transaction) keeps it."""
    now = now or dt.datetime.now(dt.UTC)
    lock = " FOR UPDATE" if store.postgres and record else ""
    row = store.db.execute("SELECT counter, store, kiosk, seen_at FROM sun_counters WHERE uid=?"
                           + lock, (result.uid_hex,)).fetchone()
    if row is not None:
        last, where, seen = int(row[0]), (row[1], row[2]), _parse(row[3])
        same_tap = where == tuple(origin) and (now - seen).total_seconds() < SAME_TAP_S
        if result.counter < last or (result.counter == last and not same_tap):
            raise ProofRefused("sun_replay", f"read counter {result.counter} of card"
                               f" {result.uid_hex} is not above {last}, already seen")
        if result.counter == last:
            return
    if record:
        store.db.execute(
            "INSERT INTO sun_counters VALUES (?,?,?,?,?) ON CONFLICT (uid) DO UPDATE SET"
            " counter=excluded.counter, store=excluded.store, kiosk=excluded.kiosk,"
            " seen_at=excluded.seen_at", (result.uid_hex, result.counter, *origin, now_iso()))


def _parse(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
