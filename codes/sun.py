"""NTAG 424 DNA Secure Unique NFC (SUN) message verification, as in NXP AN12196.

An NTAG 424 DNA tag rewrites its NDEF URL on every read: it mirrors its UID and
a read counter (encrypted as PICCData, or in plain hex) and a truncated AES-CMAC
(SDMMAC) over them. We recompute the MAC with the program's key and refuse the
tap unless it matches. Only AES mode is handled (not LRP).

Key roles (AN12196 §3.4):
- ``meta_read`` (KSDMMetaRead) decrypts the 16-byte PICCData;
- ``file_read`` (KSDMFileRead) derives the session keys: the MAC key from SV2 and,
  when the tag also encrypts part of the file (SDMENCFileData), the ENC key from SV1.
  With ``diversify`` the file key is per card, derived from ``file_read`` as the
  master key by NXP AN10922 (AES-128) over UID || ``system_id``.

Every failure raises :class:`SunError` whose ``reason`` is one of ``REASONS``.
Replay (a counter that does not rise) is the job of :class:`CounterGuard` on the
kiosk and of the ledger's own counters (ledger.proof), kept apart for that.

Shared by the kiosk (drivers.card_token verifies a tapped URL) and the ledger, which
checks the same message again from the fields the kiosk forwards (:func:`sun_proof`,
:func:`verify_sun_proof`), so a kiosk cannot claim a card it never read.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

REASONS = ("malformed", "wrong_key", "bad_mac", "replay")
PICC_TAG = 0xC7  # UID mirrored, counter mirrored, UID length 7 (AN12196 Table 3)
UID_LEN = 7
_SV1 = bytes.fromhex("C33C00010080")  # session ENC key derivation prefix
_SV2 = bytes.fromhex("3CC300010080")  # session MAC key derivation prefix
_HEX = re.compile(r"[0-9A-Fa-f]*")
log = logging.getLogger(__name__)
_MAX_URL = 4096  # an NTAG 424 DNA NDEF file is 256 bytes; anything far larger is not a tag
MAX_MAC_INPUT = 256  # the MAC input is part of that file
# The proof an op carries, by canonical name whatever the tag's parameters are called.
PROOF_FIELDS = {"picc_data": 32, "uid": 2 * 7, "ctr": 6, "cmac": 16}


class SunError(ValueError):
    """A SUN message that must not be trusted; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SunKeys:
    """AES-128 keys of one program (16 bytes each)."""

    meta_read: bytes
    file_read: bytes
    diversify: bool = False
    system_id: bytes = b""

    def __post_init__(self) -> None:
        for name in ("meta_read", "file_read"):
            if len(getattr(self, name)) != 16:
                raise ValueError(f"SUN {name} key must be 16 bytes (32 hex digits)")
        if len(self.system_id) > 21:
            raise ValueError("SUN system_id must be at most 21 bytes (AN10922 input limit)")

    @classmethod
    def from_hex(cls, meta_read: str, file_read: str, diversify: bool = False,
                 system_id: str = "") -> SunKeys:
        try:
            return cls(bytes.fromhex(meta_read), bytes.fromhex(file_read), diversify,
                       bytes.fromhex(system_id))
        except ValueError as exc:
            raise ValueError(f"SUN keys: {exc}") from None


@dataclass(frozen=True)
class SunParams:
    """Names of the URL query parameters the tag was configured to mirror into.

    ``picc`` carries encrypted PICCData; when it is absent, ``uid`` and ``ctr``
    carry the plain mirror. ``mac_input_from`` names the parameter whose value
    starts the MAC input (the tag's SDMMACInputOffset); None means the MAC is
    over an empty input (SDMMACInputOffset = SDMMACOffset, the usual setup).
    """

    picc: str = "picc_data"
    mac: str = "cmac"
    enc: str | None = None
    uid: str = "uid"
    ctr: str = "ctr"
    mac_input_from: str | None = None


@dataclass(frozen=True)
class SunResult:
    uid: bytes
    counter: int
    file_data: bytes | None = None

    @property
    def uid_hex(self) -> str:
        return self.uid.hex().upper()


# --- primitives -------------------------------------------------------------------

def _cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def _cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def _ecb_encrypt(key: bytes, block: bytes) -> bytes:
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def _cmac_subkey2(key: bytes) -> bytes:
    """K2 of RFC 4493 (the subkey for a padded last block)."""
    def dbl(b: bytes) -> bytes:
        n = int.from_bytes(b, "big") << 1
        return ((n & (2**128 - 1)) ^ (0x87 if n >> 128 else 0)).to_bytes(16, "big")
    return dbl(dbl(_ecb_encrypt(key, bytes(16))))


def diversify_an10922(master: bytes, data: bytes) -> bytes:
    """AES-128 key diversification of NXP AN10922: CMAC over 0x01 || data, always two blocks."""
    d = b"\x01" + data
    if len(d) > 32:
        raise ValueError("AN10922 diversification input longer than 31 bytes")
    if len(d) == 32:
        return _cmac(master, d)
    # Padded to 32 bytes (not 16, unlike plain CMAC) and the last block masked with K2.
    padded = d + b"\x80" + bytes(31 - len(d))
    last = bytes(a ^ b for a, b in zip(padded[16:], _cmac_subkey2(master), strict=True))
    e = Cipher(algorithms.AES(master), modes.CBC(bytes(16))).encryptor()
    return (e.update(padded[:16] + last) + e.finalize())[16:]


def session_keys(file_key: bytes, uid: bytes, counter: int) -> tuple[bytes, bytes]:
    """(SesSDMFileReadENCKey, SesSDMFileReadMACKey) of AN12196 §3.4.4 (SV1, SV2)."""
    tail = uid + counter.to_bytes(3, "little")
    return _cmac(file_key, _SV1 + tail), _cmac(file_key, _SV2 + tail)


def sdm_mac(mac_key: bytes, mac_input: bytes) -> bytes:
    """The 8-byte SDMMAC: the odd-numbered bytes of the full CMAC (AN12196 §3.4.4.2)."""
    return _cmac(mac_key, mac_input)[1::2]


def decrypt_picc(meta_key: bytes, picc: bytes) -> tuple[bytes, int]:
    """(UID, read counter) from encrypted PICCData, or SunError('wrong_key')."""
    plain = _cbc_decrypt(meta_key, bytes(16), picc)
    if plain[0] != PICC_TAG:
        raise SunError("wrong_key", "PICCData did not decrypt to a UID and counter"
                       " (wrong meta-read key, or not a SUN tag)")
    return plain[1:1 + UID_LEN], int.from_bytes(plain[8:11], "little")


def decrypt_file_data(enc_key: bytes, counter: int, data: bytes) -> bytes:
    """SDMENCFileData: AES-CBC with IV = E(enc_key, counter LE || 0^13) (AN12196 §3.4.4.1)."""
    iv = _ecb_encrypt(enc_key, counter.to_bytes(3, "little") + bytes(13))
    return _cbc_decrypt(enc_key, iv, data)


# --- URL parsing --------------------------------------------------------------------

def _query(url: str) -> tuple[dict[str, tuple[str, int]], int]:
    """Query parameters as name -> (value, offset of value in ``url``)."""
    if len(url) > _MAX_URL:
        raise SunError("malformed", f"URL longer than {_MAX_URL} characters")
    q = url.find("?")
    if q < 0:
        raise SunError("malformed", "URL has no query string")
    end = url.find("#", q)
    end = len(url) if end < 0 else end
    found: dict[str, tuple[str, int]] = {}
    pos = q + 1
    for part in url[q + 1:end].split("&"):
        name, eq, value = part.partition("=")
        if eq and name in found:
            raise SunError("malformed", f"parameter {name!r} appears twice")
        if eq:
            found[name] = (value, pos + len(name) + 1)
        pos += len(part) + 1
    return found, end


def _hex(params: dict, name: str, length: int | None) -> tuple[bytes, int]:
    if name not in params:
        raise SunError("malformed", f"parameter {name!r} missing")
    value, offset = params[name]
    ok_len = (len(value) == length) if length else (value and len(value) % 32 == 0)
    if not ok_len:
        want = f"{length} hex digits" if length else "a multiple of 32 hex digits"
        raise SunError("malformed", f"parameter {name!r} has {len(value)} characters, want {want}")
    if not _HEX.fullmatch(value):
        raise SunError("malformed", f"parameter {name!r} is not hexadecimal")
    return bytes.fromhex(value), offset


# --- verification -------------------------------------------------------------------

def _uid_counter(q: dict, keys: SunKeys, p: SunParams) -> tuple[bytes, int]:
    if p.picc in q:
        picc, _ = _hex(q, p.picc, 32)
        return decrypt_picc(keys.meta_read, picc)
    if p.uid in q or p.ctr in q:
        uid, _ = _hex(q, p.uid, 2 * UID_LEN)
        ctr, _ = _hex(q, p.ctr, 6)
        return uid, int.from_bytes(ctr, "big")  # the plain mirror shows the counter MSB first
    raise SunError("malformed", f"neither {p.picc!r} nor {p.uid!r}/{p.ctr!r} present")


def _mac_input(url: str, q: dict, p: SunParams) -> str:
    """The text the tag's MAC covers: from ``mac_input_from``'s value up to the MAC's."""
    if p.mac_input_from is None:
        return ""
    if p.mac_input_from not in q:
        raise SunError("malformed", f"parameter {p.mac_input_from!r} missing")
    start, mac_at = q[p.mac_input_from][1], q[p.mac][1]
    if start > mac_at:
        raise SunError("malformed", f"{p.mac_input_from!r} comes after {p.mac!r}")
    return url[start:mac_at]


def _check_mac(keys: SunKeys, uid: bytes, counter: int, mac: bytes, mac_input: bytes) -> bytes:
    """Raise SunError('bad_mac') unless ``mac`` is the tag's; the session ENC key."""
    file_key = keys.file_read
    if keys.diversify:
        file_key = diversify_an10922(keys.file_read, uid + keys.system_id)
    enc_key, mac_key = session_keys(file_key, uid, counter)
    if not hmac.compare_digest(sdm_mac(mac_key, mac_input), mac):
        raise SunError("bad_mac", "SDMMAC does not match (tampered URL or wrong file-read key)")
    return enc_key


def verify_sun_url(url: str, keys: SunKeys, params: SunParams | None = None) -> SunResult:
    """Check a SUN URL's MAC and return the tag's UID and read counter.

    Does not check replay: pass the result to :meth:`CounterGuard.check`.
    """
    if not isinstance(url, str):
        raise SunError("malformed", "URL is not text")
    p = params or SunParams()
    q, _ = _query(url)
    uid, counter = _uid_counter(q, keys, p)
    mac, _ = _hex(q, p.mac, 16)
    enc_key = _check_mac(keys, uid, counter, mac, _mac_input(url, q, p).encode("ascii", "replace"))
    data = None
    if p.enc is not None:
        enc, _ = _hex(q, p.enc, None)
        data = decrypt_file_data(enc_key, counter, enc)
    return SunResult(uid, counter, data)


class CounterGuard:
    """Refuses a SUN read whose counter is not higher than the last one seen for that UID.

    Thread-safe. With ``path`` the last counters survive restarts (a JSON file
    replaced atomically on every accepted read).
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self._path = Path(path) if path else None
        self._lock = threading.Lock()
        self._last: dict[str, int] = self._load()

    def _load(self) -> dict[str, int]:
        if not self._path or not self._path.exists():
            return {}
        try:
            data = json.loads(self._path.read_text())
            return {str(k): int(v) for k, v in data.items()}
        except (ValueError, AttributeError, OSError) as exc:
            raise ValueError(f"SUN counter file {self._path} unreadable: {exc}") from None

    def _save(self) -> None:
        if not self._path:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".sun-counters.")
            with os.fdopen(fd, "w") as f:
                json.dump(self._last, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path)
        except OSError as exc:
            # The counters in memory still refuse replays until the next restart.
            log.error("cannot save SUN counters to %s: %s", self._path, exc)

    def last(self, uid: bytes) -> int | None:
        with self._lock:
            return self._last.get(uid.hex().upper())

    def check(self, result: SunResult) -> SunResult:
        """Record ``result``'s counter, or raise SunError('replay') if it did not rise."""
        key = result.uid_hex
        with self._lock:
            seen = self._last.get(key)
            if seen is not None and result.counter <= seen:
                raise SunError("replay", f"read counter {result.counter} not above {seen}"
                               f" already seen for card {key}")
            self._last[key] = result.counter
            self._save()
        return result


def make_sun_url(base: str, keys: SunKeys, uid: bytes, counter: int,
                 params: SunParams | None = None, pad: bytes = bytes(5)) -> str:
    """What a tag configured like ``params`` would write (encrypted PICCData, empty MAC input).

    For simulated tags, tests and the bench; a real tag does this itself.
    """
    p = params or SunParams()
    plain = bytes([PICC_TAG]) + uid + counter.to_bytes(3, "little") + pad
    e = Cipher(algorithms.AES(keys.meta_read), modes.CBC(bytes(16))).encryptor()
    picc = (e.update(plain) + e.finalize()).hex().upper()
    file_key = keys.file_read
    if keys.diversify:
        file_key = diversify_an10922(keys.file_read, uid + keys.system_id)
    mac = sdm_mac(session_keys(file_key, uid, counter)[1], b"").hex().upper()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{p.picc}={picc}&{p.mac}={mac}"


# --- the proof a kiosk forwards to the ledger -----------------------------------------

def sun_proof(url: str, params: SunParams | None = None) -> dict[str, str]:
    """The fields of a SUN URL the ledger needs to check it again, under canonical names
    (``picc_data`` or ``uid`` + ``ctr``, ``cmac``, and ``mac_input`` when the MAC covers text).
    Call it on a URL :func:`verify_sun_url` accepted."""
    p = params or SunParams()
    q, _ = _query(url)
    names = {"picc_data": p.picc, "uid": p.uid, "ctr": p.ctr, "cmac": p.mac}
    proof = {field: q[name][0] for field, name in names.items() if name in q}
    if "picc_data" in proof:
        proof.pop("uid", None), proof.pop("ctr", None)
    if p.mac_input_from is not None:
        proof["mac_input"] = _mac_input(url, q, p)
    return proof


def verify_sun_proof(proof: dict, keys: SunKeys) -> SunResult:
    """Check forwarded SUN fields (:func:`sun_proof`) like the URL they came from; SunError
    if they do not hold. Does not check replay."""
    if not isinstance(proof, dict) or not isinstance(proof.get("mac_input", ""), str):
        raise SunError("malformed", "SUN proof is not a set of text fields")
    q = {name: (proof[name], 0) for name in PROOF_FIELDS if isinstance(proof.get(name), str)}
    names = SunParams(picc="picc_data", mac="cmac", uid="uid", ctr="ctr")
    uid, counter = _uid_counter(q, keys, names)
    mac, _ = _hex(q, "cmac", 16)
    mac_input = proof.get("mac_input", "")
    if len(mac_input) > MAX_MAC_INPUT:
        raise SunError("malformed", f"MAC input longer than {MAX_MAC_INPUT} characters")
    _check_mac(keys, uid, counter, mac, mac_input.encode("ascii", "replace"))
    return SunResult(uid, counter)
