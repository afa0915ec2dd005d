"""A private pcscd with Debian's vsmartcard-vpcd reader driver, and virtual cards for it.

pcscd 1.9.9 always puts its socket in /run/pcscd, so it is started in a mount
namespace of its own (``unshare --mount``, root only) with a temporary directory
bound over /run/pcscd; clients reach it through PCSCLITE_CSOCK_NAME. The vpcd
driver listens on the port its reader.conf entry names (and the next one) for a
virtual card, which is ours: :class:`VirtualCard` speaks the vpcd socket
protocol (2-byte big-endian length, then a 1-byte control code or an APDU).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from simulation.local_broker import stop_process

READER = "Kiosk Test PCD 00 00"
# A contactless card as PC/SC part 3 readers report it (T=1 available).
ATR = bytes.fromhex("3B8F8001804F0CA0000003060300030000000068")


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two adjacent free ports")


def can_run_pcscd() -> str | None:
    """None if a private pcscd can run here, else why not."""
    if os.geteuid() != 0:
        return "a private pcscd needs root (mount namespace over /run/pcscd)"
    for tool in ("pcscd", "unshare"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} not installed (make test installs pcscd)"
    if not Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists():
        return "vsmartcard-vpcd not installed (make test installs it)"
    return None


class Pcscd:
    """pcscd in the foreground with a private socket dir and one vpcd reader."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.run_dir = self.root / "run"
        self.conf_dir = self.root / "conf"
        self.port = free_port_pair()
        self.proc: subprocess.Popen | None = None

    @property
    def socket(self) -> str:
        return str(self.run_dir / "pcscd.comm")

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "vpcd").write_text(
            f'FRIENDLYNAME "Kiosk Test PCD"\nDEVICENAME /dev/null:0x{self.port:04X}\n'
            f"LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x{self.port:04X}\n")
        script = (f"mkdir -p /run/pcscd && mount --bind {self.run_dir} /run/pcscd"
                  f" && exec pcscd --foreground --config {self.conf_dir}")
        log = open(self.root / "pcscd.log", "ab")
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                      "sh", "-c", script], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while not self._listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pcscd did not start; see {self.root / 'pcscd.log'}")
            time.sleep(0.05)

    def _listening(self) -> bool:
        if not Path(self.socket).exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.socket)  # pcscd accepts clients once its readers are set up
                return True
        except OSError:
            return False

    def wait_card(self, present: bool, timeout: float = 15) -> None:
        """Block until pcscd itself reports the reader with (or without) a card.

        vpcd answers pcscd's presence poll with whichever card is connected, so a card
        put on right after another was lifted looks like the same card unless pcscd saw
        the reader empty in between; tests wait for that, as a hand would.
        """
        from smartcard import scard

        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        try:
            state, end = scard.SCARD_STATE_UNAWARE, time.monotonic() + timeout
            while time.monotonic() < end:
                hr, states = scard.SCardGetStatusChange(ctx, 200, [(READER, state)])
                if hr == scard.SCARD_S_SUCCESS:
                    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                    if bool(state & scard.SCARD_STATE_PRESENT) == present:
                        return
            raise TimeoutError(f"pcscd never reported the card {'on' if present else 'off'}")
        finally:
            scard.SCardReleaseContext(ctx)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
        for name in ("pcscd.comm", "pcscd.pid"):
            (self.run_dir / name).unlink(missing_ok=True)


def type2_memory(ndef_msg: bytes | None, uid: bytes = bytes(7)) -> bytes:
    """An NTAG215-like page image: UID pages, CC in page 3, the NDEF TLV from page 4."""
    head = uid[:3] + b"\x88" + uid[3:7] + bytes(4) + b"\xe1\x10\x3e\x00"
    body = b""
    if ndef_msg is not None:
        n = len(ndef_msg)
        body = (b"\x03" + (bytes([n]) if n < 0xFF else b"\xff" + n.to_bytes(2, "big"))
                + ndef_msg)
    body = b"\x01\x03\xa0\x0c\x34" + body + b"\xfe"  # a lock control TLV first, as NTAGs have
    return (head + body).ljust(16 + 0x3E * 8, b"\x00")


class VirtualCard:
    """A contactless card on the vpcd reader: connecting is putting it on, closing lifts it.

    ``ndef4`` makes it a Type 4 tag, ``pages`` a Type 2 tag (see :func:`type2_memory`).
    ``vanish_after`` closes the connection after that many APDUs (a card pulled mid-read).
    """

    def __init__(self, port: int, uid: bytes, ndef4: bytes | None = None,
                 pages: bytes | None = None, vanish_after: int | None = None) -> None:
        self.port, self.uid, self.ndef4, self.pages = port, uid, ndef4, pages
        self.vanish_after = vanish_after
        self.apdus: list[bytes] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._selected = b""
        self._app = False

    def insert(self) -> VirtualCard:
        self._removing = False
        self._connect()
        self._thread = threading.Thread(target=self._serve_until_removed, daemon=True)
        self._thread.start()
        return self

    def _connect(self) -> None:
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self._sock.settimeout(None)
        # One small message per APDU: without this, Nagle and delayed ACKs add ~40 ms each.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve_until_removed(self) -> None:
        # vpcd re-creates its listening socket when the previous card leaves, dropping a
        # connection made in that moment; a card the driver never talked to connects again.
        while True:
            talked = self._serve()
            if talked or self._removing:
                return
            time.sleep(0.05)
            try:
                self._connect()
            except OSError:
                continue

    def remove(self) -> None:
        self._removing = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._thread is not None:
            self._thread.join(5)
        self._sock = None

    def _recv(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            part = self._sock.recv(n - len(buf))
            if not part:
                raise EOFError
            # vpcd writes the length and the APDU separately; without quick ACKs its
            # second write waits for our delayed ACK, 40 ms on every APDU.
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            buf += part
        return buf

    def _send(self, data: bytes) -> None:
        self._sock.sendall(struct.pack(">H", len(data)) + data)

    def _serve(self) -> bool:
        """Answer vpcd until the connection ends; True if vpcd ever spoke to us."""
        talked = False
        try:
            while True:
                msg = self._recv(struct.unpack(">H", self._recv(2))[0])
                talked = True
                if len(msg) == 1:
                    if msg[0] == 0x04:
                        self._send(ATR)
                    continue  # 0x00 off, 0x01 on, 0x02 reset: no answer
                self.apdus.append(msg)
                if self.vanish_after is not None and len(self.apdus) > self.vanish_after:
                    self._sock.close()
                    return True
                self._send(self.answer(msg))
        except (EOFError, OSError):
            return talked

    # --- the card's side of the APDUs ---------------------------------------------

    def answer(self, apdu: bytes) -> bytes:
        cla, ins, p1, p2 = apdu[:4]
        if apdu[:4] == b"\xff\xca\x00\x00":
            return self.uid + b"\x90\x00"
        if ins == 0xA4:
            return self._select(p1, apdu[5:5 + apdu[4]] if len(apdu) > 5 else b"")
        if cla == 0x00 and ins == 0xB0:
            return self._read_file((p1 << 8) | p2, apdu[4] if len(apdu) > 4 else 256)
        if cla == 0xFF and ins == 0xB0 and self.pages is not None:
            chunk = self.pages[p2 * 4:p2 * 4 + 16]
            return chunk + b"\x90\x00" if len(chunk) == 16 else b"\x6a\x82"
        return b"\x6d\x00"

    def _select(self, p1: int, data: bytes) -> bytes:
        if p1 == 0x04:
            self._app = self.ndef4 is not None and data == bytes.fromhex("D2760000850101")
            return b"\x90\x00" if self._app else b"\x6a\x82"
        if self._app and data in (b"\xe1\x03", b"\xe1\x04"):
            self._selected = data
            return b"\x90\x00"
        return b"\x6a\x82"

    def _read_file(self, offset: int, le: int) -> bytes:
        if self._selected == b"\xe1\x03":
            # CC: length 15, v2.0, MLe 0x3B (small, so long messages take several reads).
            body = bytes.fromhex("000F20003B0034040" + "6E1040800" + "00FF")
        elif self._selected == b"\xe1\x04":
            body = len(self.ndef4).to_bytes(2, "big") + self.ndef4
        else:
            return b"\x69\x86"
        return body[offset:offset + le] + b"\x90\x00"
