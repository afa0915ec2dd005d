"""A serial QR scanner (USB CDC-ACM or a UART) through pyserial: one code per line."""

from __future__ import annotations

from collections.abc import Mapping

from codes.member_qr import MAX_TEXT
from drivers.qr_input import QrInput

DEFAULT_PORT = "/dev/ttyACM0"  # what an empty qr.device means here (see its help)
LINE_END = (b"\r", b"\n")


class SerialQrReader(QrInput):
    """Reads lines ending in CR and/or LF; an over-long line is refused, not buffered forever."""

    def __init__(self, section: Mapping, name: str = "qr-serial") -> None:
        super().__init__(section, name)
        self.port = self.section["device"] or DEFAULT_PORT
        self.baud = self.section["baud"]
        self._serial = None
        self._buf = bytearray()
        self._overflow = False

    def open(self) -> None:
        try:
            import serial  # lazily: pyserial only where a serial scanner is configured
        except ImportError:
            raise OSError("serial scanner: pyserial is not installed (the 'qr' extra)") from None
        try:
            self._serial = serial.Serial(self.port, self.baud, timeout=0.2)
        except serial.SerialException as exc:
            raise OSError(f"serial scanner {self.port}: {exc}") from None
        self._buf.clear()
        self._overflow = False

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def poll(self) -> list[str | bytes]:
        import serial

        try:
            chunk = self._serial.read(max(1, self._serial.in_waiting))
        except serial.SerialException as exc:
            raise OSError(f"serial scanner {self.port}: {exc}") from None
        return self.feed(chunk)

    def feed(self, chunk: bytes) -> list[str | bytes]:
        """Complete lines in ``chunk`` (bytes; the gate decodes and judges them)."""
        lines: list[str | bytes] = []
        for byte in chunk:
            ch = bytes((byte,))
            if ch in LINE_END:
                if self._buf or self._overflow:
                    lines.append(bytes(self._buf) + (b"+" if self._overflow else b""))
                self._buf.clear()
                self._overflow = False
            elif len(self._buf) <= MAX_TEXT:
                self._buf += ch
            else:
                self._overflow = True  # keep a marker so the gate says "too long"
        return lines
