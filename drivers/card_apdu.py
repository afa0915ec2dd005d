"""Reading a contactless card's UID and NDEF message with APDUs (PC/SC part 3 and NFC Forum).

Works over any ``transmit(apdu) -> response`` (response = data + SW1 SW2), so the
PC/SC driver and the tests' virtual card share it. No hardware library here.

- UID: GET DATA ``FF CA 00 00 00`` (PC/SC part 3 pseudo-APDU, answered by the reader).
- Type 4 tags: SELECT the NDEF application D2760000850101, the CC file E103, the NDEF
  file the CC names, then READ BINARY of NLEN and the message (NFC Forum T4T 2.0).
- Type 2 tags (NTAG, MIFARE Ultralight): READ BINARY pages ``FF B0 00 page 10``, the
  CC in page 3, then the NDEF TLV from page 4 on (NFC Forum T2T).
"""

from __future__ import annotations

from collections.abc import Callable

Transmit = Callable[[bytes], bytes]
NDEF_AID = bytes.fromhex("D2760000850101")
OK = b"\x90\x00"
MAX_NDEF = 8192


class CardIOError(Exception):
    """The card stopped answering (pulled away, or the reader failed)."""


class CardDataError(ValueError):
    """The card answered with data that does not follow the NFC Forum format."""


def _ok(transmit: Transmit, apdu: bytes) -> bytes | None:
    """Response data if the card said 90 00, else None."""
    resp = transmit(apdu)
    if len(resp) < 2:
        raise CardDataError(f"response of {len(resp)} bytes to {apdu[:4].hex()}")
    return resp[:-2] if resp[-2:] == OK else None


def read_uid(transmit: Transmit) -> bytes:
    uid = _ok(transmit, bytes.fromhex("FFCA000000"))
    if uid is None or len(uid) not in (4, 7, 8, 10):
        raise CardDataError("reader gave no UID (GET DATA FF CA refused)")
    return uid


def read_ndef(transmit: Transmit) -> bytes | None:
    """The NDEF message of a Type 4 or Type 2 tag, or None for a card without NDEF."""
    if _ok(transmit, b"\x00\xa4\x04\x00\x07" + NDEF_AID + b"\x00") is not None:
        return _read_type4(transmit)
    return _read_type2(transmit)


def _select_file(transmit: Transmit, fid: bytes) -> None:
    if _ok(transmit, b"\x00\xa4\x00\x0c\x02" + fid) is None:
        raise CardDataError(f"Type 4 tag refused SELECT of file {fid.hex().upper()}")


def _read_binary(transmit: Transmit, offset: int, length: int, chunk: int) -> bytes:
    out = b""
    while len(out) < length:
        n = min(chunk, length - len(out))
        pos = offset + len(out)
        data = _ok(transmit, bytes([0, 0xB0, pos >> 8, pos & 0xFF, n]))
        if not data:
            raise CardDataError(f"READ BINARY at {pos} refused")
        out += data[:n]
    return out


def _read_type4(transmit: Transmit) -> bytes | None:
    _select_file(transmit, b"\xe1\x03")
    cc = _read_binary(transmit, 0, 15, 15)
    mle = max(1, min(0xFF, int.from_bytes(cc[3:5], "big")))
    if cc[7] != 0x04 or cc[8] < 6:
        raise CardDataError("Type 4 CC file has no NDEF file control TLV")
    _select_file(transmit, cc[9:11])
    nlen = int.from_bytes(_read_binary(transmit, 0, 2, 2), "big")
    if nlen > min(MAX_NDEF, int.from_bytes(cc[11:13], "big")):
        raise CardDataError(f"NDEF length {nlen} larger than the file")
    return _read_binary(transmit, 2, nlen, mle) if nlen else None


def _read_pages(transmit: Transmit, page: int) -> bytes:
    data = _ok(transmit, bytes([0xFF, 0xB0, 0x00, page & 0xFF, 0x10]))
    if data is None or len(data) < 16:
        raise CardDataError(f"page read FF B0 at page {page} refused")
    return data[:16]


def _read_type2(transmit: Transmit) -> bytes | None:
    first = _ok(transmit, bytes.fromhex("FFB0000310"))
    if first is None or len(first) < 4 or first[0] != 0xE1:
        return None  # no NFC Forum CC: a card with a UID only
    area = min(first[2] * 8, MAX_NDEF)
    mem = first[4:]  # pages 4.. already read
    pos = 0

    def need(n: int) -> None:
        nonlocal mem
        while len(mem) < min(n, area):
            mem += _read_pages(transmit, 4 + len(mem) // 4)
        if n > area:
            raise CardDataError("NDEF TLV runs past the tag's data area")

    while True:
        need(pos + 1)
        tag = mem[pos]
        if tag == 0x00:
            pos += 1
            continue
        if tag == 0xFE:
            return None
        need(pos + 2)
        length, hdr = mem[pos + 1], 2
        if length == 0xFF:
            need(pos + 4)
            length, hdr = int.from_bytes(mem[pos + 2:pos + 4], "big"), 4
        need(pos + hdr + length)
        if tag == 0x03:
            return mem[pos + hdr:pos + hdr + length] or None
        pos += hdr + length
